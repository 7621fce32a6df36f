"""Property-based tests (hypothesis) of the pure parts: token decoding, the document merge, and
config parsing. Generated inputs go where the example tests cannot: every malformed token must
end in a clean `TokenFormatError` that quotes nothing of it, every JSON object another tool keeps
in the secret must come back key for key, and the config checks must accept exactly the values
an independent definition (written with string methods, not the code's regular expressions)
accepts.

Example counts are kept moderate for CI time; no deadline (timing is the benchmark's business).
"""

from __future__ import annotations

import base64
import binascii
import json
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ecr_token_rotator import aws
from ecr_token_rotator.config import parse_image_ref, parse_regions, parse_registry_ids
from ecr_token_rotator.credentials import (
    RegistryCredential,
    TokenFormatError,
    decode_authorization_token,
)
from ecr_token_rotator.document import (
    OWNED_KEYS,
    credential_from_entries,
    merge_document,
    parse_document,
    read_credential,
    registry_entries,
    serialize_document,
)
from ecr_token_rotator.errors import ConfigError, SecretError
from tests.support.host_plans import host_plan

pytestmark = pytest.mark.timeout(120)

EXAMPLES = settings(max_examples=150, deadline=None)

# ---- token decoding -------------------------------------------------------------------------

LINE_BREAKS = "\r\n"
usernames = st.text(min_size=1, max_size=20).filter(
    lambda u: not any(ch in u for ch in ":" + LINE_BREAKS)
)
passwords = st.text(min_size=1, max_size=60).filter(
    lambda p: not any(ch in p for ch in LINE_BREAKS)
)
# Passwords that cannot appear in an error message by coincidence.
marked_passwords = st.text(string.ascii_letters + string.digits, min_size=12, max_size=40).map(
    lambda p: f"§{p}"
)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@EXAMPLES
@given(username=usernames, password=passwords)
def test_every_well_formed_token_decodes_to_its_login(username: str, password: str) -> None:
    token = b64(f"{username}:{password}".encode())
    assert decode_authorization_token(token) == (username, password)


def check_clean_decoding(token: str) -> None:
    """Either a login that re-encodes to the token's bytes, or a TokenFormatError; nothing else."""
    try:
        username, password = decode_authorization_token(token)
    except TokenFormatError:
        return
    assert username
    assert password
    assert ":" not in username
    assert not any(ch in username + password for ch in LINE_BREAKS)
    assert base64.b64decode(token, validate=True) == f"{username}:{password}".encode()


@EXAMPLES
@given(st.text(max_size=80))
def test_any_text_decodes_cleanly_or_raises_token_format_error(token: str) -> None:
    check_clean_decoding(token)


@EXAMPLES
@given(st.binary(max_size=80))
def test_base64_of_any_bytes_decodes_cleanly_or_raises_token_format_error(raw: bytes) -> None:
    check_clean_decoding(b64(raw))


def malformed_tokens(password: str) -> st.SearchStrategy[str]:
    valid = b64(f"AWS:{password}".encode())
    return st.one_of(
        st.just(b64(f"AWS{password}".encode())),  # no colon
        st.just(b64(f":{password}".encode())),  # empty user
        st.just(b64(b"AWS:")),  # empty password
        st.just(b64(f"AWS:{password}\n".encode())),  # line break
        st.just(b64(f"AW\rS:{password}".encode())),
        st.just(b64(b"AWS:" + password.encode() + b"\xff\xfe")),  # not UTF-8
        st.just(b64(f"AWS:{password}".encode())[:-1]),  # truncated: padding wrong
        st.tuples(st.integers(0, len(valid)), st.sampled_from(list("!*.,;_ \t\n\u00e9"))).map(
            lambda at: valid[: at[0]] + at[1] + valid[at[0] :]  # a character base64 lacks
        ),
    )


@EXAMPLES
@given(st.data(), marked_passwords)
def test_malformed_tokens_raise_a_message_that_quotes_none_of_them(
    data: st.DataObject, password: str
) -> None:
    token = data.draw(malformed_tokens(password))
    with pytest.raises(TokenFormatError) as raised:
        decode_authorization_token(token)
    message = str(raised.value)
    assert password not in message
    assert password.encode("utf-8").hex() not in message
    assert token not in message


# ---- the document merge ---------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Other tools' documents; some reuse the function's own keys with values of any type.
existing_documents = st.dictionaries(
    st.sampled_from(OWNED_KEYS) | st.text(max_size=15), json_values, max_size=8
)
REGIONS = ("eu-central-1", "us-east-1", "ap-southeast-2")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@st.composite
def credentials(draw: st.DrawFn) -> list[RegistryCredential]:
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True))
    account = draw(st.from_regex(r"\A[0-9]{12}\Z"))
    return [
        RegistryCredential(
            region=region,
            registry_id=account,
            username=draw(usernames),
            password=draw(passwords),
            expires_at=NOW + timedelta(minutes=draw(st.integers(61, 720))),
        )
        for region in regions
    ]


def refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def canonical(value: Any) -> str:
    """Type-exact comparison: 1, 1.0 and True differ."""
    return json.dumps(value, sort_keys=False)


# How other tools write their documents: any of json.dumps's spellings.
stored_spellings = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),
        "indent": st.sampled_from([None, 0, 2]),
        "separators": st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")]),
    }
)


@EXAMPLES
@given(
    existing=existing_documents,
    spelling=stored_spellings,
    creds=credentials(),
    registry_ids=st.lists(st.from_regex(r"\A[0-9]{12}\Z"), max_size=2, unique=True),
)
def test_the_merge_keeps_every_other_member_byte_for_byte(
    existing: dict[str, Any],
    spelling: dict[str, Any],
    creds: list[RegistryCredential],
    registry_ids: list[str],
) -> None:
    text = json.dumps(existing, **spelling)
    entries = registry_entries(creds, registry_ids, host_plan(REGIONS))
    read = parse_document(text, "the stored value")
    stored = serialize_document(merge_document(read, credential_from_entries(entries)))

    document = parse_document(stored, "the stored value")

    others = [key for key in existing if key not in OWNED_KEYS]
    assert [key for key in document.values if key not in OWNED_KEYS] == others  # order kept too
    for key in others:
        assert document.texts[key] == read.texts[key]  # as the other tool wrote it
        assert document.texts[key] in text
        assert canonical(document.values[key]) == canonical(existing[key])
    published = read_credential(document.values, "the stored value")
    assert list(published.auths) == [entry.host for entry in entries]
    assert published.expires_at == min(c.expires_at for c in creds)
    assert (document.values["username"], document.values["password"]) == (
        creds[0].username,
        creds[0].password,
    )


@EXAMPLES
@given(existing=existing_documents, spelling=stored_spellings)
def test_a_stored_object_reads_as_json_loads_reads_it(
    existing: dict[str, Any], spelling: dict[str, Any]
) -> None:
    text = json.dumps(existing, **spelling)
    document = parse_document(text, "the stored value")
    assert canonical(document.values) == canonical(json.loads(text))
    assert parse_document(serialize_document(document), "again") == document


@EXAMPLES
@given(st.text(max_size=60))
def test_any_stored_text_parses_to_an_object_or_raises_secret_error(text: str) -> None:
    try:
        document = parse_document(text, "the stored value")
    except SecretError as error:
        message = str(error)
    else:
        assert canonical(document.values) == canonical(json.loads(text))
        assert parse_document(serialize_document(document), "again") == document
        return
    try:
        value = json.loads(text, parse_constant=refuse)
    except ValueError:
        pass
    else:
        assert not isinstance(value, dict), "json.loads reads an object the function refused"
    if len(text) >= 8 and not text.isascii():  # a value cannot be quoted by coincidence
        assert text not in message


# ---- config parsing -------------------------------------------------------------------------
# Independent definitions of the accepted values, with string methods instead of regexes.


def ascii_digits(part: str, lengths: range) -> bool:
    return len(part) in lengths and all(ch in string.digits for ch in part)


# Each partition's region names as (fixed leading labels, then one word, then a number), written
# out from botocore's partitions.json `regionRegex` values, e.g. ^us\-gov\-\w+\-\d+$ is
# (("us", "gov"), word, number). The function reads the patterns from botocore; this table is the
# independent statement of what they mean (the guard test below keeps the two in step).
REGION_PREFIXES = {
    "aws": {(p,) for p in ("us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx")},
    "aws-cn": {("cn",)},
    "aws-eusc": {("eusc", "de")},
    "aws-iso": {("us", "iso")},
    "aws-iso-b": {("us", "isob")},
    "aws-iso-e": {("eu", "isoe")},
    "aws-iso-f": {("us", "isof")},
    "aws-us-gov": {("us", "gov")},
}
LOWER_OR_DIGIT = string.ascii_lowercase + string.digits


def is_region(value: str) -> bool:
    *leading, word, number = value.split("-") if value.count("-") >= 2 else ["", "", ""]
    return (
        any(tuple(leading) in prefixes for prefixes in REGION_PREFIXES.values())
        and bool(word)
        and all(ch in LOWER_OR_DIGIT for ch in word)
        and bool(number)
        and all(ch in string.digits for ch in number)
    )


def is_account_id(value: str) -> bool:
    return ascii_digits(value, range(12, 13))


lower_words = st.text(string.ascii_lowercase, min_size=1, max_size=10)
# Well-formed names of every partition (the prefixes), e.g. eusc-de-north-7, us-isob-west-12.
good_regions = st.builds(
    lambda prefix, word, number: "-".join([*prefix, word, str(number)]),
    st.sampled_from(sorted(p for prefixes in REGION_PREFIXES.values() for p in prefixes)),
    st.text(LOWER_OR_DIGIT, min_size=1, max_size=10),
    st.integers(0, 99),
)
# Names of the right shape that no partition has.
foreign_regions = st.builds(
    lambda prefix, words, number: "-".join([prefix, *words, str(number)]),
    st.text(string.ascii_lowercase, min_size=2, max_size=4),
    st.lists(lower_words, min_size=1, max_size=3),
    st.integers(0, 99),
)
REGION_ALPHABET = "acdeilnoprstuwg" + "-0123456789" + "A_ .\n\t\u0661\u00e9"
region_like = st.text(REGION_ALPHABET, min_size=1, max_size=20)
# Hosts of probe images name a region the config checks separately (against ECR_REGIONS).
host_regions = st.builds(
    lambda prefix, words, number: "-".join([prefix, *words, str(number)]),
    st.text(string.ascii_lowercase, min_size=2, max_size=2),
    st.lists(lower_words, min_size=1, max_size=3),
    st.integers(0, 99),
)
good_accounts = st.text(string.digits, min_size=12, max_size=12)
account_like = st.text(string.digits + " -\n\u0661\u0e53x", min_size=10, max_size=14)


def test_the_table_covers_botocores_partitions() -> None:
    """Guards the strategies: a partition botocore adds needs its pattern in REGION_PREFIXES."""
    assert {partition["id"] for partition in aws.partitions()} == set(REGION_PREFIXES)
    for partition in aws.partitions():
        for region in partition["regions"]:
            assert is_region(region) != region.endswith("-global"), region


@EXAMPLES
@given(good_regions)
def test_generated_regions_are_accepted(region: str) -> None:
    assert parse_regions([region], None, aws.partitions()) == (region,)


@EXAMPLES
@given(
    st.one_of(
        region_like,
        foreign_regions,
        good_regions.map(lambda r: r + "\n"),
        good_regions.map(str.upper),
        good_regions.map(lambda r: r.replace("-", "_", 1)),
        st.text(max_size=20),
    )
)
def test_a_region_is_accepted_exactly_when_it_is_one(value: str) -> None:
    assume(value)
    if is_region(value):
        assert parse_regions([value], None, aws.partitions()) == (value,)
    else:
        with pytest.raises(ConfigError, match="is not an AWS region name") as raised:
            parse_regions(["eu-central-1", value], None, aws.partitions())
        assert repr(value) in str(raised.value)


@EXAMPLES
@given(st.one_of(good_accounts, account_like, good_accounts.map(lambda a: a + "\n")))
def test_an_account_id_is_accepted_exactly_when_it_is_twelve_ascii_digits(value: str) -> None:
    if is_account_id(value):
        assert parse_registry_ids([value]) == (value,)
    else:
        with pytest.raises(ConfigError, match="is not a 12-digit AWS account ID") as raised:
            parse_registry_ids([value])
        assert repr(value) in str(raised.value)


repository_components = st.builds(
    lambda first, rest: first + "".join(rest),
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8),
    st.lists(
        st.tuples(
            st.sampled_from("._-"), st.text(string.ascii_lowercase + string.digits, min_size=1)
        ).map("".join),
        max_size=2,
    ),
)
repositories = st.lists(repository_components, min_size=1, max_size=3).map("/".join)
tags = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_letters + string.digits + "_"),
    st.text(string.ascii_letters + string.digits + "._-", max_size=30),
)
digests = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
# Every endpoint type's labels (the host table decides which suffix goes with which: a check of
# the settings, not of the reference's syntax).
ENDPOINT_PREFIXES = {"dkr.ecr": "ipv4", "dkr.ecr-fips": "fips", "dkr-ecr": "dualstack"}
ENDPOINT_PREFIXES["dkr-ecr-fips"] = "dualstack-fips"
hosts = st.builds(
    lambda account, prefix, region, suffix: f"{account}.{prefix}.{region}.{suffix}",
    good_accounts,
    st.sampled_from(sorted(ENDPOINT_PREFIXES)),
    host_regions,
    st.sampled_from(["amazonaws.com", "amazonaws.com.cn", "on.aws", "on.amazonwebservices.com.cn"]),
)


@st.composite
def image_refs(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(reference, host, repository, tag or digest); a missing tag means latest."""
    host, repository = draw(hosts), draw(repositories)
    kind = draw(st.sampled_from(["tag", "digest", "none"]))
    if kind == "tag":
        tag = draw(tags)
        return f"{host}/{repository}:{tag}", host, repository, tag
    if kind == "digest":
        digest = draw(digests)
        return f"{host}/{repository}@{digest}", host, repository, digest
    return f"{host}/{repository}", host, repository, "latest"


@EXAMPLES
@given(image_refs())
def test_generated_image_references_are_accepted(parts: tuple[str, str, str, str]) -> None:
    raw, host, repository, reference = parts
    image = parse_image_ref(raw)
    assert (image.host, image.repository, image.reference) == (host, repository, reference)
    account, rest = host.split(".", 1)
    prefix = next(p for p in sorted(ENDPOINT_PREFIXES, key=len, reverse=True) if rest.startswith(p))
    assert image.registry_id == account
    assert image.region == rest.removeprefix(f"{prefix}.").split(".")[0]
    assert image.endpoint_type == ENDPOINT_PREFIXES[prefix]
    assert parse_image_ref(str(image)) == image


def breakages(raw: str, host: str, repository: str) -> st.SearchStrategy[str]:
    path = raw.removeprefix(host)
    account = host.split(".", maxsplit=1)[0]
    return st.sampled_from(
        [
            raw + "\n",  # a trailing line break
            raw + " ",
            " " + raw,
            path.removeprefix("/"),  # no registry host
            f"docker.io{path}",  # not ECR
            f"{account[:-1]}{path}",  # an 11-digit account
            host.replace(account, "\u0661" * 12, 1) + path,  # non-ASCII digits
            f"{host}/Team/{repository}:1",  # upper case in the repository
            f"{host}/{repository}//x:1",  # empty path component
            f"{host}/",  # no repository
            f"{host}/{repository}:",  # empty tag
            f"{host}/{repository}:.hidden",  # tag starting with a dot
            f"{host}/{repository}:{'t' * 129}",  # tag too long
            f"{host}/{repository}@sha256:{'a' * 63}",  # short digest
            f"{host}/{repository}@md5:{'a' * 32}",
            f"{host}/{repository}:1\n2",
        ]
    )


@EXAMPLES
@given(st.data(), image_refs())
def test_broken_image_references_are_rejected_by_name(
    data: st.DataObject, parts: tuple[str, str, str, str]
) -> None:
    raw, host, repository, _ = parts
    broken = data.draw(breakages(raw, host, repository))
    with pytest.raises(ConfigError, match="PROBE_IMAGES") as raised:
        parse_image_ref(broken)
    assert repr(broken) in str(raised.value)


def test_the_token_checks_see_what_binascii_sees() -> None:
    """Guards the strategies above: validate=True is what rejects non-alphabet characters."""
    with pytest.raises(binascii.Error):
        base64.b64decode("QVdT!OnBhc3M=", validate=True)

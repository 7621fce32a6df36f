"""The secret document: hosts, docker config, merge, parse, size, and the credential check."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ecr_token_rotator.credentials import RegistryCredential
from ecr_token_rotator.document import (
    EMPTY_DOCUMENT,
    MAX_REGISTRY_HOSTS,
    MAX_SECRET_VALUE_BYTES,
    Credential,
    Document,
    check_size,
    credential_from_entries,
    foreign_keys,
    merge_document,
    parse_document,
    read_credential,
    registry_entries,
    serialize_document,
)
from ecr_token_rotator.errors import SecretTooLargeError, UnusableValueError
from tests.support.host_plans import host_plan

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def credential(region: str, password: str, hours: int = 12) -> RegistryCredential:
    return RegistryCredential(
        region=region,
        registry_id="123456789012",
        username="AWS",
        password=password,
        expires_at=NOW + timedelta(hours=hours),
    )


EU = credential("eu-central-1", "eu-pass", hours=12)
US = credential("us-east-1", "us-pass", hours=11)
HOSTS = host_plan(["eu-central-1", "us-east-1"])


def auth(password: str) -> str:
    return base64.b64encode(f"AWS:{password}".encode()).decode()


def stored(values: dict[str, object]) -> Document:
    """A document as another tool would have stored it (json.dumps's defaults)."""
    return parse_document(json.dumps(values), "the stored value")


def test_without_registry_ids_each_region_lists_its_own_registry() -> None:
    hosts = [entry.host for entry in registry_entries([EU, US], [], HOSTS)]
    assert hosts == [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]


def test_document_fields() -> None:
    built = credential_from_entries(
        registry_entries([EU, US], ["210987654321", "123456789012"], HOSTS)
    )
    document = merge_document(stored({"team": "x", "password": "old"}), built).values

    assert document["registry"] == "210987654321.dkr.ecr.eu-central-1.amazonaws.com"
    assert (document["username"], document["password"]) == ("AWS", "eu-pass")
    assert document["expires_at"] == "2026-11-27T23:00:00Z"  # the earliest (us-east-1)
    assert document["team"] == "x"
    assert list(document) == [
        "team",
        "password",
        "registry",
        "username",
        "expires_at",
        "dockerconfigjson",
    ]
    auths = json.loads(document["dockerconfigjson"])["auths"]
    assert len(auths) == 4
    # `auth` only: what kubelet, containerd and docker read; a password beside it would double
    # every entry (see test_ten_hosts_of_real_passwords_fit_where_a_repeated_password_would_not).
    assert auths["123456789012.dkr.ecr.us-east-1.amazonaws.com"] == {"auth": auth("us-pass")}
    assert built.registry_hosts == tuple(auths)
    assert foreign_keys(merge_document(stored({"team": "x"}), built)) == {"team": "x"}


def test_the_credential_reads_back_as_it_was_built() -> None:
    built = credential_from_entries(registry_entries([EU, US], [], HOSTS))
    value = json.loads(serialize_document(merge_document(stored({"team": "x"}), built)))
    read = read_credential(value, "doc")
    assert read.expires_at == NOW + timedelta(hours=11)
    assert read.auths == built.auths
    assert read.keys == built.keys
    assert read.auths["123456789012.dkr.ecr.eu-central-1.amazonaws.com"] == auth("eu-pass")


def test_documents_of_older_versions_with_a_login_per_host_still_read() -> None:
    host = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    document = {
        "registry": host,
        "username": "AWS",
        "password": "eu-pass",
        "expires_at": "2026-11-28T00:00:00Z",
        "dockerconfigjson": json.dumps(
            {"auths": {host: {"username": "AWS", "password": "eu-pass", "auth": auth("eu-pass")}}}
        ),
    }
    assert read_credential(document, "doc").auths == {host: auth("eu-pass")}


def _swap_auth(document: dict[str, str], replacement: object) -> None:
    config = json.loads(document["dockerconfigjson"])
    for entry in config["auths"].values():
        entry["auth"] = replacement
    document["dockerconfigjson"] = json.dumps(config)


def _with_login_beside(document: dict[str, str], password: str) -> None:
    config = json.loads(document["dockerconfigjson"])
    for entry in config["auths"].values():
        entry.update(username="AWS", password=password)
    document["dockerconfigjson"] = json.dumps(config)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.pop("dockerconfigjson"), "lacks string field(s) dockerconfigjson"),
        (lambda d: d.update(expires_at="tomorrow"), "malformed"),
        (lambda d: d.update(expires_at="2026-11-27T12:00:00"), "no timezone"),
        (lambda d: d.update(dockerconfigjson="{}"), "malformed"),
        (lambda d: d.update(dockerconfigjson='{"auths": {}}'), "no auths"),
        (lambda d: d.update(registry="other.example"), "not in dockerconfigjson"),
        (lambda d: d.update(password="x"), "not the login of its registry"),
        (lambda d: _swap_auth(d, "not base64!"), "not base64"),
        (lambda d: _swap_auth(d, auth("eu-pass")[:-1]), "not base64"),
        (lambda d: _swap_auth(d, base64.b64encode(b"AWSeu-pass").decode()), "user:password"),
        (lambda d: _swap_auth(d, None), "has no auth"),
        (lambda d: _with_login_beside(d, "x"), "does not match its login"),
    ],
)
def test_inconsistent_documents_are_rejected(mutate: object, words: str) -> None:
    credential = credential_from_entries(registry_entries([EU], [], HOSTS))
    document = dict(merge_document(EMPTY_DOCUMENT, credential).values)
    mutate(document)  # type: ignore[operator]
    with pytest.raises(UnusableValueError) as raised:
        read_credential(document, "doc")
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ('{"a": NaN}', "NaN"),
        ("[]", "a list"),
        ('"x"', "a str"),
    ],
)
def test_values_that_are_not_json_objects(value: str, words: str) -> None:
    with pytest.raises(UnusableValueError) as raised:
        parse_document(value, "secret s (AWSCURRENT)")
    assert words in str(raised.value)
    assert "secret s (AWSCURRENT)" in str(raised.value)


def test_build_needs_an_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        credential_from_entries([])


# ---- the 64 KB limit -------------------------------------------------------------------------


def hosts_document(
    regions: int, accounts: int, password_length: int, others: str = '{"team": "platform"}'
) -> tuple[Document, str, Credential]:
    names = ["eu-central-1", "us-east-1", "ap-southeast-2", "us-west-2"][:regions]
    credentials = [credential(region, str(i) * password_length) for i, region in enumerate(names)]
    ids = [f"{100000000000 + n}" for n in range(accounts)]
    built = credential_from_entries(registry_entries(credentials, ids, host_plan(names)))
    document = merge_document(parse_document(others, "the stored value"), built)
    return document, serialize_document(document), built


def size_error(document: Document, serialized: str, built: Credential) -> str:
    with pytest.raises(SecretTooLargeError) as raised:
        check_size(document, serialized, built, "arn:aws:secretsmanager:eu-central-1:1:secret:s")
    return str(raised.value)


def test_the_documented_bound_fits_with_room_to_spare() -> None:
    """MAX_REGISTRY_HOSTS hosts (3 regions x 4 accounts) with 3,600-character passwords, longer
    than any ECR password seen, fit in one secret value, with room for other keys."""
    document, serialized, built = hosts_document(3, MAX_REGISTRY_HOSTS // 3, 3_600)
    assert len(built.auths) == MAX_REGISTRY_HOSTS
    assert len(serialized) < MAX_SECRET_VALUE_BYTES - 2_000
    check_size(document, serialized, built, "s")


def test_one_host_more_does_not_fit_and_the_hosts_are_named_as_the_cause() -> None:
    """The bound is tight: with 3,600-character passwords a 13th host would not fit."""
    document, serialized, built = hosts_document(1, MAX_REGISTRY_HOSTS + 1, 3_600)
    assert len(serialized) > MAX_SECRET_VALUE_BYTES

    message = size_error(document, serialized, built)

    assert f"would be {len(serialized):,} bytes" in message
    assert f"limit of {MAX_SECRET_VALUE_BYTES:,} bytes" in message
    assert f"{MAX_REGISTRY_HOSTS + 1} registry host(s)" in message
    assert f"at most {MAX_REGISTRY_HOSTS}" in message
    assert "more than the limit by themselves" in message
    assert "nothing was written" in message
    assert "1" * 100 not in message  # no password in it


def padded_to(total_bytes: int, filler: str) -> tuple[Document, str, Credential]:
    """One host and a key "notes" of `filler` characters, making the value `total_bytes` long
    (UTF-8); with a multi-byte `filler`, one ASCII character evens it out."""
    _, base, _ = hosts_document(1, 1, 3_200, '{"notes": ""}')
    room = total_bytes - len(base.encode())
    count, rest = divmod(room, len(filler.encode()))
    notes = json.dumps({"notes": filler * count + "n" * rest}, ensure_ascii=False)
    return hosts_document(1, 1, 3_200, notes)


@pytest.mark.parametrize("filler", ["n", "é", "✓"], ids=["ASCII", "2-byte", "3-byte"])
def test_a_value_of_exactly_the_limit_is_accepted_and_one_byte_more_is_refused(
    filler: str,
) -> None:
    """Secrets Manager's limit is 65,536 bytes of the value's UTF-8 encoding, limit included."""
    document, serialized, built = padded_to(MAX_SECRET_VALUE_BYTES, filler)
    assert len(serialized.encode()) == MAX_SECRET_VALUE_BYTES
    check_size(document, serialized, built, "s")

    document, serialized, built = padded_to(MAX_SECRET_VALUE_BYTES + 1, filler)
    assert len(serialized.encode()) == MAX_SECRET_VALUE_BYTES + 1
    message = size_error(document, serialized, built)
    assert f"would be {MAX_SECRET_VALUE_BYTES + 1:,} bytes" in message


def test_the_size_is_counted_in_bytes_not_characters() -> None:
    document, serialized, built = hosts_document(
        1, 1, 3_200, json.dumps({"notes": "é" * 31_000}, ensure_ascii=False)
    )
    assert len(serialized) < MAX_SECRET_VALUE_BYTES < len(serialized.encode())
    size_error(document, serialized, built)


def test_other_keys_that_take_the_room_are_named_with_their_sizes_not_the_hosts() -> None:
    others = {"team": "platform", "notes": "n" * 40_000, "runbook": "r" * 20_000, "owner": "me"}
    document, serialized, built = hosts_document(1, 2, 3_200, json.dumps(others))

    message = size_error(document, serialized, built)

    assert '"notes" (40,011 bytes), "runbook" (20,013 bytes), "team" (18 bytes)' in message
    assert "the function's five keys take" in message
    assert "2 registry host(s)" in message
    assert "Move other keys out of this secret" in message
    assert "by themselves" not in message


def test_ten_hosts_of_real_passwords_fit_where_a_repeated_password_would_not() -> None:
    """2 regions x 5 accounts with 3,200-character passwords: fits with `auth` only; with the
    password repeated beside it in every entry (the layout before) it would be over the limit."""
    _, serialized, _ = hosts_document(2, 5, 3_200)
    assert len(serialized) < MAX_SECRET_VALUE_BYTES
    document = json.loads(serialized)
    _with_login_beside(document, "2" * 3_200)
    assert len(json.dumps(document)) > MAX_SECRET_VALUE_BYTES


# ---- other writers' members, byte for byte -----------------------------------------------------

FOREIGN_TEXT = (
    '{"tëam": "Plattform-Team ✓",  "limits" : [1, 2.50, 1e400, -0, 10000000000000000000001],\n'
    '  "escaped": "\\u00fc\\ud83d\\ude00 \\"quoted\\"", "nested": {"a":  null, "b" :[ ]},'
    ' "password": "old", "empty": {}}'
)


def test_other_members_are_written_back_exactly_as_stored() -> None:
    """Non-ASCII text is not escaped, numbers keep their spelling (even 1e400, which Python
    reads as infinity), spacing inside values stays; the function's keys replace theirs."""
    document = merge_document(
        parse_document(FOREIGN_TEXT, "s"),
        credential_from_entries(registry_entries([EU], [], HOSTS)),
    )
    serialized = serialize_document(document)

    for member in (
        '"tëam": "Plattform-Team ✓"',
        '"limits" : [1, 2.50, 1e400, -0, 10000000000000000000001]',
        '"escaped": "\\u00fc\\ud83d\\ude00 \\"quoted\\""',
        '"nested": {"a":  null, "b" :[ ]}',
        '"empty": {}',
    ):
        assert member in serialized
    assert '"password": "old"' not in serialized
    assert list(document.values) == [
        "tëam",
        "limits",
        "escaped",
        "nested",
        "password",
        "empty",
        "registry",
        "username",
        "expires_at",
        "dockerconfigjson",
    ]
    again = parse_document(serialized, "again")
    assert again.values["password"] == "eu-pass"
    assert again.texts == document.texts


def test_a_document_reads_as_json_loads_reads_it() -> None:
    document = parse_document(FOREIGN_TEXT, "s")
    assert json.dumps(document.values) == json.dumps(json.loads(FOREIGN_TEXT))
    assert "Plattform" not in repr(document)  # values stay out of repr

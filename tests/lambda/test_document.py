"""The secret document: hosts, docker config, merge, parse, size, and the credential check."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ecr_token_rotator.credentials import RegistryCredential
from ecr_token_rotator.document import (
    MAX_REGISTRY_HOSTS,
    MAX_SECRET_STRING_CHARACTERS,
    Credential,
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
    document = merge_document({"team": "x", "password": "old"}, built)

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
    assert foreign_keys(document) == {"team": "x"}


def test_the_credential_reads_back_as_it_was_built() -> None:
    built = credential_from_entries(registry_entries([EU, US], [], HOSTS))
    stored = json.loads(serialize_document(merge_document({"team": "x"}, built)))
    read = read_credential(stored, "doc")
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
    document = merge_document({}, credential_from_entries(registry_entries([EU], [], HOSTS)))
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


def hosts_document(regions: int, accounts: int, password_length: int) -> tuple[str, Credential]:
    names = ["eu-central-1", "us-east-1", "ap-southeast-2", "us-west-2"][:regions]
    credentials = [credential(region, str(i) * password_length) for i, region in enumerate(names)]
    ids = [f"{100000000000 + n}" for n in range(accounts)]
    built = credential_from_entries(registry_entries(credentials, ids, host_plan(names)))
    return serialize_document(merge_document({"team": "platform"}, built)), built


def test_the_documented_bound_fits_with_room_to_spare() -> None:
    """MAX_REGISTRY_HOSTS hosts (3 regions x 4 accounts) with 3,600-character passwords, longer
    than any ECR password seen, fit in one secret value, with room for other keys."""
    serialized, built = hosts_document(3, MAX_REGISTRY_HOSTS // 3, 3_600)
    assert len(built.auths) == MAX_REGISTRY_HOSTS
    assert len(serialized) < MAX_SECRET_STRING_CHARACTERS - 2_000
    check_size(serialized, built, "s")


def test_one_host_more_does_not_fit() -> None:
    """The bound is tight: with 3,600-character passwords a 13th host would not fit."""
    serialized, built = hosts_document(1, MAX_REGISTRY_HOSTS + 1, 3_600)
    assert len(serialized) > MAX_SECRET_STRING_CHARACTERS
    with pytest.raises(SecretTooLargeError) as raised:
        check_size(serialized, built, "arn:aws:secretsmanager:eu-central-1:1:secret:s")
    message = str(raised.value)
    assert f"{len(serialized):,} characters" in message
    assert f"limit of {MAX_SECRET_STRING_CHARACTERS:,}" in message
    assert f"{MAX_REGISTRY_HOSTS + 1} registry host(s)" in message
    assert f"at most {MAX_REGISTRY_HOSTS}" in message
    assert "nothing was written" in message
    assert "1" * 100 not in message  # no password in it


def test_ten_hosts_of_real_passwords_fit_where_a_repeated_password_would_not() -> None:
    """2 regions x 5 accounts with 3,200-character passwords: fits with `auth` only; with the
    password repeated beside it in every entry (the layout before) it would be over the limit."""
    serialized, _ = hosts_document(2, 5, 3_200)
    assert len(serialized) < MAX_SECRET_STRING_CHARACTERS
    document = json.loads(serialized)
    _with_login_beside(document, "2" * 3_200)
    assert len(serialize_document(document)) > MAX_SECRET_STRING_CHARACTERS

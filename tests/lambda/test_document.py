"""The secret document: hosts, docker config, merge, parse, and the published-credential check."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ecr_token_rotator.credentials import RegistryCredential
from ecr_token_rotator.document import (
    build_document,
    parse_document,
    read_published_credential,
    registry_entries,
    serialize_document,
)
from ecr_token_rotator.errors import SecretError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def credential(region: str, password: str, hours: int = 12) -> RegistryCredential:
    return RegistryCredential(
        region=region,
        proxy_host=f"123456789012.dkr.ecr.{region}.amazonaws.com",
        username="AWS",
        password=password,
        expires_at=NOW + timedelta(hours=hours),
    )


EU = credential("eu-central-1", "eu-pass", hours=12)
US = credential("us-east-1", "us-pass", hours=11)


def test_without_registry_ids_each_region_lists_its_own_registry() -> None:
    hosts = [entry.host for entry in registry_entries([EU, US], [])]
    assert hosts == [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]


def test_document_fields() -> None:
    entries = registry_entries([EU, US], ["210987654321", "123456789012"])
    document = build_document({"team": "x", "password": "old"}, entries)

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
    us_host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert auths[us_host] == {
        "username": "AWS",
        "password": "us-pass",
        "auth": base64.b64encode(b"AWS:us-pass").decode(),
    }


def test_published_credential_reads_back_what_was_built() -> None:
    document = build_document({}, registry_entries([EU, US], []))
    published = read_published_credential(json.loads(serialize_document(document)), "doc")
    assert published.expires_at == NOW + timedelta(hours=11)
    assert (
        published.auths["123456789012.dkr.ecr.eu-central-1.amazonaws.com"]
        == base64.b64encode(b"AWS:eu-pass").decode()
    )


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.pop("dockerconfigjson"), "lacks string field(s) dockerconfigjson"),
        (lambda d: d.update(expires_at="tomorrow"), "malformed"),
        (lambda d: d.update(expires_at="2026-11-27T12:00:00"), "no timezone"),
        (lambda d: d.update(dockerconfigjson="{}"), "malformed"),
        (lambda d: d.update(registry="other.example"), "not in dockerconfigjson"),
        (
            lambda d: d.update(
                dockerconfigjson=d["dockerconfigjson"].replace(
                    base64.b64encode(b"AWS:eu-pass").decode(), base64.b64encode(b"AWS:x").decode()
                )
            ),
            "does not match its login",
        ),
    ],
)
def test_inconsistent_documents_are_rejected(mutate: object, words: str) -> None:
    document = build_document({}, registry_entries([EU], []))
    mutate(document)  # type: ignore[operator]
    with pytest.raises(SecretError) as raised:
        read_published_credential(document, "doc")
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
    with pytest.raises(SecretError) as raised:
        parse_document(value, "secret s (AWSCURRENT)")
    assert words in str(raised.value)
    assert "secret s (AWSCURRENT)" in str(raised.value)


def test_build_needs_an_entry() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_document({}, [])

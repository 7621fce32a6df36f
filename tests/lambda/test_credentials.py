"""ECR authorization data -> credential: decoding, expiry and endpoint checks."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ecr_token_rotator.credentials import (
    RegistryCredential,
    TokenExpiringError,
    TokenFormatError,
    credential_from_authorization_data,
    decode_authorization_token,
    format_timestamp,
    registry_of_proxy_endpoint,
)
from ecr_token_rotator.errors import EcrTokenError
from tests.support.timezones import local_time

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ENDPOINT = "https://123456789012.dkr.ecr.eu-central-1.amazonaws.com"
IPV4 = "{account}.dkr.ecr.eu-central-1.amazonaws.com"


def b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


def data(**overrides: object) -> dict[str, object]:
    return {
        "authorizationToken": b64("AWS:pass:with:colons"),
        "expiresAt": NOW + timedelta(hours=12),
        "proxyEndpoint": ENDPOINT,
        **overrides,
    }


def test_user_and_password_split_on_the_first_colon() -> None:
    assert decode_authorization_token(b64("AWS:a:b")) == ("AWS", "a:b")


@pytest.mark.parametrize(
    "token",
    ["", "%%%", b64("AWS"), b64(":password"), b64("AWS:"), b64(b"\xff\xfe:x"), b64("AWS:a\nb")],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(TokenFormatError):
        decode_authorization_token(token)


def credential(**overrides: object) -> RegistryCredential:
    return credential_from_authorization_data(
        "eu-central-1", data(**overrides), NOW, registry_id="123456789012"
    )


def test_credential_fields() -> None:
    credential = credential_from_authorization_data(
        "eu-central-1", data(), NOW, registry_id="123456789012"
    )
    assert credential.username == "AWS"
    assert credential.password == "pass:with:colons"
    assert credential.registry_id == "123456789012"
    assert "pass:with:colons" not in repr(credential)


def test_ecr_publics_credential_has_no_registry() -> None:
    """ECR Public's authorizationData has no proxyEndpoint; its token serves ECR Public's hosts."""
    public = {k: v for k, v in data().items() if k != "proxyEndpoint"}
    credential = credential_from_authorization_data("us-east-1", public, NOW, registry_id=None)
    assert (credential.registry_id, credential.region) == (None, "us-east-1")
    with pytest.raises(EcrTokenError, match="ECR Public returned no authorization token"):
        credential_from_authorization_data(
            "us-east-1", {**public, "authorizationToken": ""}, NOW, registry_id=None
        )


def test_the_proxy_endpoint_names_the_tokens_registry() -> None:
    assert registry_of_proxy_endpoint("eu-central-1", ENDPOINT + "/", IPV4) == "123456789012"


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("http://123456789012.dkr.ecr.eu-central-1.amazonaws.com", "https"),
        (None, "https"),
        ("https://registry.example.com", "not an ECR registry host"),
        ("https://12345678901.dkr.ecr.eu-central-1.amazonaws.com", "not an ECR registry host"),
        # another region's, endpoint type's or partition's host than the table gives
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "would write is 123456789012"),
        ("https://123456789012.dkr-ecr.eu-central-1.on.aws", "host table needs updating"),
        ("https://123456789012.dkr.ecr.eu-central-1.amazonaws.com.cn", "host table"),
    ],
)
def test_proxy_endpoints_that_are_not_the_regions_ipv4_host(endpoint: object, words: str) -> None:
    with pytest.raises(EcrTokenError) as raised:
        registry_of_proxy_endpoint("eu-central-1", endpoint, IPV4)
    assert words in str(raised.value)


def test_expiry_is_normalised_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    credential = credential_from_authorization_data(
        "eu-central-1",
        data(expiresAt=(NOW + timedelta(hours=12)).astimezone(cet)),
        NOW,
        registry_id="123456789012",
    )
    assert credential.expires_at.tzinfo is UTC
    assert format_timestamp(credential.expires_at) == "2026-11-28T00:00:00Z"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"expiresAt": NOW + timedelta(minutes=59)}, "expires at 2026-11-27T12:59:00Z"),
        ({"expiresAt": datetime(2015, 1, 1, tzinfo=UTC)}, "expires at 2015"),
        ({"expiresAt": datetime(2026, 11, 28)}, "timezone-aware"),
        ({"authorizationToken": ""}, "no authorization token"),
    ],
)
def test_unusable_authorization_data_is_rejected(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(EcrTokenError) as raised:
        credential(**overrides)
    assert words in str(raised.value)


def test_a_short_lived_token_says_when_it_expires() -> None:
    expired = datetime(2015, 1, 1, tzinfo=UTC)
    with pytest.raises(TokenExpiringError) as raised:
        credential(expiresAt=expired)
    assert raised.value.expires_at == expired


def test_timestamps_are_utc_on_a_machine_in_another_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exact string, with the machine's local time 3.5 hours behind UTC: a timestamp written
    in local time with a `Z` would read 2026-11-27T20:30:00Z."""
    with local_time(monkeypatch):
        assert format_timestamp(datetime(2026, 11, 28, 0, 0, tzinfo=UTC)) == "2026-11-28T00:00:00Z"
        credential = credential_from_authorization_data(
            "eu-central-1",
            data(expiresAt=datetime(2026, 11, 28, 0, 0, tzinfo=UTC)),
            NOW,
            registry_id="123456789012",
        )
        assert credential.expires_at.utcoffset() == timedelta(0)
        assert format_timestamp(credential.expires_at) == "2026-11-28T00:00:00Z"

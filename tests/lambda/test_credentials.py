"""ECR authorization data -> credential: decoding, expiry and endpoint checks."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ecr_token_rotator.credentials import (
    TokenFormatError,
    credential_from_authorization_data,
    decode_authorization_token,
    format_timestamp,
)
from ecr_token_rotator.errors import EcrTokenError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ENDPOINT = "https://123456789012.dkr.ecr.eu-central-1.amazonaws.com"


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


def test_credential_fields() -> None:
    credential = credential_from_authorization_data("eu-central-1", data(), NOW)
    assert credential.username == "AWS"
    assert credential.password == "pass:with:colons"
    assert credential.proxy_host == "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
    assert credential.registry_id == "123456789012"
    assert credential.host_for("210987654321") == "210987654321.dkr.ecr.eu-central-1.amazonaws.com"
    assert "pass:with:colons" not in repr(credential)


def test_expiry_is_normalised_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    credential = credential_from_authorization_data(
        "eu-central-1", data(expiresAt=(NOW + timedelta(hours=12)).astimezone(cet)), NOW
    )
    assert credential.expires_at.tzinfo is UTC
    assert format_timestamp(credential.expires_at) == "2026-11-28T00:00:00Z"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"expiresAt": NOW + timedelta(minutes=59)}, "expires at 2026-11-27T12:59:00Z"),
        ({"expiresAt": datetime(2015, 1, 1, tzinfo=UTC)}, "expires at 2015"),
        ({"expiresAt": datetime(2026, 11, 28)}, "timezone-aware"),
        ({"proxyEndpoint": "http://123456789012.dkr.ecr.eu-central-1.amazonaws.com"}, "https"),
        ({"proxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}, "not an ECR"),
        ({"proxyEndpoint": "https://registry.example.com"}, "not an ECR"),
        ({"authorizationToken": ""}, "no authorization token"),
    ],
)
def test_unusable_authorization_data_is_rejected(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(EcrTokenError) as raised:
        credential_from_authorization_data("eu-central-1", data(**overrides), NOW)
    assert words in str(raised.value)

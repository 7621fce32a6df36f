"""ECR authorization data -> registry credential (pure: no AWS calls).

`GetAuthorizationToken` returns, per region, `authorizationToken` (base64 of `AWS:<password>`),
`expiresAt` and `proxyEndpoint` (`https://<account>.dkr.ecr.<region>.<suffix>`). One region's
token works for every registry of that region the caller may pull from, on every endpoint type
(the Kubernetes ECR credential provider relies on it; the pull probe proves it for a setup).
ECR Public's `GetAuthorizationToken` returns one `authorizationData` object without
`proxyEndpoint`: its token serves ECR Public's hosts.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from .errors import EcrTokenError
from .messages import duration

# What ECR documents for a fresh token.
TOKEN_LIFETIME = timedelta(hours=12)
# A token that ends sooner than this is not worth publishing: it points at a clock problem or a
# broken response, and would expire before ESO's next refresh.
MINIMUM_TOKEN_LIFETIME = timedelta(hours=1)
ACCOUNT_ID_LENGTH = 12


class TokenFormatError(EcrTokenError):
    """The authorization token is not base64 of `user:password`."""


CLOCK_ADVICE = "check the clock of the machine running the refresh"


class TokenExpiringError(EcrTokenError):
    """The token ends less than MINIMUM_TOKEN_LIFETIME after now."""

    def __init__(self, finding: str, *, expires_at: datetime, advice: str = CLOCK_ADVICE) -> None:
        super().__init__(f"{finding}; {advice}")
        self.finding = finding  # what was wrong, without the advice
        self.expires_at = expires_at


class RegistryCredential(NamedTuple):
    """A region's registry login. `password` never appears in repr, logs or errors."""

    region: str  # the region that issued the token (ECR Public: us-east-1)
    registry_id: str | None  # the token's own registry account; None: ECR Public's token
    username: str
    password: str
    expires_at: datetime

    def __repr__(self) -> str:
        return (
            f"RegistryCredential(region={self.region!r}, registry_id={self.registry_id!r}, "
            f"username={self.username!r}, expires_at={self.expires_at!r})"
        )


def decode_authorization_token(token: str) -> tuple[str, str]:
    """Split base64(`user:password`) on the first colon; reject anything else cleanly."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except ValueError as e:  # binascii.Error and UnicodeDecodeError are ValueErrors
        # The exception text may quote input bytes, so it is not passed on (the cause is kept).
        raise TokenFormatError(
            "the ECR authorization token is not valid base64-encoded UTF-8 text"
        ) from e
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password:
        raise TokenFormatError(
            "the ECR authorization token does not decode to 'user:password' "
            "with a non-empty user and password"
        )
    if any(ch in username for ch in "\r\n") or any(ch in password for ch in "\r\n"):
        raise TokenFormatError("the ECR authorization token contains line breaks")
    return username, password


def registry_of_proxy_endpoint(region: str, proxy_endpoint: object, ipv4_template: str) -> str:
    """The account of `https://<account>.dkr.ecr.<region>.<suffix>`, which must be the IPv4
    host the function's host table gives for that account (`ipv4_template`)."""
    if not isinstance(proxy_endpoint, str) or not proxy_endpoint.startswith("https://"):
        raise EcrTokenError(f"ECR in {region} returned a proxyEndpoint that is not an https URL")
    host = proxy_endpoint.removeprefix("https://").rstrip("/")
    account = host.partition(".")[0]
    if not (len(account) == ACCOUNT_ID_LENGTH and account.isascii() and account.isdigit()):
        raise EcrTokenError(
            f"ECR in {region} returned proxyEndpoint {proxy_endpoint!r}, "
            f"which is not an ECR registry host of {region}"
        )
    expected = ipv4_template.format(account=account)
    if host != expected:
        raise EcrTokenError(
            f"ECR in {region} returned proxyEndpoint {proxy_endpoint!r}, but the {region} "
            f"registry host this function would write is {expected}: nothing was written (if AWS "
            "has moved its registries, the function's host table needs updating)"
        )
    return account


def credential_from_authorization_data(
    region: str, data: Mapping[str, Any], now: datetime, *, registry_id: str | None
) -> RegistryCredential:
    """Validate one `authorizationData` item of `region` and turn it into a credential of the
    registry `registry_id` (None: ECR Public's token, issued in us-east-1)."""
    where = "ECR Public" if registry_id is None else f"ECR in {region}"
    token = data.get("authorizationToken")
    if not isinstance(token, str) or not token:
        raise EcrTokenError(f"{where} returned no authorization token")
    username, password = decode_authorization_token(token)
    expires_at = data.get("expiresAt")
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise EcrTokenError(f"{where} returned no timezone-aware expiresAt")
    expires_at = expires_at.astimezone(UTC)
    if expires_at - now < MINIMUM_TOKEN_LIFETIME:
        raise TokenExpiringError(
            f"{where} returned a token that expires at {format_timestamp(expires_at)}, "
            f"less than {duration(MINIMUM_TOKEN_LIFETIME)} after now ({format_timestamp(now)})",
            expires_at=expires_at,
        )
    return RegistryCredential(
        region=region,
        registry_id=registry_id,
        username=username,
        password=password,
        expires_at=expires_at,
    )


@functools.lru_cache(maxsize=16)
def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second: `2026-11-27T23:17:54Z`. (Cached: a run writes
    its tokens' expiry into the document, its log and its response.)"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

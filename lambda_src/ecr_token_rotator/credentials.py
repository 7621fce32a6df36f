"""ECR authorization data -> registry credential (pure: no AWS calls).

`GetAuthorizationToken` returns, per region, `authorizationToken` (base64 of `AWS:<password>`),
`expiresAt` and `proxyEndpoint` (`https://<account>.dkr.ecr.<region>.<suffix>`). One region's
token works for every registry of that region the caller may pull from.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from .config import ECR_HOST_PATTERN
from .errors import EcrTokenError

# A fresh token lives 12 hours. One that ends sooner than this is not worth publishing: it points
# at a clock problem or a broken response, and would expire before ESO's next refresh.
MINIMUM_TOKEN_LIFETIME = timedelta(hours=1)


class TokenFormatError(EcrTokenError):
    """The authorization token is not base64 of `user:password`."""


class RegistryCredential(NamedTuple):
    """A region's registry login. `password` never appears in repr, logs or errors."""

    region: str
    proxy_host: str  # the token's own registry host, without https://
    username: str
    password: str
    expires_at: datetime

    def __repr__(self) -> str:
        return (
            f"RegistryCredential(region={self.region!r}, proxy_host={self.proxy_host!r}, "
            f"username={self.username!r}, expires_at={self.expires_at!r})"
        )

    @property
    def registry_id(self) -> str:
        return self.proxy_host.split(".", 1)[0]

    def host_for(self, registry_id: str) -> str:
        """The registry host of another account in the same region and partition."""
        return f"{registry_id}.{self.proxy_host.split('.', 1)[1]}"


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


def _proxy_host(region: str, proxy_endpoint: object) -> str:
    if not isinstance(proxy_endpoint, str) or not proxy_endpoint.startswith("https://"):
        raise EcrTokenError(f"ECR in {region} returned a proxyEndpoint that is not an https URL")
    host = proxy_endpoint.removeprefix("https://").rstrip("/")
    match = ECR_HOST_PATTERN.match(host)
    if match is None or match["region"] != region:
        raise EcrTokenError(
            f"ECR in {region} returned proxyEndpoint {proxy_endpoint!r}, "
            f"which is not an ECR registry host of {region}"
        )
    return host


def credential_from_authorization_data(
    region: str, data: Mapping[str, Any], now: datetime
) -> RegistryCredential:
    """Validate one `authorizationData` item and turn it into a credential."""
    token = data.get("authorizationToken")
    if not isinstance(token, str) or not token:
        raise EcrTokenError(f"ECR in {region} returned no authorization token")
    username, password = decode_authorization_token(token)
    expires_at = data.get("expiresAt")
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise EcrTokenError(f"ECR in {region} returned no timezone-aware expiresAt")
    expires_at = expires_at.astimezone(UTC)
    if expires_at - now < MINIMUM_TOKEN_LIFETIME:
        raise EcrTokenError(
            f"ECR in {region} returned a token that expires at {format_timestamp(expires_at)}, "
            f"less than {MINIMUM_TOKEN_LIFETIME} after now ({format_timestamp(now)}); "
            "check the clock of the machine running the refresh"
        )
    return RegistryCredential(
        region=region,
        proxy_host=_proxy_host(region, data.get("proxyEndpoint")),
        username=username,
        password=password,
        expires_at=expires_at,
    )


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second: `2026-11-27T23:17:54Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

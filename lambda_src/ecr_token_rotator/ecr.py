"""Fetch one ECR authorization token per region (tokens are regional), regions in parallel."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .credentials import RegistryCredential, credential_from_authorization_data, format_timestamp
from .errors import EcrTokenError, PermissionDeniedError, RotatorError

logger = logging.getLogger(__name__)

_THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException"}


def fetch_region_credential(region: str, now: datetime) -> RegistryCredential:
    try:
        response = aws.client("ecr", region).get_authorization_token()
    except ClientError as e:
        code = aws.error_code(e)
        if aws.is_access_denied(e):
            raise PermissionDeniedError(
                f"ECR in {region} denied ecr:GetAuthorizationToken: grant it to the function's "
                'role (the action only supports Resource "*")'
            ) from e
        if code in _THROTTLING_CODES:
            raise EcrTokenError(
                f"ECR in {region} throttled GetAuthorizationToken through "
                f"{aws.MAX_ATTEMPTS} attempts; the next scheduled run will retry"
            ) from e
        raise EcrTokenError(f"ECR GetAuthorizationToken failed in {region} with {code}") from e
    except aws.NETWORK_ERRORS as e:
        raise EcrTokenError(
            f"cannot reach ECR in {region} ({type(e).__name__}); check the network path "
            "(NAT or an ecr.api VPC endpoint in VPC mode)"
        ) from e
    except BotoCoreError as e:  # credentials missing, invalid parameters
        raise EcrTokenError(
            f"GetAuthorizationToken in {region} failed before reaching AWS: {e}"
        ) from e
    items = response.get("authorizationData") or []
    if len(items) != 1:
        raise EcrTokenError(
            f"ECR in {region} returned {len(items)} authorization entries, expected 1"
        )
    return credential_from_authorization_data(region, dict(items[0]), now)


def fetch_credentials(regions: Sequence[str], now: datetime) -> list[RegistryCredential]:
    """A credential for every region, in the given order, or an error naming each failed region.

    Nothing is returned unless every region succeeded, so a partial credential set can never be
    published.
    """
    if len(regions) == 1:
        credentials = [fetch_region_credential(regions[0], now)]
    else:
        with ThreadPoolExecutor(max_workers=len(regions)) as pool:
            futures = [pool.submit(fetch_region_credential, region, now) for region in regions]
        failures = [error for f in futures if (error := f.exception()) is not None]
        if failures:
            unexpected = [error for error in failures if not isinstance(error, RotatorError)]
            if unexpected:
                raise unexpected[0]
            if len(failures) == 1:
                raise failures[0]
            details = "; ".join(str(failure) for failure in failures)
            raise EcrTokenError(
                f"{len(failures)} of {len(regions)} regions failed: {details}"
            ) from failures[0]
        credentials = [f.result() for f in futures]
    logger.info(
        "ECR tokens fetched",
        extra={
            "event": "tokens_fetched",
            "regions": list(regions),
            "expires_at": [format_timestamp(c.expires_at) for c in credentials],
        },
    )
    return credentials

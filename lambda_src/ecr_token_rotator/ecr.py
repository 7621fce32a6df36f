"""Fetch one ECR authorization token per region (tokens are regional), all regions at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .credentials import RegistryCredential, credential_from_authorization_data, format_timestamp
from .deadline import Deadline
from .errors import EcrTokenError, PermissionDeniedError, RotatorError

logger = logging.getLogger(__name__)

_THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
ACTION = "ecr:GetAuthorizationToken"


def _call_failed(
    region: str, error: ClientError | BotoCoreError, deadline: Deadline
) -> RotatorError:
    if isinstance(error, ClientError):
        code = aws.error_code(error)
        if aws.is_access_denied(error):
            return PermissionDeniedError(
                f"ECR in {region} denied {ACTION}: grant it to the function's role "
                '(the action only supports Resource "*")',
                action=ACTION,
            )
        if code in _THROTTLING_CODES:
            return EcrTokenError(
                f"ECR in {region} throttled GetAuthorizationToken through "
                f"{deadline.policy.attempts} attempts; the next scheduled run will retry"
            )
        return EcrTokenError(f"ECR GetAuthorizationToken failed in {region} with {code}")
    if isinstance(error, aws.NETWORK_ERRORS):
        return EcrTokenError(
            f"cannot reach ECR in {region} ({type(error).__name__} after "
            f"{deadline.policy.attempts} attempt(s) of up to {deadline.policy.connect_timeout} s "
            f"to connect and {deadline.policy.read_timeout} s to answer); check the network path "
            "(NAT or an ecr.api VPC endpoint in VPC mode)"
        )
    # Credentials missing, invalid parameters.
    return EcrTokenError(f"GetAuthorizationToken in {region} failed before reaching AWS: {error}")


def fetch_region_credential(region: str, now: datetime, deadline: Deadline) -> RegistryCredential:
    step = f"{ACTION} in {region}"
    deadline.check(step)
    try:
        response = aws.client("ecr", region, deadline.policy).get_authorization_token()
    except (ClientError, BotoCoreError) as e:
        error = _call_failed(region, e, deadline)
        error.step = step
        raise error from e
    items = response.get("authorizationData") or []
    if len(items) != 1:
        raise EcrTokenError(
            f"ECR in {region} returned {len(items)} authorization entries, expected 1"
        )
    return credential_from_authorization_data(region, dict(items[0]), now)


class Fetching:
    """Token requests under way, one per region (see `start_fetching`)."""

    def __init__(self, regions: Sequence[str], futures: list[Future[RegistryCredential]]) -> None:
        self._regions = regions
        self._futures = futures

    def result(self) -> list[RegistryCredential]:
        """A credential for every region, in the given order, or an error naming each failed
        region. Nothing is returned unless every region succeeded, so a partial credential set
        can never be published."""
        failures = [error for f in self._futures if (error := f.exception()) is not None]
        errors = [error for error in failures if isinstance(error, RotatorError)]
        if len(errors) < len(failures):  # a bug, not a failed region: let it surface as it is
            raise next(error for error in failures if not isinstance(error, RotatorError))
        if len(errors) == 1:
            raise errors[0]
        if errors:
            details = "; ".join(str(error) for error in errors)
            combined = EcrTokenError(
                f"{len(errors)} of {len(self._regions)} regions failed: {details}"
            )
            combined.step = errors[0].step
            combined.denied_action = next(
                (e.denied_action for e in errors if e.denied_action), None
            )
            raise combined from errors[0]
        return [f.result() for f in self._futures]


def start_fetching(
    regions: Sequence[str], now: datetime, deadline: Deadline, pool: Executor
) -> Fetching:
    """Request every region's token at once, on `pool`."""
    return Fetching(
        regions, [pool.submit(fetch_region_credential, region, now, deadline) for region in regions]
    )


def log_fetched(regions: Sequence[str], credentials: Sequence[RegistryCredential]) -> None:
    logger.info(
        "ECR tokens fetched",
        extra={
            "event": "tokens_fetched",
            "regions": list(regions),
            "expires_at": [format_timestamp(c.expires_at) for c in credentials],
        },
    )

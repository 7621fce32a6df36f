"""Fetch one ECR authorization token per region (tokens are regional), and ECR Public's when it is
on, all at once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .credentials import (
    RegistryCredential,
    TokenExpiringError,
    credential_from_authorization_data,
    format_timestamp,
    registry_of_proxy_endpoint,
)
from .deadline import Deadline, Pending
from .endpoints import IPV4, PUBLIC_REGION, HostPlan
from .errors import EcrTokenError, PermissionDeniedError, RotatorError

if TYPE_CHECKING:
    from types_boto3_ecr import ECRClient

logger = logging.getLogger(__name__)

_THROTTLING_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException"}
ACTION = "ecr:GetAuthorizationToken"
PUBLIC_ACTION = "ecr-public:GetAuthorizationToken"
STS_ACTION = "sts:GetServiceBearerToken"  # ECR Public gets one on the caller's behalf
PUBLIC = "ECR Public"


def _denied(service: aws.Service, region: str, error: ClientError) -> PermissionDeniedError:
    if service is aws.ECR:
        return PermissionDeniedError(
            f"ECR in {region} denied {ACTION}: grant it to the function's role "
            '(the action only supports Resource "*")',
            action=ACTION,
        )
    action = STS_ACTION if "GetServiceBearerToken" in aws.error_message(error) else None
    return PermissionDeniedError(
        f"ECR Public denied {action or PUBLIC_ACTION}: grant {PUBLIC_ACTION} and "
        f'{STS_ACTION} to the function\'s role (both only support Resource "*")',
        action=action or PUBLIC_ACTION,
    )


def _call_failed(
    service: aws.Service, region: str, error: ClientError | BotoCoreError, deadline: Deadline
) -> RotatorError:
    where = f"{service.label} in {region}" if service is aws.ECR else service.label
    if isinstance(error, ClientError):
        code = aws.error_code(error)
        if aws.is_access_denied(error):
            return _denied(service, region, error)
        rejected = aws.rejected_credentials(error)
        if rejected:
            return EcrTokenError(f"{where} refused GetAuthorizationToken: {rejected}")
        if code in _THROTTLING_CODES:
            return EcrTokenError(
                f"{where} throttled GetAuthorizationToken through "
                f"{deadline.policy.attempts} attempts; the next scheduled run will retry"
            )
        message = aws.error_message(error)
        said = f": {message}" if message else ""
        return EcrTokenError(f"GetAuthorizationToken of {where} failed with {code}{said}")
    if isinstance(error, aws.NETWORK_ERRORS):
        return EcrTokenError(aws.unreachable(service, region, error, deadline.policy))
    return EcrTokenError(
        f"GetAuthorizationToken of {where} failed before reaching AWS: {aws.not_sent(error)}"
    )


def _moto_hint(error: TokenExpiringError, service: aws.Service, now: datetime) -> str | None:
    """A token that had expired before it was issued, from an endpoint of the user's own: what a
    plain moto server answers (its ECR issues tokens that expired on 2015-01-01)."""
    configured = aws.configured_endpoint(service)
    if configured is None or error.expires_at > now:
        return None
    variable, url = configured
    return (
        f"{url} (from {variable}) answered with a token that had already expired: a plain moto "
        "server always does (its ECR issues tokens that expired on 2015-01-01), and the function "
        "refuses such a token. In a clone of the project, `make moto` starts a moto server "
        "whose ECR issues fresh tokens (as `make demo`'s does: tests/support/moto_ecr.py)"
    )


def _region_step(region: str) -> str:
    return f"{ACTION} in {region}"


def _get_authorization_data(
    service: aws.Service,
    region: str,
    deadline: Deadline,
    call: Callable[[], Mapping[str, Any]],
    step: str,
) -> Mapping[str, Any]:
    try:
        return call()
    except (ClientError, BotoCoreError) as e:
        error = _call_failed(service, region, e, deadline)
        error.step = step
        raise error from e


def _checked(
    service: aws.Service, now: datetime, build: Callable[[], RegistryCredential]
) -> RegistryCredential:
    try:
        return build()
    except TokenExpiringError as e:
        hint = _moto_hint(e, service, now)
        if hint is None:
            raise
        raise TokenExpiringError(e.finding, expires_at=e.expires_at, advice=hint) from e


def fetch_region_credential(
    client: ECRClient, region: str, ipv4_template: str, now: datetime, deadline: Deadline
) -> RegistryCredential:
    """The region's token, for the registry its proxyEndpoint names (the caller's account)."""
    response = _get_authorization_data(
        aws.ECR, region, deadline, client.get_authorization_token, _region_step(region)
    )
    items = response.get("authorizationData") or []
    if len(items) != 1:
        raise EcrTokenError(
            f"ECR in {region} returned {len(items)} authorization entries, expected 1"
        )
    data = dict(items[0])
    registry_id = registry_of_proxy_endpoint(region, data.get("proxyEndpoint"), ipv4_template)
    return _checked(
        aws.ECR,
        now,
        lambda: credential_from_authorization_data(region, data, now, registry_id=registry_id),
    )


def fetch_public_credential(
    client: Any,  # noqa: ANN401 - no type stubs for ecr-public in the dev dependencies
    now: datetime,
    deadline: Deadline,
) -> RegistryCredential:
    """ECR Public's token (issued in us-east-1, for every ECR Public host)."""
    response = _get_authorization_data(
        aws.ECR_PUBLIC, PUBLIC_REGION, deadline, client.get_authorization_token, PUBLIC_ACTION
    )
    data = response.get("authorizationData")
    if not isinstance(data, Mapping):
        raise EcrTokenError("ECR Public returned no authorizationData")
    return _checked(
        aws.ECR_PUBLIC,
        now,
        lambda: credential_from_authorization_data(PUBLIC_REGION, data, now, registry_id=None),
    )


class Fetching:
    """Token requests under way, one per region and one for ECR Public (see `start_fetching`)."""

    def __init__(self, sources: Sequence[str], requests: list[Pending[RegistryCredential]]) -> None:
        self._sources = sources  # a region each, or "ECR Public"
        self._requests = requests

    def result(self) -> list[RegistryCredential]:
        """A credential for every region (in the given order, ECR Public's last), or an error
        naming each failure (a request that does not end in time is abandoned: deadline.py).
        Nothing is returned unless every token was obtained, so a partial credential set can
        never be published. Any other exception is a bug, not a failed region: it surfaces as
        it is."""
        credentials: list[RegistryCredential] = []
        errors: list[RotatorError] = []
        for request in self._requests:
            try:
                credentials.append(request.result())
            except RotatorError as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            details = "; ".join(str(error) for error in errors)
            what = (
                "token requests (regions and ECR Public)" if PUBLIC in self._sources else "regions"
            )
            combined = EcrTokenError(
                f"{len(errors)} of {len(self._sources)} {what} failed: {details}"
            )
            combined.step = errors[0].step
            combined.denied_action = next(
                (e.denied_action for e in errors if e.denied_action), None
            )
            raise combined from errors[0]
        return credentials


def start_fetching(
    regions: Sequence[str], hosts: HostPlan, now: datetime, deadline: Deadline
) -> Fetching:
    """Request every region's token, and ECR Public's when it is on, at once, each on a worker
    within the deadline (aws.start). The clients are made here: making one is CPU work (up to
    a few hundred ms on a busy machine), not a wait on the network."""
    requests = [
        aws.start(
            deadline,
            aws.ECR,
            region,
            _region_step(region),
            functools.partial(
                fetch_region_credential,
                aws.client("ecr", region, deadline.policy),
                region,
                hosts.templates[region][IPV4],
                now,
                deadline,
            ),
        )
        for region in regions
    ]
    sources = list(regions)
    if hosts.public_hosts:
        public_client = aws.client("ecr-public", PUBLIC_REGION, deadline.policy)
        fetch_public = functools.partial(fetch_public_credential, public_client, now, deadline)
        requests.append(
            aws.start(deadline, aws.ECR_PUBLIC, PUBLIC_REGION, PUBLIC_ACTION, fetch_public)
        )
        sources.append(PUBLIC)
    return Fetching(sources, requests)


def log_fetched(credentials: Sequence[RegistryCredential]) -> None:
    logger.debug(
        "ECR tokens fetched",
        extra={
            "event": "tokens_fetched",
            "regions": [c.region for c in credentials if c.registry_id is not None],
            "ecr_public": any(c.registry_id is None for c in credentials),
            "expires_at": [format_timestamp(c.expires_at) for c in credentials],
        },
    )

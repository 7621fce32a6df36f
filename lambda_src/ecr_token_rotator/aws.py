"""boto3 clients, created lazily, once per (service, region, call policy), and reused across
invocations; and what the function takes from botocore's own data and settings.

Creating a client costs ~15 ms; a warm Lambda reuses them (the call policy is derived from the
function's timeout, the same at every invocation). boto3 clients are thread-safe, but creating them
from one session is not, hence the lock. Retries use botocore's `standard` mode (bounded attempts
with jittered backoff, throttling included) instead of a home-made loop; deadline.py bounds them.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import boto3
import botocore
import botocore.loaders
from botocore.config import Config as BotocoreConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)

from . import __version__
from .messages import excerpt

if TYPE_CHECKING:
    from types_boto3_ecr import ECRClient
    from types_boto3_secretsmanager import SecretsManagerClient

    from .deadline import CallPolicy, Deadline, Pending

T = TypeVar("T")

# Endpoint unreachable, DNS, connect/read timeouts, TLS: "check the network path" errors.
NETWORK_ERRORS = (ConnectionError, HTTPClientError)
# No usable credentials on the caller's side (an SSO session that expired, a profile without keys).
CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    SSOError,
    TokenRetrievalError,
)
# AWS's answers to credentials it does not accept (unknown, expired, or from another partition).
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)
USER_AGENT = f"ecr-token-rotator/{__version__}"

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple[str, str, CallPolicy], Any] = {}


def session() -> boto3.session.Session:
    global _session  # noqa: PLW0603 - the process-wide cache is the point
    with _lock:
        if _session is None:
            _session = boto3.session.Session()
        return _session


@overload
def client(service: Literal["ecr"], region: str, policy: CallPolicy) -> ECRClient: ...
@overload
def client(
    service: Literal["secretsmanager"], region: str, policy: CallPolicy
) -> SecretsManagerClient: ...
@overload
def client(service: Literal["ecr-public"], region: str, policy: CallPolicy) -> Any: ...  # noqa: ANN401 - no type stubs for ecr-public in the dev dependencies
def client(service: str, region: str, policy: CallPolicy) -> Any:
    key = (service, region, policy)
    made = _clients.get(key)  # a warm run's case; reading a dict needs no lock
    if made is not None:
        return made
    shared = session()
    with _lock:
        if key not in _clients:
            config = BotocoreConfig(
                retries={"mode": "standard", "total_max_attempts": policy.attempts},
                connect_timeout=policy.connect_timeout,
                read_timeout=policy.read_timeout,
                user_agent_extra=USER_AGENT,
                parameter_validation=False,
            )
            _clients[key] = shared.client(service, region_name=region, config=config)  # type: ignore[call-overload]
        return _clients[key]


def reset_clients(new_session: boto3.session.Session | None = None) -> None:
    """Forget cached clients; later ones come from `new_session` (or a fresh default session).

    Tests switch credentials and endpoints between cases; tests and the benchmark hand in a
    session with botocore event hooks registered, which every client made from it inherits.
    """
    global _session  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _session = new_session


def ca_bundle() -> str | None:
    """The CA bundle botocore verifies TLS with (AWS_CA_BUNDLE, or `ca_bundle` in the profile)."""
    value = session()._session.get_config_variable("ca_bundle")
    return str(value) if value else None


@functools.cache
def partitions() -> tuple[dict[str, Any], ...]:
    """botocore's partitions (id, regionRegex, known regions, DNS suffix) in this runtime."""
    loader = botocore.loaders.create_loader()
    return tuple(loader.load_data("partitions")["partitions"])


def botocore_version() -> str:
    return str(botocore.__version__)


def error_code(error: ClientError) -> str:
    """AWS's error code; `HTTP <status>` for an answer that carries none (not AWS's: an error page
    from a proxy or a load balancer, for which botocore gives the bare status as the code)."""
    code = str(error.response.get("Error", {}).get("Code", "Unknown"))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return f"HTTP {status}" if status is not None and code == str(status) else code


def error_message(error: ClientError) -> str:
    """AWS's message, fit for an error message: where the answer was not AWS's, botocore gives its
    whole body (an HTML page) as the message, of which only a short tag-free excerpt is kept."""
    return excerpt(str(error.response.get("Error", {}).get("Message", "")))


def is_access_denied(error: ClientError) -> bool:
    """AWS's AccessDenied codes, or any HTTP 403 (whose body a proxy may have replaced)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        error_code(error) in {"AccessDeniedException", "AccessDenied"}
        or status == HTTPStatus.FORBIDDEN
    )


# ---- what to tell the operator, depending on where the code runs ----------------------------


class Service:
    """An AWS service the function calls, as messages name it (a plain class: a NamedTuple costs
    a cold start ~0.2 ms to define)."""

    __slots__ = ("endpoint_variable", "label", "vpc_endpoint")

    def __init__(self, label: str, endpoint_variable: str, vpc_endpoint: str | None) -> None:
        self.label = label
        self.endpoint_variable = endpoint_variable  # botocore's AWS_ENDPOINT_URL_<...>
        self.vpc_endpoint = vpc_endpoint  # the interface endpoint: com.amazonaws.<region>.<...>


SECRETS_MANAGER = Service("Secrets Manager", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "secretsmanager")
ECR = Service("ECR", "AWS_ENDPOINT_URL_ECR", "ecr.api")
ECR_PUBLIC = Service("ECR Public", "AWS_ENDPOINT_URL_ECR_PUBLIC", None)


def in_lambda() -> bool:
    """Lambda's runtime sets AWS_LAMBDA_FUNCTION_NAME; a machine running the CLI does not."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def configured_endpoint(service: Service) -> tuple[str, str] | None:
    """(variable, URL) when the environment points botocore at an endpoint of one's own (a local
    test server such as moto), the way botocore reads it."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return None
    for variable in (service.endpoint_variable, "AWS_ENDPOINT_URL"):
        url = os.environ.get(variable)
        if url:
            return variable, url
    return None


def network_hint(service: Service, region: str, endpoint_url: str | None) -> str:
    """What to check when `service` could not be reached, for where this code runs."""
    configured = configured_endpoint(service)
    if configured:
        variable, url = configured
        return f"{url} comes from {variable}: check that the server there is running"
    if in_lambda():
        path = (
            f"a NAT gateway or the com.amazonaws.{region}.{service.vpc_endpoint} interface endpoint"
            if service.vpc_endpoint
            else f"a NAT gateway ({service.label} has no VPC endpoint)"
        )
        return (
            f"check the function's network path: in VPC mode {path}, with security groups and "
            "DNS that let HTTPS through (or the proxy in HTTPS_PROXY)"
        )
    return (
        f"check this machine's connection to {endpoint_url or service.label} (VPN, firewall, "
        "DNS; set HTTPS_PROXY if the way out is a proxy)"
    )


def stalled(service: Service, region: str) -> str:
    """What to check when a call to `service` was abandoned: it outlasted botocore's timeouts,
    which bound neither name resolution nor trying a name's addresses one after another."""
    return (
        f"{service.label} in {region} did not answer within botocore's timeouts, which bound "
        "neither resolving the endpoint's name nor trying its addresses one after another (a "
        "resolver that does not answer, or addresses that drop connections); "
        f"{network_hint(service, region, None)}"
    )


def start(
    deadline: Deadline, service: Service, region: str, step: str, request: Callable[[], T]
) -> Pending[T]:
    """Start `request` (one AWS call with botocore's retries, e.g.
    `partial(client.get_secret_value, SecretId=...)`; the client made beforehand) on a worker,
    within `deadline` (see `Deadline.start`): `result()` raises DeadlineError naming `step`, with
    what to check, when the answer does not come in time."""
    return deadline.start(step, request, advice=functools.partial(stalled, service, region))


def call(
    deadline: Deadline, service: Service, region: str, step: str, request: Callable[[], T]
) -> T:
    """`request()` within `deadline` (`Deadline.run`: on a worker, or in the chain under way)."""
    return deadline.run(step, request, advice=functools.partial(stalled, service, region))


def unreachable(
    service: Service, region: str, error: BotoCoreError, policy: CallPolicy, call: str = ""
) -> str:
    """Why a call (`call`: " for <action> on <resource>") got no answer, and what to check."""
    endpoint_url = getattr(error, "kwargs", {}).get("endpoint_url")
    return (
        f"cannot reach {service.label}{call} in {region} ({type(error).__name__} after "
        f"{policy.attempts} attempt(s) of up to {policy.connect_timeout} s to connect and "
        f"{policy.read_timeout} s to answer); {network_hint(service, region, endpoint_url)}"
    )


def credentials_advice() -> str:
    if in_lambda():
        return "the function's credentials come from its execution role: check that it exists"
    return (
        "set AWS_PROFILE (after `aws sso login` for an SSO profile), or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY; against a local test server such as moto any non-empty values do"
    )


def not_sent(error: BotoCoreError) -> str:
    """Why a call failed before reaching AWS (no credentials, an expired SSO session, ...)."""
    if isinstance(error, CREDENTIAL_ERRORS):
        return f"{error}: {credentials_advice()}"
    return str(error)


def rejected_credentials(error: ClientError) -> str | None:
    """Advice when AWS refused the caller's credentials themselves, else None."""
    code = error_code(error)
    if code not in REJECTED_CREDENTIAL_CODES:
        return None
    return (
        f"AWS did not accept the credentials ({code}: unknown, expired, or of another "
        f"partition): {credentials_advice()}"
    )

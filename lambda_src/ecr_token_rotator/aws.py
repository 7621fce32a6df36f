"""boto3 clients, created lazily, once per (service, region, call policy), and reused across
invocations; and what the function takes from botocore's own data and settings.

Creating a client costs ~15 ms; a warm Lambda reuses them (the call policy is derived from the
function's timeout, the same at every invocation). boto3 clients are thread-safe, but creating them
from one session is not, hence the lock. Retries use botocore's `standard` mode (bounded attempts
with jittered backoff, throttling included) instead of a home-made loop; deadline.py bounds them.
"""

from __future__ import annotations

import functools
import threading
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
import botocore
import botocore.loaders
from botocore.config import Config as BotocoreConfig
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from . import __version__

if TYPE_CHECKING:
    from types_boto3_ecr import ECRClient
    from types_boto3_secretsmanager import SecretsManagerClient

    from .deadline import CallPolicy

# Endpoint unreachable, DNS, connect/read timeouts, TLS: "check the network path" errors.
NETWORK_ERRORS = (ConnectionError, HTTPClientError)
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
def client(service: str, region: str, policy: CallPolicy) -> Any:
    key = (service, region, policy)
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
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def is_access_denied(error: ClientError) -> bool:
    """AWS's AccessDenied codes, or any HTTP 403 (whose body a proxy may have replaced)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        error_code(error) in {"AccessDeniedException", "AccessDenied"}
        or status == HTTPStatus.FORBIDDEN
    )

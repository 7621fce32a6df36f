"""boto3 clients: created lazily, once per (service, region), and reused across invocations.

Creating a client costs ~15 ms; a warm Lambda reuses them. boto3 clients are thread-safe, but
creating them from one session is not, hence the lock. Retries use botocore's `standard` mode
(bounded attempts with jittered backoff, throttling included) instead of a home-made loop.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from . import __version__

if TYPE_CHECKING:
    from types_boto3_ecr import ECRClient
    from types_boto3_secretsmanager import SecretsManagerClient

# Endpoint unreachable, DNS, connect/read timeouts, TLS: "check the network path" errors.
NETWORK_ERRORS = (ConnectionError, HTTPClientError)

MAX_ATTEMPTS = 4  # first try + 3 retries; bounded so a run ends well inside the Lambda timeout

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra=f"ecr-token-rotator/{__version__}",
)

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple[str, str], Any] = {}


@overload
def client(service: Literal["ecr"], region: str) -> ECRClient: ...
@overload
def client(service: Literal["secretsmanager"], region: str) -> SecretsManagerClient: ...
def client(service: str, region: str) -> Any:
    global _session  # noqa: PLW0603 - the process-wide cache is the point
    key = (service, region)
    with _lock:
        if key not in _clients:
            if _session is None:
                _session = boto3.session.Session()
            _clients[key] = _session.client(service, region_name=region, config=CLIENT_CONFIG)  # type: ignore[call-overload]
        return _clients[key]


def reset_clients() -> None:
    """Forget cached clients (tests switch credentials and endpoints between cases)."""
    global _session  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _session = None


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def is_access_denied(error: ClientError) -> bool:
    """AWS's AccessDenied codes, or any HTTP 403 (whose body a proxy may have replaced)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        error_code(error) in {"AccessDeniedException", "AccessDenied"}
        or status == HTTPStatus.FORBIDDEN
    )

"""Make an AWS call fail the way AWS would, on the function's own clients.

Hooks are registered on the session the function's clients come from (`on_function_calls`), and
the cached clients are dropped, so every client the function makes from then on carries them
(botocore copies a session's event hooks into each client it creates); a hook for one region
ignores the others.

Two ways in, because moto sees every request that reaches botocore's `before-send` event:
- `inject_error` answers at `before-call`, so the request never reaches moto (no side effect,
  e.g. a denied PutSecretValue really writes nothing) and botocore raises the error at once, as
  it does for errors it never retries (AccessDenied, KMS, not found).
- `inject_retryable_error` answers at `before-send` with an HTTP error response, so botocore's
  own retry mode handles it (throttling). Moto still processes the request, so use it only on
  operations without side effects, such as GetAuthorizationToken.
"""

from __future__ import annotations

import json
import re
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from ecr_token_rotator import aws

# botocore's event names use the service id, not the client name.
EVENT_SERVICE = {"ecr": "ecr", "secretsmanager": "secrets-manager"}
# The region of a signed request, from its SigV4 credential scope.
_SCOPE_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class InjectedFault:
    """Counts the calls (botocore's retries included) the fault answered."""

    calls: int = 0


def _error_response(url: str, code: str, message: str, status: int) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fault"}
    return AWSResponse(url, status, headers, _RawBody(body))


# What a proxy or load balancer in the way answers (not AWS's JSON): a page of several KB.
ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title>"
    "<style>body { font-family: sans-serif; }</style></head><body>"
    "<h1>Internal Server Error</h1><p>The proxy could not reach the upstream server &amp; gave "
    "up.</p>" + "<p>Reference: a1b2c3d4e5f6, please contact the network team.</p>" * 80 + "<hr>"
    "<address>proxy.corp.example</address><script>console.log('trace')</script></body></html>"
).encode()


def inject_error_page(
    service: str, region: str, operation: str, *, status: int = 500, page: bytes = ERROR_PAGE
) -> InjectedFault:
    """Every `operation` call answered (through botocore's retries, and its own parsing) with an
    HTML error page instead of AWS's JSON. Answered at `before-send`, as `inject_retryable_error`:
    only for operations without side effects."""
    fault = InjectedFault()

    def answer(request: Any, **_: Any) -> AWSResponse:
        fault.calls += 1
        headers = {"Content-Type": "text/html", "Content-Length": str(len(page))}
        return AWSResponse(request.url, status, headers, _RawBody(page))

    _register(service, region, "before-send", operation, answer)
    return fault


def skip_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's backoff sleeps instead of sleeping (the retries themselves still run)."""
    sleeps: list[float] = []
    no_wait = types.SimpleNamespace(**{**vars(time), "sleep": sleeps.append})
    monkeypatch.setattr(botocore.endpoint, "time", no_wait)
    return sleeps


def request_region(**kwargs: Any) -> str | None:
    """The region of the call a botocore event is about (before-call, before-send, after-call)."""
    signer = kwargs.get("request_signer")
    if signer is not None:
        return str(signer.region_name)
    request = kwargs.get("request")
    if request is not None:
        authorization = request.headers.get("Authorization", "")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("latin-1")
        scope = _SCOPE_REGION.search(authorization)
        return scope["region"] if scope else None
    return None


def on_function_calls(
    event: str, handler: Callable[..., Any], *, region: str | None = None
) -> None:
    """Register `handler` for botocore `event` (e.g. "after-call.secrets-manager") on every
    client the function makes from now on; with `region`, only for calls to that region."""

    def in_region(**kwargs: Any) -> Any:
        if region is not None and request_region(**kwargs) != region:
            return None
        return handler(**kwargs)

    session = aws.session()
    session.events.register(event, in_region)
    aws.reset_clients(session)


def _register(service: str, region: str, event: str, operation: str, handler: Any) -> None:
    on_function_calls(f"{event}.{EVENT_SERVICE[service]}.{operation}", handler, region=region)


def inject_error(
    service: str,
    region: str,
    operation: str,
    code: str,
    *,
    message: str = "injected by the test",
    status: int = 400,
) -> InjectedFault:
    """Every `operation` call of the function's `service` client in `region` fails with `code`."""
    fault = InjectedFault()

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        fault.calls += 1
        return error_answer(code, message, status)

    _register(service, region, "before-call", operation, answer)
    return fault


def error_answer(
    code: str, message: str = "injected by the test", status: int = 400
) -> tuple[AWSResponse, dict[str, Any]]:
    """What a `before-call` hook returns to answer a call with an AWS error (never sent)."""
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault"},
    }
    return _error_response("https://fault.invalid/", code, message, status), parsed


def denial(operation: str) -> tuple[AWSResponse, dict[str, Any]]:
    """AccessDeniedException for `operation`, as AWS words it for a role without the action."""
    message = f"User is not authorized to perform {operation}"
    return error_answer("AccessDeniedException", message, 400)


def inject_retryable_error(
    service: str,
    region: str,
    operation: str,
    code: str,
    *,
    status: int = 400,
    times: int | None = None,
) -> InjectedFault:
    """Like `inject_error`, but through botocore's retry loop (see the module docstring); with
    `times`, only the first `times` requests. Moto still applies each request it answers: on an
    operation with side effects this is an answer lost after AWS applied the request."""
    fault = InjectedFault()

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if times is not None and fault.calls >= times:
            return None
        fault.calls += 1
        return _error_response(request.url, code, "injected by the test", status)

    _register(service, region, "before-send", operation, answer)
    return fault


@dataclass
class Once:
    """A hook that runs `action` the first time it fires and counts every time."""

    action: Callable[..., Any]
    calls: int = 0

    def __call__(self, **kwargs: Any) -> None:
        self.calls += 1
        if self.calls == 1:
            self.action(**kwargs)


def once(action: Callable[..., Any]) -> Once:
    return Once(action)


@dataclass
class NthCalls:
    """Answers the function's n-th calls (1-based) of one operation with an AWS error."""

    calls: tuple[int, ...]
    code: str = "InternalServiceError"
    seen: int = 0
    failed: list[int] = field(default_factory=list)

    def hook(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.seen += 1
        if self.seen not in self.calls:
            return None
        self.failed.append(self.seen)
        return error_answer(self.code, status=500 if self.code == "InternalServiceError" else 400)


def fail_calls(operation: str, *calls: int, code: str = "InternalServiceError") -> NthCalls:
    """The function's `calls`-th Secrets Manager `operation` calls fail with `code`, answered at
    `before-call` (never sent, so nothing happens on the server's side, and not retried)."""
    failures = NthCalls(calls, code)
    on_function_calls(f"before-call.secrets-manager.{operation}", failures.hook)
    return failures

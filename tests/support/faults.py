"""Make an AWS call fail the way AWS would, on the function's own cached client.

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
import time
import types
from dataclasses import dataclass
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse

from ecr_token_rotator import aws

_EVENT_SERVICE = {"ecr": "ecr", "secretsmanager": "secrets-manager"}


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


def skip_retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's backoff sleeps instead of sleeping (the retries themselves still run)."""
    sleeps: list[float] = []
    no_wait = types.SimpleNamespace(**{**vars(time), "sleep": sleeps.append})
    monkeypatch.setattr(botocore.endpoint, "time", no_wait)
    return sleeps


def _register(service: str, region: str, event: str, operation: str, handler: Any) -> None:
    events = aws.client(service, region).meta.events  # type: ignore[call-overload]
    events.register(f"{event}.{_EVENT_SERVICE[service]}.{operation}", handler)


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
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "fault"},
        }
        return _error_response("https://fault.invalid/", code, message, status), parsed

    _register(service, region, "before-call", operation, answer)
    return fault


def inject_retryable_error(
    service: str, region: str, operation: str, code: str, *, status: int = 400
) -> InjectedFault:
    """Like `inject_error`, but through botocore's retry loop (see the module docstring)."""
    fault = InjectedFault()

    def answer(request: Any, **_: Any) -> AWSResponse:
        fault.calls += 1
        return _error_response(request.url, code, "injected by the test", status)

    _register(service, region, "before-send", operation, answer)
    return fault

"""Make an AWS call fail the way AWS would, on the function's own cached client.

A `before-send` handler answers the HTTP request instead of moto, with an AWS JSON-protocol
error (ECR and Secrets Manager both speak it), so botocore parses and retries it exactly as it
would a real error response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from ecr_token_rotator import aws


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class InjectedFault:
    """Counts the requests the fault answered (botocore retries included)."""

    calls: int = 0


def error_response(url: str, code: str, message: str, status: int) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "fault"}
    return AWSResponse(url, status, headers, _RawBody(body))


def inject_error(
    service: str,
    region: str,
    operation: str,
    code: str,
    message: str = "injected by the test",
    status: int = 400,
) -> InjectedFault:
    """Answer every `operation` call of the cached `service` client in `region` with an error."""
    fault = InjectedFault()

    def answer(request: Any, **_: Any) -> AWSResponse:
        fault.calls += 1
        return error_response(request.url, code, message, status)

    aws.client(service, region).meta.events.register(  # type: ignore[call-overload]
        f"before-send.{_event_service(service)}.{operation}", answer
    )
    return fault


def inject(
    service: str, region: str, operation: str, action: Callable[..., AWSResponse | None]
) -> None:
    """Register any before-send handler (return None to let the request through)."""
    aws.client(service, region).meta.events.register(  # type: ignore[call-overload]
        f"before-send.{_event_service(service)}.{operation}", action
    )


def _event_service(service: str) -> str:
    return {"ecr": "ecr", "secretsmanager": "secrets-manager"}[service]

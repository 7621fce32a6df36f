"""One region of several fails: nothing is written, and the error names the region.

The regions' tokens are fetched concurrently; the healthy regions answer (their tokens are issued
and thrown away) while one region fails in one of three ways, each through the real HTTP path:
- AccessDenied: the server answers that region's GetAuthorizationToken with the error;
- throttling: the server answers ThrottlingException every time, botocore's `standard` retry mode
  tries MAX_ATTEMPTS times (backoff recorded, not slept) and gives up;
- endpoint unreachable: that region's ECR requests go to a loopback port that is bound but not
  listening, so every connection is refused (botocore retries those too).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ecr_token_rotator.errors import EcrTokenError, PermissionDeniedError, RotatorError
from tests.fault.checks import version_ids
from tests.fault.conftest import FaultLab
from tests.support.failures import DEFAULT_POLICY, SEED_DOCUMENT
from tests.support.faults import EVENT_SERVICE, on_function_calls
from tests.support.killable_server import KillableMotoServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

HEALTHY = ("eu-central-1", "ap-southeast-2")
FAILING = "us-east-1"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (nobody else gets it), never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def unreachable(region: str, port: int) -> None:
    """Send the function's ECR requests in `region` to `port` (and nowhere else)."""

    def redirect(request: Any, **_: Any) -> None:
        request.url = urlunsplit(urlsplit(request.url)._replace(netloc=f"127.0.0.1:{port}"))

    on_function_calls(
        f"before-send.{EVENT_SERVICE['ecr']}.GetAuthorizationToken", redirect, region=region
    )


@dataclass(frozen=True)
class RegionFault:
    name: str
    arrange: Callable[[KillableMotoServer, str, int], Callable[[list[float]], None]]
    error: type[RotatorError]
    message: tuple[str, ...]


def _denied(server: KillableMotoServer, region: str, port: int) -> Callable[[list[float]], None]:
    rule = server.answer_error("GetAuthorizationToken", "AccessDeniedException", region=region)

    def not_retried(sleeps: list[float]) -> None:
        assert rule.answered == 1
        assert sleeps == []

    return not_retried


def _throttled(server: KillableMotoServer, region: str, port: int) -> Callable[[list[float]], None]:
    rule = server.answer_error("GetAuthorizationToken", "ThrottlingException", region=region)

    def retried_then_stopped(sleeps: list[float]) -> None:
        assert rule.answered == DEFAULT_POLICY.attempts
        assert len(sleeps) == DEFAULT_POLICY.attempts - 1

    return retried_then_stopped


def _unreachable(
    server: KillableMotoServer, region: str, port: int
) -> Callable[[list[float]], None]:
    unreachable(region, port)

    def retried_then_stopped(sleeps: list[float]) -> None:
        assert len(sleeps) == DEFAULT_POLICY.attempts - 1

    return retried_then_stopped


FAULTS = (
    RegionFault(
        "AccessDenied",
        _denied,
        PermissionDeniedError,
        ("ECR in us-east-1 denied ecr:GetAuthorizationToken",),
    ),
    RegionFault(
        "throttling",
        _throttled,
        EcrTokenError,
        ("ECR in us-east-1 throttled", f"{DEFAULT_POLICY.attempts} attempts"),
    ),
    RegionFault(
        "endpoint unreachable",
        _unreachable,
        EcrTokenError,
        ("cannot reach ECR in us-east-1", "EndpointConnectionError"),
    ),
)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_one_failing_region_blocks_the_write_and_is_named(
    lab: FaultLab,
    closed_port: int,
    fault: RegionFault,
) -> None:
    arn = lab.create_secret(value=SEED_DOCUMENT)
    lab.configure(SECRET_ID=arn, ECR_REGIONS=",".join((HEALTHY[0], FAILING, HEALTHY[1])))
    before, versions_before = lab.snapshot(arn), version_ids(lab, arn)
    check_retries = fault.arrange(lab.server, FAILING, closed_port)

    with lab.exposure.watching(), pytest.raises(fault.error) as raised:
        lab.invoke()

    message = str(raised.value)
    for words in fault.message:
        assert words in message
    assert not any(region in message for region in HEALTHY)
    check_retries(lab.retry_sleeps)
    assert len(lab.issued.passwords) == len(HEALTHY)  # the healthy regions' tokens: discarded
    assert lab.snapshot(arn) == before
    assert version_ids(lab, arn) == versions_before
    assert lab.server.requests["PutSecretValue"] == 0


def test_several_failing_regions_are_each_named(
    lab: FaultLab,
    closed_port: int,
) -> None:
    arn = lab.create_secret(value=SEED_DOCUMENT)
    lab.configure(SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2,us-west-2")
    before = lab.snapshot(arn)
    _denied(lab.server, "us-east-1", closed_port)
    _throttled(lab.server, "ap-southeast-2", closed_port)
    _unreachable(lab.server, "us-west-2", closed_port)

    with lab.exposure.watching(), pytest.raises(EcrTokenError) as raised:
        lab.invoke()

    message = str(raised.value)
    assert message.startswith("3 of 4 regions failed: ")
    assert "ECR in us-east-1 denied ecr:GetAuthorizationToken" in message
    assert "ECR in ap-southeast-2 throttled" in message
    assert "cannot reach ECR in us-west-2" in message
    assert "eu-central-1" not in message
    assert lab.snapshot(arn) == before
    assert lab.server.requests["PutSecretValue"] == 0

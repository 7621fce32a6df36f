"""Terraform's apply-time invocation (`{"invoked_by": "terraform-apply"}`) waits out IAM
propagation: AccessDenied from any step of the refresh is retried with backoff while the
invocation's deadline allows, each wait logged; every other event fails at once.

Time is simulated: the deadline's clock and sleep are replaced, so the waits cost nothing and
"the deadline" is exact.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecr_token_rotator import deadline as deadline_module
from ecr_token_rotator import handler
from ecr_token_rotator.errors import PermissionDeniedError, ProbeError
from ecr_token_rotator.events import TERRAFORM_APPLY_EVENT
from ecr_token_rotator.refresh import MAX_IAM_WAIT_SECONDS
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import version_ids
from tests.support.failures import HOST, SEED_DOCUMENT, SEED_MATERIAL
from tests.support.faults import denial, on_function_calls
from tests.support.redaction import leaks, record_texts
from tests.support.secrets_manager_model import RotationService

INVOCATION_SECONDS = 60.0


@dataclass
class Clock:
    """monotonic() and sleep() of the deadline module: sleeping moves the time on."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Context:
    function_name = "ecr-token-rotator"

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._end = clock.now + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._clock.now) * 1000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    simulated = Clock()
    monkeypatch.setattr(deadline_module, "monotonic", simulated.monotonic)
    monkeypatch.setattr(deadline_module, "sleep", simulated.sleep)
    return simulated


@dataclass
class Denials:
    """The first `count` AWS calls of the function that match `operations` are denied."""

    count: int
    operations: tuple[str, ...] = ()  # empty: any operation
    denied: list[str] = field(default_factory=list)

    def hook(self, model: Any, **_: Any) -> Any:
        if self.operations and model.name not in self.operations:
            return None
        if len(self.denied) >= self.count:
            return None
        self.denied.append(model.name)
        return denial(model.name)


def deny(count: int, *operations: str) -> Denials:
    denials = Denials(count, operations)
    on_function_calls("before-call", denials.hook)
    return denials


def invoke(clock: Clock, event: object) -> dict[str, Any]:
    return handler.lambda_handler(event, Context(clock, INVOCATION_SECONDS))


def waits(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "iam_propagation_wait"]


@pytest.fixture
def secret(harness: Harness) -> str:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    return arn


# (the denied operation, how many of its calls are denied, the action the waits name)
PROPAGATING = [
    ("GetSecretValue", 3, "secretsmanager:GetSecretValue"),
    ("GetAuthorizationToken", 2, "ecr:GetAuthorizationToken"),
    ("PutSecretValue", 4, "secretsmanager:PutSecretValue"),
    ("UpdateSecretVersionStage", 1, "secretsmanager:UpdateSecretVersionStage"),
]


@pytest.mark.parametrize("case", PROPAGATING, ids=[operation for operation, _, _ in PROPAGATING])
def test_the_apply_invocation_waits_until_access_is_granted(
    harness: Harness,
    secret: str,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, int, str],
) -> None:
    operation, count, action = case
    caplog.set_level(logging.DEBUG)
    denials = deny(count, operation)
    versions_before = version_ids(harness, secret)

    result = invoke(clock, dict(TERRAFORM_APPLY_EVENT))

    assert denials.denied == [operation] * count
    assert result["published"] is True
    assert harness.snapshot(secret).current_version_id == result["version_id"]
    # One version, whatever the attempts: an attempt denied after its write (the move) leaves its
    # version to the next, which only moves AWSCURRENT to it.
    assert version_ids(harness, secret) - versions_before == {result["version_id"]}
    first_writer = 0 if operation == "UpdateSecretVersionStage" else -1
    assert harness.document(secret)["password"] == harness.issued.passwords[first_writer]
    logged = waits(caplog)
    assert [record.attempt for record in logged] == list(range(1, count + 1))  # type: ignore[attr-defined]
    assert {record.denied_action for record in logged} == {action}  # type: ignore[attr-defined]
    assert [record.wait_seconds for record in logged] == clock.slept  # type: ignore[attr-defined]
    assert clock.slept == [1.0, 2.0, 4.0, 8.0][:count]
    material = [*harness.issued.secret_material(), *SEED_MATERIAL]
    assert leaks(record_texts(caplog.records), material) == []


def test_a_pull_probe_denied_while_the_roles_pull_permission_propagates(
    harness: Harness, secret: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    harness.configure(SECRET_ID=secret, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    answers = iter([403, 403])
    harness.stub.state.authorize = lambda auth: next(answers, 200) == 200

    result = invoke(clock, dict(TERRAFORM_APPLY_EVENT))

    assert result["published"] is True
    assert [r.denied_action for r in waits(caplog)] == ["ecr:BatchGetImage"] * 2  # type: ignore[attr-defined]


def test_access_still_denied_when_time_runs_out_names_the_action_and_the_wait(
    harness: Harness, secret: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    before = harness.snapshot(secret)
    deny(10_000, "GetAuthorizationToken")

    with pytest.raises(PermissionDeniedError) as raised:
        invoke(clock, dict(TERRAFORM_APPLY_EVENT))

    message = str(raised.value)
    waited = sum(clock.slept)
    assert f"still denied after waiting {waited:.0f} s" in message
    assert "ecr:GetAuthorizationToken" in message
    assert "during terraform apply" in message
    # It waited as long as the invocation allowed, and ended before it.
    budget = INVOCATION_SECONDS - deadline_module.RESERVE_SECONDS
    worst_case = deadline_module.call_policy(budget).worst_case
    assert budget - worst_case - MAX_IAM_WAIT_SECONDS <= waited <= budget - worst_case
    [failed] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert failed.denied_action == "ecr:GetAuthorizationToken"  # type: ignore[attr-defined]
    assert failed.error_type == "PermissionDeniedError"  # type: ignore[attr-defined]
    assert len(waits(caplog)) == len(clock.slept) >= 5
    assert harness.snapshot(secret) == before


EVERY_OTHER_EVENT: dict[str, Callable[[str], object]] = {
    "manual {}": lambda arn: {},
    "EventBridge schedule": lambda arn: {
        "version": "0",
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "resources": ["arn:aws:events:eu-central-1:123456789012:rule/ecr-token-rotator"],
        "detail": {},
    },
    "another invoked_by": lambda arn: {"invoked_by": "terraform-plan"},
    "the marker and more": lambda arn: {**TERRAFORM_APPLY_EVENT, "force": True},
}


@pytest.mark.parametrize("event", EVERY_OTHER_EVENT)
def test_any_other_event_fails_at_once(
    harness: Harness, secret: str, clock: Clock, caplog: pytest.LogCaptureFixture, event: str
) -> None:
    denials = deny(1, "GetSecretValue")

    with pytest.raises(PermissionDeniedError, match="secretsmanager:GetSecretValue") as raised:
        invoke(clock, EVERY_OTHER_EVENT[event](secret))

    assert "waiting" not in str(raised.value)
    assert denials.denied == ["GetSecretValue"]
    assert clock.slept == []
    assert waits(caplog) == []


def test_a_rotation_step_fails_at_once(
    harness: Harness, secret: str, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(secret)
    token = service.start(secret)
    deny(1, "DescribeSecret")

    with pytest.raises(PermissionDeniedError, match="secretsmanager:DescribeSecret"):
        invoke(clock, service.event(secret, token, "createSecret"))

    assert clock.slept == []
    assert waits(caplog) == []


def test_other_failures_during_apply_are_not_retried(
    harness: Harness, secret: str, clock: Clock
) -> None:
    harness.configure(SECRET_ID=secret, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 404

    with pytest.raises(ProbeError, match="HTTP 404"):
        invoke(clock, dict(TERRAFORM_APPLY_EVENT))

    assert clock.slept == []


def test_the_event_contract_is_the_one_terraform_sends() -> None:
    """trigger.tf's aws_lambda_invocation input is jsonencode() of exactly this object."""
    assert json.dumps(TERRAFORM_APPLY_EVENT) == '{"invoked_by": "terraform-apply"}'
    assert re.fullmatch(r"[a-z_]+", next(iter(TERRAFORM_APPLY_EVENT)))


def test_troubleshooting_states_the_wait_as_it_is(
    harness: Harness, secret: str, clock: Clock
) -> None:
    deny(10_000, "GetSecretValue")
    with pytest.raises(PermissionDeniedError):
        invoke(clock, dict(TERRAFORM_APPLY_EVENT))
    troubleshooting = (
        Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
    ).read_text()
    waited = round(sum(clock.slept), -1)
    assert (
        f"(about {waited:.0f} seconds\nof waiting with the default 60-second `lambda_timeout`)"
        in troubleshooting
    )

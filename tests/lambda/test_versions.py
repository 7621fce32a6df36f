"""Versions written per day: a simulated day in each mode, with the faults that used to add one.

Secrets Manager deletes outdated versions only past 100 and never those younger than 24 hours, so
every version written counts for a day. The README documents the function's worst case per 24
hours (see `worst_case`): at most one version per scheduled event (Lambda's retries of a failed
event publish the version the failed run wrote), one per apply-time or manual invocation (its
IAM-propagation attempts reuse theirs), two per rotation (the pending version, and fresh tokens
in finishSecret when the pending ones are too old to last until the next rotation), plus one per
write of another tool that lands during a publish (the re-merge).

Time is simulated (tests/support/simulated_time.py), so a day passes in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ecr_token_rotator import handler
from ecr_token_rotator.errors import RotatorError
from ecr_token_rotator.events import TERRAFORM_APPLY_EVENT
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import version_ids
from tests.support.failures import HOST, SEED_DOCUMENT
from tests.support.faults import denial, fail_calls, on_function_calls
from tests.support.secrets_manager_model import RotationService
from tests.support.simulated_time import Context, SimulatedTime, invoke_async, simulate_time

DAY = timedelta(days=1)
SCHEDULE = timedelta(minutes=30)  # the module's shortest schedule_expression: rate(30 minutes)
ROTATION = timedelta(hours=4)  # the shortest rotation_schedule_expression: rate(4 hours)
SECRETS_MANAGER_BUDGET = 100  # outdated versions are deleted only past this many
# terraform apply after the n-th scheduled event: how long after it
APPLIES = {8: timedelta(minutes=2), 20: timedelta(minutes=7), 44: timedelta(minutes=20)}


def worst_case(events: int, apply_or_manual: int, rotations: int, other_writes: int) -> int:
    """The README's bound of versions the function writes in 24 hours."""
    return events + apply_or_manual + 2 * rotations + other_writes


@pytest.fixture
def time(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> SimulatedTime:
    return simulate_time(harness, monkeypatch)


def other_tool_writes_during_the_next_publish(harness: Harness, arn: str) -> Callable[[], None]:
    """Another tool's read-modify-write lands between the function's write and its move."""
    pending = {"armed": False, "writes": 0}

    def write(**_: object) -> None:
        if pending["armed"]:
            pending["armed"] = False
            pending["writes"] += 1
            document = harness.document(arn)
            harness.secrets().put_secret_value(
                SecretId=arn,
                SecretString=json.dumps({**document, "team": f"write {pending['writes']}"}),
            )

    on_function_calls("after-call.secrets-manager.PutSecretValue", write)
    return lambda: pending.update(armed=True)


def deny_the_move(times: int) -> None:
    """IAM propagation during terraform apply: PutSecretValue is allowed, the move not yet."""
    left = {"denials": times}

    def hook(model: Any, **_: object) -> Any:
        if left["denials"] == 0:
            return None
        left["denials"] -= 1
        return denial(model.name)

    on_function_calls("before-call.secrets-manager.UpdateSecretVersionStage", hook)


def test_a_day_on_the_shortest_schedule_stays_within_the_documented_bound(
    harness: Harness, time: SimulatedTime
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    before = version_ids(harness, arn)
    arm_other_tool = other_tool_writes_during_the_next_publish(harness, arn)
    runs = 0
    events = apply_invocations = other_writes = 0
    start = time.now

    while time.now - start < DAY:
        slot = time.now
        if events in (5, 17):
            fail_calls("UpdateSecretVersionStage", 1)  # after the write: retried by Lambda
        if events == 29:
            fail_calls("UpdateSecretVersionStage", 1, 2)  # the first retry fails too
        if events in (10, 35):
            arm_other_tool()
            other_writes += 1
        runs += invoke_async(time, {"source": "aws.events", "detail-type": "Scheduled Event"})
        events += 1
        if events in APPLIES:  # terraform apply changes the function, minutes after the event
            time.advance(APPLIES[events])
            deny_the_move(times=2)
            handler.lambda_handler(dict(TERRAFORM_APPLY_EVENT), Context(time))
            apply_invocations += 1
        time.advance(slot + SCHEDULE - time.now)

    assert events == DAY // SCHEDULE == 48
    assert runs == events + 4  # the failed events' retries ran
    by_the_function = len(version_ids(harness, arn) - before) - other_writes
    bound = worst_case(events, apply_invocations, rotations=0, other_writes=other_writes)
    assert by_the_function <= bound == 53  # every term of the bound is met here, none exceeded
    assert by_the_function + other_writes < SECRETS_MANAGER_BUDGET
    assert harness.document(arn)["password"] == harness.issued.passwords[-1]
    assert harness.document(arn)["team"] == f"write {other_writes}"


def rotate(
    service: RotationService,
    time: SimulatedTime,
    arn: str,
    token: str,
    steps: tuple[str, ...],
) -> None:
    """Secrets Manager runs `steps`, retrying a failed one once (same token), a minute later."""
    for step in steps:
        try:
            service.run(arn, token, lambda e: handler.lambda_handler(e, Context(time)), (step,))
        except RotatorError:
            time.advance(timedelta(minutes=1))
            service.run(arn, token, lambda e: handler.lambda_handler(e, Context(time)), (step,))


def test_a_day_of_rotation_every_four_hours_stays_within_the_documented_bound(
    harness: Harness, time: SimulatedTime
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn, schedule="rate(4 hours)")
    harness.configure(SECRET_ID=arn, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    before = version_ids(harness, arn)
    steps = ("createSecret", "setSecret", "testSecret", "finishSecret")
    start = time.now
    handler.lambda_handler(dict(TERRAFORM_APPLY_EVENT), Context(time))  # the first value
    rotations = 0

    for window in range(6):  # 01:00, 05:00, ... 21:00
        if time.now > start + timedelta(hours=1) + window * ROTATION:
            continue  # a rotation still in progress: Secrets Manager starts no other
        time.advance(start + timedelta(hours=1) + window * ROTATION - time.now)
        token = service.start(arn)
        rotations += 1
        if window == 1:  # finishSecret's move fails once: Secrets Manager retries the step
            fail_calls("UpdateSecretVersionStage", 1)
        if window == 2:  # the pull probe fails until pull rights arrive, 7.5 hours later
            harness.stub.state.statuses["team/app"] = 403
            with pytest.raises(RotatorError):
                rotate(service, time, arn, token, steps[:3])
            time.advance(timedelta(hours=7, minutes=30))
            del harness.stub.state.statuses["team/app"]
        rotate(service, time, arn, token, steps)  # window 2: the pending tokens are old

    assert time.now - start < DAY
    assert rotations == 5  # the 13:00 window fell while the 09:00 rotation was reattempted
    written = version_ids(harness, arn) - before
    assert len(written) <= worst_case(0, 1, rotations, 0) == 11
    assert len(written) == 1 + rotations + 1  # only the reattempted rotation wrote two
    document = harness.document(arn)
    assert document["password"] == harness.issued.passwords[-1]
    service.start(arn)  # nothing left behind

"""No lost updates: another writer's version landing between any two of the function's AWS calls
is never reverted, in either mode, and the credential is fresh after at most one rerun.

The boundaries are enumerated, not listed by hand: a first, undisturbed run (or rotation) records
the function's AWS calls with a botocore `after-call` hook on every client it makes; then, for each
k, a fresh secret is refreshed (or rotated) again while the hook lets another writer act right
after the function's k-th call got its answer, before its next call. Reads and token fetches of a
refresh run concurrently, so "the k-th call" is the k-th to be answered.

Other writers:
- another tool: GetSecretValue, then PutSecretValue of the whole document with its key `team`
  changed (a plain read-modify-write, as a tool that knows nothing of this function does);
- in rotation mode also a manual refresh (`{}`) of the function itself, then that tool.

After the run: the tool's value of `team` is in AWSCURRENT, with every other key it had; the
credential there is complete and fresh (issued by this test's runs, 11+ hours left), at once or
after one rerun (a new refresh, or a new rotation); and no AWSPENDING is left behind to block the
next rotation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecr_token_rotator import aws, handler
from ecr_token_rotator.document import read_credential
from ecr_token_rotator.errors import RotatorError
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import assert_complete
from tests.support.failures import SEED_DOCUMENT
from tests.support.faults import on_function_calls
from tests.support.secrets_manager_model import RotationService

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@dataclass
class Boundaries:
    """Counts the function's answered AWS calls; runs `writer` after the `at`-th one."""

    at: int = 0  # 0: never
    writer: Callable[[], None] | None = None
    calls: list[str] = field(default_factory=list)
    writing: bool = False  # the writer's own calls (a nested manual refresh) are not counted

    def hook(self, model: Any, **_: Any) -> None:
        if self.writing:
            return
        self.calls.append(model.name)
        if len(self.calls) == self.at and self.writer is not None:
            self.writing = True
            try:
                self.writer()
            finally:
                self.writing = False


def watch_calls(boundaries: Boundaries) -> None:
    aws.reset_clients()  # a fresh session: the hooks of the previous case are gone
    on_function_calls("after-call", boundaries.hook)


def other_tool(harness: Harness, secret_id: str, value: str) -> Callable[[], None]:
    def write() -> None:
        document = harness.document(secret_id)
        harness.secrets().put_secret_value(
            SecretId=secret_id, SecretString=json.dumps({**document, "team": value})
        )

    return write


def assert_fresh_and_kept(harness: Harness, secret_id: str, team: str) -> None:
    document = harness.document(secret_id)
    assert document["team"] == team, "the other writer's key was reverted"
    assert {k: v for k, v in document.items() if k not in ("team", *_OWNED)} == {
        k: v for k, v in SEED_DOCUMENT.items() if k not in ("team", *_OWNED)
    }
    assert_complete(document, harness.issued.passwords)
    expires_at = read_credential(document, "AWSCURRENT").expires_at
    assert expires_at - datetime.now(UTC) > timedelta(hours=11)


_OWNED = ("registry", "username", "password", "expires_at", "dockerconfigjson")


# ---- schedule mode ---------------------------------------------------------------------------


def refresh_calls(harness: Harness, *, refreshed_before: bool) -> list[str]:
    arn = harness.create_secret(name=f"calls-of-a-refresh-{refreshed_before}", value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    if refreshed_before:
        harness.invoke()
    recorder = Boundaries()
    watch_calls(recorder)
    harness.invoke()
    return list(recorder.calls)  # the hook keeps counting until the next watch_calls


# A secret's first refresh reads the function's label (on no version yet), then AWSCURRENT; a
# later one finds its label on AWSCURRENT and reads once.
READS = {"first refresh": 2, "later refresh": 1}


@pytest.mark.parametrize("run", READS)
def test_every_boundary_of_a_refresh(harness: Harness, run: str) -> None:
    refreshed_before = run == "later refresh"
    calls = refresh_calls(harness, refreshed_before=refreshed_before)
    assert sorted(calls) == sorted(
        [
            *["GetSecretValue"] * READS[run],
            "GetAuthorizationToken",
            "PutSecretValue",
            "UpdateSecretVersionStage",
        ]
    ), "the boundaries this test enumerates"

    for at in range(1, len(calls) + 1):
        name = f"refresh-{'later' if refreshed_before else 'first'}-{at}"
        arn = harness.create_secret(name=name, value=SEED_DOCUMENT)
        harness.configure(SECRET_ID=arn)
        if refreshed_before:
            harness.invoke()
        team = f"written after the refresh's call {at}"
        boundaries = Boundaries(at=at, writer=other_tool(harness, arn, team))
        watch_calls(boundaries)

        try:
            result = harness.invoke()
        except RotatorError:  # allowed once: the rerun below must then publish
            result = harness.invoke()

        assert len(boundaries.calls) >= at, f"call {at} never happened"
        if at < len(calls):  # after the last call, the other writer's version is current
            assert harness.snapshot(arn).current_version_id == result["version_id"], at
        assert_fresh_and_kept(harness, arn, team)
        if result["published"]:
            assert harness.document(arn)["password"] == harness.issued.passwords[-1], at
        else:  # the other tool's write carried the previous refresh's credential, as fresh
            assert refreshed_before
            assert harness.document(arn)["password"] == harness.issued.passwords[-2], at


# ---- rotation mode ---------------------------------------------------------------------------


@pytest.fixture
def service(harness: Harness) -> RotationService:
    return RotationService(ACCOUNT_ID, REGION)


def rotate_once(harness: Harness, service: RotationService, arn: str) -> None:
    """One rotation as Secrets Manager runs it: a failed step is retried once with the same
    token, with the steps after it; if that fails too, the rotation is over."""
    token = service.start(arn)
    steps = ("createSecret", "setSecret", "testSecret", "finishSecret")
    for index, step in enumerate(steps):
        try:
            harness.invoke(service.event(arn, token, step))
        except RotatorError:
            try:
                service.run(arn, token, harness.invoke, steps=steps[index:])
            except RotatorError:
                return
            return


def rotation_calls(harness: Harness, service: RotationService) -> list[str]:
    arn = harness.create_secret(name="calls-of-a-rotation", value=SEED_DOCUMENT)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    recorder = Boundaries()
    watch_calls(recorder)
    rotate_once(harness, service, arn)
    return list(recorder.calls)  # the hook keeps counting until the next watch_calls


def manual_refresh_then(tool: Callable[[], None]) -> Callable[[], None]:
    def write() -> None:
        handler.lambda_handler({}, None)
        tool()

    return write


WRITERS = {
    "another tool": other_tool,
    "a manual refresh, then another tool": lambda harness, arn, team: manual_refresh_then(
        other_tool(harness, arn, team)
    ),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_every_boundary_of_a_rotation(
    harness: Harness, service: RotationService, writer: str
) -> None:
    calls = rotation_calls(harness, service)
    # finishSecret's move of AWSCURRENT, and its removal of AWSPENDING.
    assert calls.count("UpdateSecretVersionStage") == 2, calls
    assert calls.count("PutSecretValue") == 1, calls  # createSecret's pending version

    for at in range(1, len(calls) + 1):
        arn = harness.create_secret(name=f"rotation-{at}", value=SEED_DOCUMENT)
        service.enable(arn)
        harness.configure(SECRET_ID=arn)
        team = f"written after the rotation's call {at}"
        boundaries = Boundaries(at=at, writer=WRITERS[writer](harness, arn, team))
        watch_calls(boundaries)

        rotate_once(harness, service, arn)
        assert len(boundaries.calls) >= at, f"call {at} never happened"
        try:
            assert_fresh_and_kept(harness, arn, team)
        except AssertionError:
            rotate_once(harness, service, arn)  # the one rerun: the next scheduled rotation
            assert_fresh_and_kept(harness, arn, team)

        service.start(arn)  # no AWSPENDING was left behind: Secrets Manager accepts a rotation

"""Native rotation under faults: a failure at each step boundary, Secrets Manager's retry with the
same token, a crash in the middle of finishSecret, and `repair` of an abandoned rotation.

Secrets Manager's side is `RotationService` (tests/support/secrets_manager_model.py), which models
what AWS documents and moto does not do: RotateSecret stages a new empty AWSPENDING version and
is refused while AWSPENDING sits on a version that is not AWSCURRENT. A failed step is retried
with the same ClientRequestToken; the tests retry in two ways, the failed step and the steps after
it, or all four steps from createSecret, since every step must be idempotent either way.

The happy paths, each step run twice, and `repair`'s own rules are in tests/lambda/test_rotation.py;
this file adds the faults.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecr_token_rotator.errors import PermissionDeniedError, RotatorError, SecretError
from ecr_token_rotator.publish import WRITE_LABEL
from ecr_token_rotator.repair import ROTATION_IN_PROGRESS_WINDOW
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import OTHER_TOOLS_KEYS, assert_complete, version_ids
from tests.fault.conftest import FaultLab
from tests.support.failures import SEED_DOCUMENT
from tests.support.faults import on_function_calls, once
from tests.support.killable_server import KillableMotoServer
from tests.support.secrets_manager_model import STEPS, PreviousRotationIncomplete, RotationService

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def service(server: KillableMotoServer) -> RotationService:
    return RotationService(ACCOUNT_ID, REGION)


@pytest.fixture
def secret(lab: Harness, service: RotationService) -> str:
    arn = lab.create_secret(value=SEED_DOCUMENT)
    service.enable(arn)
    lab.configure(SECRET_ID=arn)
    return arn


@dataclass(frozen=True)
class StepFault:
    name: str
    step: str  # the step that fails
    arrange: Callable[[KillableMotoServer], object]
    error: type[RotatorError]
    message: str
    pending_written: bool  # the token's version holds its value after the failure
    finished: bool = False  # AWSCURRENT already moved to the token when the step failed


STEP_FAULTS = (
    StepFault(
        "createSecret: ECR denies the token",
        "createSecret",
        lambda s: s.answer_error("GetAuthorizationToken", "AccessDeniedException"),
        PermissionDeniedError,
        "ecr:GetAuthorizationToken",
        pending_written=False,
    ),
    StepFault(
        "createSecret: server dies after writing the pending value",
        "createSecret",
        lambda s: s.die_after("PutSecretValue"),
        SecretError,
        "cannot reach Secrets Manager for PutSecretValue",
        pending_written=True,
    ),
    StepFault(
        "testSecret: reading the pending value is throttled",
        "testSecret",
        lambda s: s.answer_error("GetSecretValue", "ThrottlingException"),
        SecretError,
        "GetSecretValue",
        pending_written=True,
    ),
    StepFault(
        "finishSecret: moving AWSCURRENT is denied",
        "finishSecret",
        lambda s: s.answer_error("UpdateSecretVersionStage", "AccessDeniedException"),
        PermissionDeniedError,
        "secretsmanager:UpdateSecretVersionStage",
        pending_written=True,
    ),
    StepFault(
        "finishSecret: server dies after moving AWSCURRENT",
        "finishSecret",
        lambda s: s.die_after("UpdateSecretVersionStage"),
        SecretError,
        "cannot reach Secrets Manager for UpdateSecretVersionStage",
        pending_written=True,
        finished=True,
    ),
)
RETRIES = {
    "retry the failed step and the rest": lambda step: STEPS[STEPS.index(step) :],
    "retry all four steps": lambda step: STEPS,
}


@pytest.mark.parametrize("retry", RETRIES)
@pytest.mark.parametrize("fault", STEP_FAULTS, ids=lambda f: f.name)
def test_a_retry_with_the_same_token_completes_the_rotation(
    lab: FaultLab,
    service: RotationService,
    secret: str,
    fault: StepFault,
    retry: str,
) -> None:
    before, versions_before = lab.snapshot(secret), version_ids(lab, secret)
    token = service.start(secret)

    with lab.exposure.watching():
        service.run(secret, token, lab.invoke, steps=STEPS[: STEPS.index(fault.step)])
        fault.arrange(lab.server)
        with pytest.raises(fault.error) as raised:
            service.run(secret, token, lab.invoke, steps=(fault.step,))
    assert fault.message in str(raised.value)
    if not lab.server.running:
        lab.server.start()
    lab.server.clear_faults()

    failed = lab.snapshot(secret)
    assert "AWSPENDING" in failed.version_stages[token]
    if fault.finished:
        assert failed.current_version_id == token
        assert failed.version_stages[str(before.current_version_id)] == ["AWSPREVIOUS"]
    else:
        assert (failed.current_version_id, failed.current_value) == (
            before.current_version_id,
            before.current_value,
        )
        with pytest.raises(PreviousRotationIncomplete):
            service.start(secret)  # AWS refuses a new rotation until this one completes
    pending_value = None
    if fault.pending_written:
        pending_value = lab.document(secret, VersionId=token, VersionStage="AWSPENDING")
        assert_complete(pending_value, lab.issued.passwords)
    issued_before_retry = len(lab.issued.passwords)

    with lab.exposure.watching():
        results = service.run(secret, token, lab.invoke, steps=RETRIES[retry](fault.step))

    assert all(result["version_id"] == token for result in results)
    after = lab.snapshot(secret)
    assert after.current_version_id == token
    assert after.version_stages[str(before.current_version_id)] == ["AWSPREVIOUS"]
    assert version_ids(lab, secret) - versions_before == {token}  # no version besides the token
    document = lab.document(secret)
    assert_complete(document, lab.issued.passwords)
    assert {key: document[key] for key in OTHER_TOOLS_KEYS} == OTHER_TOOLS_KEYS
    if pending_value is not None:
        assert document == pending_value  # the retry kept what the first attempt wrote...
        assert len(lab.issued.passwords) == issued_before_retry  # ...and fetched no new token
    service.start(secret)  # and Secrets Manager accepts the next rotation


def repair_cli(lab: FaultLab, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m ecr_token_rotator repair ...` as an operator runs it, against the server."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO / "lambda_src"),
        "AWS_ENDPOINT_URL": lab.server.endpoint_url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    process = subprocess.run(
        [sys.executable, "-m", "ecr_token_rotator", "repair", *args, "--log-level", "DEBUG"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lab.exposure.add(process.stdout, process.stderr)
    return process


@pytest.mark.parametrize("abandoned", ["after createSecret", "during createSecret"])
def test_cli_repair_clears_a_stale_awspending_so_rotation_can_start(
    lab: FaultLab,
    service: RotationService,
    secret: str,
    abandoned: str,
) -> None:
    stale = service.start(secret)
    with lab.exposure.watching():
        if abandoned == "after createSecret":  # the pending version holds a value
            service.run(secret, stale, lab.invoke, steps=("createSecret",))
        else:  # AWS's empty AWSPENDING stub stays behind
            rule = lab.server.answer_error("GetAuthorizationToken", "AccessDeniedException")
            with pytest.raises(PermissionDeniedError):
                service.run(secret, stale, lab.invoke, steps=("createSecret",))
            assert rule.answered == 1
            lab.server.clear_faults()
    # Secrets Manager gives up on that rotation; every new one is refused from now on.
    with pytest.raises(PreviousRotationIncomplete):
        service.start(secret)
    before = lab.snapshot(secret)

    young = repair_cli(lab, "--secret-id", secret)
    assert young.returncode == 1
    assert "may still be running" in young.stderr
    assert young.stdout == ""
    assert lab.snapshot(secret) == before

    service.age_version(secret, stale, int(ROTATION_IN_PROGRESS_WINDOW.total_seconds()) + 60)
    dry_run = repair_cli(lab, "--secret-id", secret, "--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr
    assert json.loads(dry_run.stdout)["stale_pending_version_ids"] == [stale]
    assert lab.snapshot(secret) == before

    repaired = repair_cli(lab, "--secret-id", secret)
    assert repaired.returncode == 0, repaired.stderr
    assert json.loads(repaired.stdout) == {
        "secret_id": secret,
        "stale_pending_version_ids": [stale],
        "removed": True,
    }
    after = lab.snapshot(secret)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )  # AWSCURRENT untouched
    assert "AWSPENDING" not in after.version_stages.get(stale, [])

    token = service.start(secret)  # accepted again
    with lab.exposure.watching():
        service.run(secret, token, lab.invoke)
    assert lab.snapshot(secret).current_version_id == token
    assert_complete(lab.document(secret), lab.issued.passwords)


def test_a_move_whose_answer_was_lost_is_found_published(
    lab: FaultLab, service: RotationService, secret: str
) -> None:
    """The server dies after moving AWSCURRENT and is back before botocore's retry, which repeats
    the move: AWS refuses it (AWSCURRENT is no longer on RemoveFromVersionId). The function reads
    AWSCURRENT again, finds its version there, and reports the rotation finished."""
    before = lab.snapshot(secret)
    token = service.start(secret)
    with lab.exposure.watching():
        service.run(secret, token, lab.invoke, steps=STEPS[:3])
        lab.server.die_after("UpdateSecretVersionStage", restart=True)
        [result] = service.run(secret, token, lab.invoke, steps=("finishSecret",))

    assert result["published"] is True
    assert result["version_id"] == token
    after = lab.snapshot(secret)
    assert after.current_version_id == token
    assert after.version_stages[str(before.current_version_id)] == ["AWSPREVIOUS"]
    # The move, botocore's retry of it, and the removal of AWSPENDING that ends the rotation.
    assert lab.server.requests["UpdateSecretVersionStage"] == 3
    service.start(secret)  # and Secrets Manager accepts the next rotation


def test_a_refresh_whose_move_answer_was_lost_still_removes_awspending(
    lab: FaultLab, service: RotationService, secret: str
) -> None:
    """AWS applies the move of AWSCURRENT and the answer is lost (HTTP 500); botocore's retry is
    refused (AWSCURRENT is no longer on RemoveFromVersionId). The function reads AWSCURRENT again,
    finds its version there, and removes AWSPENDING from the version it replaced: otherwise every
    later RotateSecret would be refused."""
    with lab.exposure.watching():
        service.run(secret, service.start(secret), lab.invoke)
    rotated = lab.leave_pending_on_current(secret)
    lab.server.fail_after("UpdateSecretVersionStage")
    moves_before = lab.server.requests["UpdateSecretVersionStage"]

    with lab.exposure.watching():
        result = lab.invoke({})

    assert result["published"] is True
    after = lab.snapshot(secret)
    assert after.current_version_id == result["version_id"]
    assert after.version_stages[rotated] == ["AWSPREVIOUS"]
    # The move (answered 500), botocore's retry of it (refused), and the removal of AWSPENDING.
    assert lab.server.requests["UpdateSecretVersionStage"] - moves_before == 3
    service.start(secret)  # Secrets Manager accepts the next rotation


def test_a_refresh_superseded_by_another_writer_still_removes_awspending(
    lab: FaultLab, service: RotationService, secret: str
) -> None:
    """Between the function's write and its move, another writer makes a credential as fresh
    AWSCURRENT (here: a tool copying the function's new version): the function ends superseded,
    and the version it set out to replace, no longer AWSCURRENT, loses AWSPENDING."""
    with lab.exposure.watching():
        service.run(secret, service.start(secret), lab.invoke)
    rotated = lab.leave_pending_on_current(secret)

    def copy_the_new_version() -> None:
        written = lab.secrets().get_secret_value(SecretId=secret, VersionStage=WRITE_LABEL)
        lab.secrets().put_secret_value(SecretId=secret, SecretString=written["SecretString"])

    copied = once(lambda **_: copy_the_new_version())
    on_function_calls("after-call.secrets-manager.PutSecretValue", copied)

    with lab.exposure.watching():
        result = lab.invoke({})

    assert copied.calls == 1
    assert result["published"] is False
    after = lab.snapshot(secret)
    assert after.current_version_id == result["version_id"]
    assert "AWSPENDING" not in after.version_stages[rotated]
    service.start(secret)

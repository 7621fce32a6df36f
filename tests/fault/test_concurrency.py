"""Twenty refreshes of one secret at once: threads in this process, and processes running the
packaged zip, all against one moto server.

Each run reads the secret, fetches a token and writes a whole new document (read-modify-write
without a condition, as PutSecretValue offers none). What must hold whatever the interleaving:
- every run ends in success or a clean error (a RotatorError; for a process, a non-zero exit
  whose last line is that error and whose log says `run_failed`);
- the final AWSCURRENT value is one complete, valid document written by one successful run;
- keys another tool put in the secret before the runs survive (keys written *during* the runs
  could be lost by a concurrent read-modify-write; nothing here claims otherwise);
- the secret gains exactly one version per successful run and none for a failed one, so the
  version count grows by at most the number of successes.

Faults make both outcomes occur under contention: the server refuses every n-th ECR token request
with AccessDenied (not retried, so exactly that many runs fail), or throttles every second
PutSecretValue request (botocore retries with the same ClientRequestToken; whether a run
succeeds depends on the interleaving, the invariants do not).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ecr_token_rotator.errors import PermissionDeniedError, RotatorError
from tests.conftest import REGION, Harness
from tests.fault.checks import assert_complete, version_ids
from tests.fault.conftest import FaultLab
from tests.support import lambda_zip
from tests.support.failures import SEED_DOCUMENT
from tests.support.killable_server import KillableMotoServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

RUNS = 20
ZIP = Path(__file__).resolve().parents[2] / "dist" / "ecr-token-rotator.zip"
# Keys of other tools, written before the runs.
BEFORE_THE_RUNS = {
    **SEED_DOCUMENT,
    "owner": {"team": "platform", "contacts": ["a@example.com"], "on_call": None},
    "rotation_note": "ü ✓ keep me",
    "limits": [1, 2.5, True],
}


def check_outcome(
    lab: Harness, arn: str, versions_before: set[str], successes: list[dict[str, Any]]
) -> None:
    document = lab.document(arn)
    assert_complete(document, lab.issued.passwords)
    for key, value in BEFORE_THE_RUNS.items():
        if key not in ("registry", "username", "password"):  # the function's own keys
            assert document[key] == value, key
    written = {result["version_id"] for result in successes}
    assert len(written) == len(successes)  # no two runs reported the same version
    assert version_ids(lab, arn) - versions_before == written
    current = [
        v for v, stages in lab.snapshot(arn).version_stages.items() if "AWSCURRENT" in stages
    ]
    assert len(current) == 1
    assert current[0] in written


Fault = Callable[[KillableMotoServer], None]
THREAD_FAULTS: dict[str, tuple[Fault, int | None]] = {
    # fault -> the number of successful runs it guarantees (None: depends on the interleaving)
    "no fault": (lambda server: None, RUNS),
    "ECR refuses every second token request": (
        lambda server: server.answer_error(
            "GetAuthorizationToken", "AccessDeniedException", every=2
        ),
        RUNS // 2,
    ),
    "every second PutSecretValue throttled": (
        lambda server: server.answer_error("PutSecretValue", "ThrottlingException", every=2),
        None,
    ),
}


@pytest.mark.parametrize("fault_name", THREAD_FAULTS)
def test_twenty_threads(lab: FaultLab, fault_name: str) -> None:
    arn = lab.create_secret(value=BEFORE_THE_RUNS)
    lab.configure(SECRET_ID=arn)
    versions_before = version_ids(lab, arn)
    fault, expected_successes = THREAD_FAULTS[fault_name]
    fault(lab.server)
    start = threading.Barrier(RUNS)

    def run(_: int) -> dict[str, Any] | RotatorError:
        start.wait()
        try:
            return lab.invoke()
        except RotatorError as error:  # anything else fails the test
            return error

    with lab.exposure.watching(), ThreadPoolExecutor(max_workers=RUNS) as pool:
        outcomes = list(pool.map(run, range(RUNS)))

    successes = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    failures = [outcome for outcome in outcomes if isinstance(outcome, RotatorError)]
    for failure in failures:
        lab.exposure.add_error(failure)
    assert len(successes) + len(failures) == RUNS
    if expected_successes is not None:
        assert len(successes) == expected_successes
    assert successes, "no run succeeded: the final value would prove nothing"
    if fault_name.startswith("ECR refuses"):
        assert all(isinstance(failure, PermissionDeniedError) for failure in failures)
    check_outcome(lab, arn, versions_before, successes)


def test_twenty_processes_of_the_packaged_zip(lab: FaultLab, tmp_path: Path) -> None:
    arn = lab.create_secret(value=BEFORE_THE_RUNS)
    versions_before = version_ids(lab, arn)
    lab.server.answer_error("GetAuthorizationToken", "AccessDeniedException", every=4)
    task_root = lambda_zip.unpack(ZIP, tmp_path / "task")
    deps = lambda_zip.runtime_deps(tmp_path / "runtime")
    env = lambda_zip.environment(
        task_root,
        deps,
        AWS_ENDPOINT_URL=lab.server.endpoint_url,
        AWS_REGION=REGION,
        SECRET_ID=arn,
        LOG_LEVEL="DEBUG",
    )

    processes = [
        subprocess.Popen(
            [sys.executable, "-I", "-S", lambda_zip.__file__, "{}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNS)
    ]
    finished = [(process, *process.communicate(timeout=90)) for process in processes]

    successes: list[dict[str, Any]] = []
    for process, stdout, stderr in finished:
        lab.exposure.add(stdout, stderr)
        if process.returncode == 0:
            successes.append(lambda_zip.result_of(subprocess.CompletedProcess([], 0, stdout)))
            continue
        assert lambda_zip.RESULT_MARKER not in stdout
        error_type, _, message = stderr.strip().splitlines()[-1].partition(": ")
        assert error_type == "ecr_token_rotator.errors.PermissionDeniedError", stderr[-2000:]
        assert "ECR in eu-central-1 denied ecr:GetAuthorizationToken" in message
        failed = [json.loads(line) for line in stderr.splitlines() if '"run_failed"' in line]
        assert [record["error_type"] for record in failed] == ["PermissionDeniedError"]
    assert len(successes) == RUNS - RUNS // 4
    check_outcome(lab, arn, versions_before, successes)

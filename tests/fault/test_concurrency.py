"""Twenty refreshes of one secret at once, while another tool keeps writing its own key: threads
in this process, and processes running the packaged zip, all against one moto server.

Each run reads the secret, fetches a token, writes its new version under the function's label and
moves AWSCURRENT to it with a compare-and-swap (publish.py): a move that finds AWSCURRENT moved is
refused, and the run merges into the newer value and tries again, or ends without publishing when
a concurrent run already published a credential as fresh. What must hold whatever the
interleaving:
- every run ends in success (published, or superseded by a concurrent run) or a clean error (a
  RotatorError; for a process, a non-zero exit whose last line is that error and whose log says
  `run_failed`);
- no key of another tool is ever reverted: the keys it put in the secret before the runs survive,
  and so does the last value it wrote *during* the runs (with a plain read-modify-write, as a tool
  that knows nothing of this function does); after one more run, AWSCURRENT is that run's
  complete, fresh document with all of them;
- every version a run published is its own (no two runs report the same one); the versions the
  runs wrote and did not publish carry no label but the function's own, which moves with each
  write, so Secrets Manager deletes them in time.

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
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecr_token_rotator.errors import PermissionDeniedError, PublishConflictError, RotatorError
from ecr_token_rotator.publish import WRITE_LABEL
from tests.conftest import REGION
from tests.fault.checks import assert_complete, version_ids
from tests.fault.conftest import FaultLab
from tests.support import lambda_zip
from tests.support.failures import SEED_DOCUMENT
from tests.support.killable_server import KillableMotoServer
from tests.support.other_writer import other_writer

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
    lab: FaultLab,
    arn: str,
    versions_before: set[str],
    successes: list[dict[str, Any]],
    tool_wrote: list[int] | None = None,
) -> None:
    published = [result["version_id"] for result in successes if result["published"]]
    assert published, "no run published: the check would prove nothing"
    assert len(set(published)) == len(published)  # no two runs reported the same version
    stages = lab.snapshot(arn).version_stages
    assert sum("AWSCURRENT" in labels for labels in stages.values()) == 1
    assert sum(WRITE_LABEL in labels for labels in stages.values()) == 1
    for version in version_ids(lab, arn) - versions_before - set(published):
        # Written and not published (a lost race), or the other tool's.
        assert set(stages.get(version, [])) <= {WRITE_LABEL, "AWSCURRENT", "AWSPREVIOUS"}
    if tool_wrote is not None:
        assert tool_wrote, "the other tool never wrote: the check would prove nothing"
        assert lab.document(arn)["counter"] == tool_wrote[-1]  # its last write survived

    with lab.exposure.watching():
        rerun = lab.invoke()

    assert lab.snapshot(arn).current_version_id == rerun["version_id"]
    document = lab.document(arn)
    assert_complete(document, lab.issued.passwords)
    assert document["password"] == lab.issued.passwords[-1]
    for key, value in BEFORE_THE_RUNS.items():
        if key not in ("registry", "username", "password"):  # the function's own keys
            assert document[key] == value, key
    if tool_wrote is not None:
        assert document["counter"] == tool_wrote[-1]


Fault = Callable[[KillableMotoServer], None]
# Runs one after another while the other tool still writes, should none of the twenty publish.
LATE_RUNS = 20


def publish_against(lab: FaultLab, tool_wrote: list[int]) -> list[dict[str, Any] | RotatorError]:
    """On a loaded machine twenty runs at once may all lose every compare-and-swap round to the
    tool (it writes every few milliseconds); then runs one at a time, against the tool alone,
    until one publishes, so that the checks always see a publication made while it wrote."""
    outcomes: list[dict[str, Any] | RotatorError] = []
    published = False
    while not published and len(outcomes) < LATE_RUNS:
        written_before = len(tool_wrote)
        try:
            with lab.exposure.watching():
                outcome: dict[str, Any] | RotatorError = lab.invoke()
        except PublishConflictError as error:
            outcome = error
        outcomes.append(outcome)
        published = isinstance(outcome, dict) and outcome["published"]
        assert len(tool_wrote) >= written_before  # the tool was still at work
    return outcomes


@dataclass(frozen=True)
class Storm:
    fault: Fault
    successes: int | None  # the successful runs it guarantees (None: depends on the interleaving)
    failure: type[RotatorError] | None = None  # the only error a run may end with
    other_tool: bool = False  # another tool writes its own key all along


STORMS = {
    "no fault": Storm(lambda server: None, RUNS),
    "ECR refuses every second token request": Storm(
        lambda server: server.answer_error(
            "GetAuthorizationToken", "AccessDeniedException", every=2
        ),
        RUNS // 2,
        PermissionDeniedError,
    ),
    "every second PutSecretValue throttled": Storm(
        lambda server: server.answer_error("PutSecretValue", "ThrottlingException", every=2),
        None,
    ),
    # The other tool moves AWSCURRENT every few milliseconds, far more often than any real one: a
    # run may lose every compare-and-swap round and give up (PublishConflictError); whatever
    # happens, nothing of the tool's is reverted.
    "another tool writes its key all along": Storm(
        lambda server: None, None, PublishConflictError, other_tool=True
    ),
}


@pytest.mark.parametrize("storm_name", STORMS)
def test_twenty_threads(lab: FaultLab, storm_name: str) -> None:
    storm = STORMS[storm_name]
    arn = lab.create_secret(value=BEFORE_THE_RUNS)
    lab.configure(SECRET_ID=arn)
    versions_before = version_ids(lab, arn)
    start = threading.Barrier(RUNS)

    def run(_: int) -> dict[str, Any] | RotatorError:
        start.wait()
        try:
            return lab.invoke()
        except RotatorError as error:  # anything else fails the test
            return error

    tool = (
        other_writer(lab.server.endpoint_url, REGION, arn, "counter")
        if storm.other_tool
        else nullcontext(None)
    )
    with tool as tool_wrote:
        storm.fault(lab.server)
        with lab.exposure.watching(), ThreadPoolExecutor(max_workers=RUNS) as pool:
            outcomes = list(pool.map(run, range(RUNS)))
        if storm.other_tool:
            outcomes += publish_against(lab, tool_wrote)
    lab.server.clear_faults()

    successes = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    failures = [outcome for outcome in outcomes if isinstance(outcome, RotatorError)]
    for failure in failures:
        lab.exposure.add_error(failure)
    assert len(successes) + len(failures) == len(outcomes) >= RUNS
    if storm.successes is not None:
        assert len(successes) == storm.successes, [str(f) for f in failures]
    if storm.failure is not None:
        assert all(isinstance(failure, storm.failure) for failure in failures)
    check_outcome(lab, arn, versions_before, successes, tool_wrote)


def test_twenty_processes_of_the_packaged_zip(lab: FaultLab, tmp_path: Path) -> None:
    arn = lab.create_secret(value=BEFORE_THE_RUNS)
    lab.configure(SECRET_ID=arn)  # for the rerun in this process
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
            [sys.executable, "-I", "-S", lambda_zip.CHILD, "{}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(RUNS)
    ]
    finished = [(process, *process.communicate(timeout=90)) for process in processes]
    lab.server.clear_faults()

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

"""Every wait ends before the deadline, whatever DNS and the network do.

botocore's connect and read timeouts do not bound name resolution (getaddrinfo has no timeout),
and its connect timeout applies to each of a name's addresses in turn (a regional endpoint has
several). So each AWS call, each token fetch and each probe is waited for within the deadline
(deadline.py) and abandoned when it outlasts its worst case. Here the real handler, and the CLI in
a process of its own, meet on loopback (tests/support/unreachable.py):

- a name whose resolution never ends (a VPC resolver that does not answer);
- a name resolving to 8 addresses that all drop SYNs (a route or security group that drops
  packets), which costs botocore 8 connect timeouts per attempt, more than a call's worst case.

Each run ends before its context's deadline, logs `run_failed` naming the step it was waiting for
with what to check (name resolution, the addresses, the network path), and publishes nothing. A
call abandoned in one invocation does not spoil the next one in the same (thawed) process: its
late answer is dropped, and the cached clients keep working. The CLI's process exits at once
although a thread of it is still stuck in getaddrinfo.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_token_rotator import handler
from ecr_token_rotator.deadline import OVERRUN_SECONDS, Deadline
from ecr_token_rotator.errors import DeadlineError
from ecr_token_rotator.probe import SOCKET_WAITS_PER_REQUEST
from tests.fault.checks import assert_complete, version_ids
from tests.fault.conftest import FaultLab
from tests.support.failures import SEED_DOCUMENT
from tests.support.unreachable import TestNames, syn_dropping_addresses

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

REPO = Path(__file__).resolve().parents[2]
# A Lambda context of 12 s: a 9 s budget, where one AWS call may take 2.2 s (1 attempt of 0.7 s to
# connect and 1.5 s to answer) and is waited for 3.2 s; 8 addresses that drop SYNs take botocore
# 5.6 s (the probe, 4.4 s).
INVOCATION_SECONDS = 12.0
ADDRESSES = 8
REGION = "eu-central-1"
REGISTRY = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
# What botocore's variables are, per service the function calls.
ENDPOINT_VARIABLES = {
    "secretsmanager": "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "ecr": "AWS_ENDPOINT_URL_ECR",
}
STEPS = {
    "secretsmanager": "secretsmanager:GetSecretValue",
    "ecr": f"ecr:GetAuthorizationToken in {REGION}",
}


class Context:
    """A Lambda context whose invocation times out `seconds` after it was made."""

    function_name = "ecr-token-rotator"

    def __init__(self, seconds: float = INVOCATION_SECONDS) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


@pytest.fixture
def names() -> Iterator[TestNames]:
    test_names = TestNames()
    try:
        yield test_names
    finally:
        test_names.close()


def run_failed(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    return record


def invoke_until_failure(lab: FaultLab, context: Context) -> DeadlineError:
    with lab.exposure.watching(), pytest.raises(DeadlineError) as raised:
        handler.lambda_handler({}, context)
    assert context.get_remaining_time_in_millis() > 0, "the run outlived its invocation"
    return raised.value


def snapshot_unchanged(lab: FaultLab, arn: str, before: object, versions: set[str]) -> None:
    """Nothing was published, nor any version written (read with the test's own client, which
    the test's endpoint variables must not send elsewhere)."""
    for variable in ENDPOINT_VARIABLES.values():
        lab.monkeypatch.delenv(variable, raising=False)
    assert lab.snapshot(arn) == before
    assert version_ids(lab, arn) == versions
    assert lab.server.requests["PutSecretValue"] == 0


@pytest.fixture
def secret(lab: FaultLab) -> str:
    arn = lab.create_secret(value=SEED_DOCUMENT)
    lab.configure(SECRET_ID=arn)
    return arn


# ---- the handler -----------------------------------------------------------------------------


NETWORKS = ("resolver hangs", "8 addresses drop SYNs")
CASES = [(service, network) for service in STEPS for network in NETWORKS]


@pytest.mark.parametrize("case", CASES, ids=[f"{service}, {network}" for service, network in CASES])
def test_an_endpoint_that_never_answers_ends_the_run_in_time_naming_the_step(
    lab: FaultLab,
    secret: str,
    names: TestNames,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, str],
) -> None:
    service, network = case
    policy = Deadline.for_invocation(Context()).policy
    assert ADDRESSES * policy.connect_timeout > policy.worst_case + OVERRUN_SECONDS + 1, (
        "botocore alone would give up on the addresses before the function does"
    )
    before, versions = lab.snapshot(secret), version_ids(lab, secret)
    with syn_dropping_addresses(ADDRESSES) as addresses:
        name = names.hanging() if network == "resolver hangs" else names.resolving_to(addresses)
        lab.monkeypatch.setenv(ENDPOINT_VARIABLES[service], f"https://{name}")

        error = invoke_until_failure(lab, Context())

    message = str(error)
    assert message.startswith(f"gave up waiting for {STEPS[service]} after ")
    assert "resolving the endpoint's name nor trying its addresses one after another" in message
    assert f"https://{name} comes from {ENDPOINT_VARIABLES[service]}" in message
    record = run_failed(caplog)
    assert record.waiting_for == STEPS[service]  # type: ignore[attr-defined]
    assert record.error_type == "DeadlineError"  # type: ignore[attr-defined]
    snapshot_unchanged(lab, secret, before, versions)


@pytest.mark.parametrize("network", NETWORKS)
def test_a_registry_that_never_answers_ends_the_probe_in_time_with_the_lambda_hint(
    lab: FaultLab,
    secret: str,
    names: TestNames,
    caplog: pytest.LogCaptureFixture,
    network: str,
) -> None:
    """The pull probe, with the production HTTPS transport (http.client) in Lambda: the registry
    host's name hangs or resolves to 8 addresses that drop SYNs. The hint is the function's VPC
    path for that host."""
    image = f"{REGISTRY}/team/app:1.0"
    lab.configure(PROBE_IMAGES=image)
    lab.monkeypatch.setattr(handler, "registry_transport", None)  # the handler makes its own
    lab.monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ecr-token-rotator")
    for variable in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        lab.monkeypatch.delenv(variable, raising=False)
    policy = Deadline.for_invocation(Context()).policy  # one image: one call's worst case
    connect_timeout = policy.worst_case / SOCKET_WAITS_PER_REQUEST
    assert ADDRESSES * connect_timeout > policy.worst_case + OVERRUN_SECONDS + 1, (
        "http.client alone would give up on the addresses before the function does"
    )
    before, versions = lab.snapshot(secret), version_ids(lab, secret)
    with syn_dropping_addresses(ADDRESSES) as addresses:
        if network == "resolver hangs":
            names.hang(REGISTRY)
        else:
            names.resolve(REGISTRY, addresses)

        error = invoke_until_failure(lab, Context())

    message = str(error)
    assert message.startswith(f"gave up waiting for the probe of {image} after ")
    assert f"the registry {REGISTRY} did not answer within the probe's timeouts" in message
    assert f"NAT gateway or the com.amazonaws.{REGION}.ecr.dkr interface endpoint" in message
    assert "DNS" in message
    assert run_failed(caplog).waiting_for == f"the probe of {image}"  # type: ignore[attr-defined]
    snapshot_unchanged(lab, secret, before, versions)


def test_a_call_abandoned_in_one_invocation_does_not_spoil_the_next(
    lab: FaultLab, secret: str, names: TestNames, caplog: pytest.LogCaptureFixture
) -> None:
    """Lambda freezes the process after an invocation, with the abandoned call still waiting on
    the resolver. In the next invocations the endpoint's name resolves again; the abandoned call
    then completes too, late: its answer (the secret as it was before) is dropped, so the next run
    publishes on what AWSCURRENT holds now, the cached clients still serve, nothing conflicts."""
    before, versions = lab.snapshot(secret), version_ids(lab, secret)
    name = names.hanging()
    port = int(lab.server.endpoint_url.rsplit(":", 1)[1])
    lab.monkeypatch.setenv(ENDPOINT_VARIABLES["secretsmanager"], f"http://{name}:{port}")

    invoke_until_failure(lab, Context())
    assert run_failed(caplog).waiting_for == STEPS["secretsmanager"]  # type: ignore[attr-defined]
    assert names.waiting == 1  # the abandoned call, frozen with the process

    names.resolve(name, [("127.0.0.1", port)])
    with lab.exposure.watching():
        second = handler.lambda_handler({}, Context())
    reads = lab.server.requests["GetSecretValue"]
    names.release()  # the abandoned call resolves the name now, and reads the secret
    for _ in range(200):
        if lab.server.requests["GetSecretValue"] > reads:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the abandoned call never reached the server")
    with lab.exposure.watching():
        third = handler.lambda_handler({}, Context())

    assert second["published"]
    assert third["published"]
    assert not [r for r in caplog.records if getattr(r, "event", None) == "publish_conflict"]
    lab.monkeypatch.delenv(ENDPOINT_VARIABLES["secretsmanager"])
    after = lab.snapshot(secret)
    assert after.current_version_id == third["version_id"]
    assert len(version_ids(lab, secret) - versions) == 2
    assert after.version_stages[second["version_id"]] == ["AWSPREVIOUS"]
    assert before.current_version_id is not None
    assert after.version_stages.get(before.current_version_id, []) == []
    assert_complete(json.loads(after.current_value or "{}"), lab.issued.passwords)


# ---- the CLI, in a process of its own ----------------------------------------------------------

# The CLI with getaddrinfo hanging for one name (for ever: only the process's exit ends it).
HANGING_CLI = """
import socket, sys, threading
name = sys.argv[1]
real = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if host == name:
        threading.Event().wait()
    return real(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo
from ecr_token_rotator.cli import main
sys.exit(main(sys.argv[2:], prog="ecr-token-rotator"))
"""
CLI_TIMEOUT_SECONDS = 10


@pytest.mark.parametrize("service", ["secretsmanager", "ecr"])
def test_the_cli_ends_within_its_timeout_and_exits_although_a_thread_hangs(
    lab: FaultLab, secret: str, service: str
) -> None:
    """A thread stuck in getaddrinfo must not keep the interpreter alive at exit (Python joins
    non-daemon threads, ThreadPoolExecutor's workers included, before it exits)."""
    name = "hang.unreachable.test"  # resolved only by the child's own patched getaddrinfo
    environment = {
        **os.environ,
        ENDPOINT_VARIABLES[service]: f"https://{name}",
        "PYTHONPATH": os.pathsep.join([str(REPO / "lambda_src"), str(REPO)]),
    }
    before, versions = lab.snapshot(secret), version_ids(lab, secret)
    command = [
        sys.executable,
        "-c",
        HANGING_CLI,
        name,
        "refresh",
        "--secret-id",
        secret,
        "--timeout",
        str(CLI_TIMEOUT_SECONDS),
    ]

    # Past this the process is taken to hang at exit (far more than its own --timeout).
    finished = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=90, check=False
    )

    lab.exposure.add(finished.stdout, finished.stderr)
    assert finished.returncode == 1, finished.stderr
    failure = json.loads(finished.stderr.strip().splitlines()[-1])
    assert failure["event"] == "run_failed"
    assert failure["waiting_for"] == STEPS[service]
    assert failure["error_type"] == "DeadlineError"
    assert failure["elapsed_seconds"] < CLI_TIMEOUT_SECONDS
    assert "resolving the endpoint's name" in failure["message"]
    snapshot_unchanged(lab, secret, before, versions)

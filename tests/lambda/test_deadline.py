"""A run ends before its Lambda does: AWS call timeouts and attempts follow from the invocation's
remaining time, and a call that cannot finish in time is not started.

The socket-level tests point one AWS call at a loopback socket that accepts connections (the
kernel completes the handshake) and never answers, as a dead proxy or a black-holed route does.
No test asserts a duration beyond "before the deadline", which holds with a wide margin; speed is
`make bench`'s business.
"""

from __future__ import annotations

import itertools
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from ecr_token_rotator import aws, cli, handler
from ecr_token_rotator import deadline as deadline_module
from ecr_token_rotator.deadline import (
    DEFAULT_TIMEOUT_SECONDS,
    MAX_ATTEMPTS,
    RESERVE_SECONDS,
    SEQUENTIAL_CALLS,
    Deadline,
    call_policy,
)
from ecr_token_rotator.errors import DeadlineError, EcrTokenError, RotatorError, SecretError
from tests.conftest import Harness
from tests.support.failures import SEED_DOCUMENT, SEED_MATERIAL
from tests.support.faults import EVENT_SERVICE, on_function_calls
from tests.support.redaction import exception_texts, leaks, record_texts, reset_capture

REPO = Path(__file__).resolve().parents[2]
INVOCATION_SECONDS = 8.0


class FakeContext:
    """A Lambda context whose invocation times out `seconds` after it was made."""

    function_name = "ecr-token-rotator"

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """http://127.0.0.1:<port> of a socket that accepts connections and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)  # never accept()ed: the kernel completes the handshake, nobody answers
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def send_to(url: str, service: str, operation: str) -> None:
    """Send the function's `operation` requests to `url` instead of their endpoint."""
    target = urlsplit(url).netloc

    def redirect(request: Any, **_: Any) -> None:
        request.url = urlunsplit(urlsplit(request.url)._replace(netloc=target))

    on_function_calls(f"before-send.{EVENT_SERVICE[service]}.{operation}", redirect)


# ---- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [0.5, 1, 3, 6, 10, 14, 20, 30, 58, 118, 298, 898])
def test_four_calls_in_a_row_fit_in_the_budget(budget: float) -> None:
    policy = call_policy(budget)
    assert 1 <= policy.attempts <= MAX_ATTEMPTS
    if budget >= 2:  # below that, the floor of the timeouts rules
        assert SEQUENTIAL_CALLS * policy.worst_case <= budget


def test_a_longer_budget_never_gets_fewer_attempts_or_a_shorter_worst_case() -> None:
    policies = [call_policy(budget / 2) for budget in range(1, 1800)]
    for shorter, longer in itertools.pairwise(policies):
        assert longer.attempts >= shorter.attempts
        assert longer.worst_case >= shorter.worst_case - 0.2  # timeouts are rounded to 0.1 s


def module_default_lambda_timeout() -> int:
    text = (REPO / "variables.tf").read_text()
    block = re.search(r'variable "lambda_timeout" \{(.*?)\n\}', text, re.DOTALL)
    assert block, "variables.tf declares lambda_timeout"
    default = re.search(r"^\s*default\s*=\s*(\d+)", block[1], re.MULTILINE)
    assert default, "lambda_timeout has a default"
    return int(default[1])


def test_the_modules_default_timeout_leaves_room_for_the_worst_case() -> None:
    """With the module's default lambda_timeout, every call of a refresh may take its worst case
    and the run still ends before Lambda's timeout, with timeouts that suit AWS: a connection in
    at least 1 s, an answer in at least 2.5 s, each call tried three times."""
    timeout = module_default_lambda_timeout()
    assert timeout == DEFAULT_TIMEOUT_SECONDS  # what an invocation without a context assumes
    deadline = Deadline.for_invocation(FakeContext(timeout))
    policy = deadline.policy
    assert SEQUENTIAL_CALLS * policy.worst_case + RESERVE_SECONDS <= timeout
    assert policy.attempts == MAX_ATTEMPTS
    assert policy.connect_timeout >= 1.0
    assert policy.read_timeout >= 2.5


# ---- the handler against an endpoint that never answers ----------------------------------------


def run_failed(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    return record


HANGING: list[tuple[str, str, type[RotatorError]]] = [
    ("secretsmanager", "GetSecretValue", SecretError),
    ("ecr", "GetAuthorizationToken", EcrTokenError),
    ("secretsmanager", "PutSecretValue", SecretError),
    ("secretsmanager", "UpdateSecretVersionStage", SecretError),
]


@pytest.mark.parametrize("case", HANGING, ids=[operation for _, operation, _ in HANGING])
def test_a_call_that_never_gets_an_answer_ends_the_run_before_the_deadline(
    harness: Harness,
    black_hole: str,
    caplog: pytest.LogCaptureFixture,
    case: tuple[str, str, type[RotatorError]],
) -> None:
    service, operation, error = case
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG")
    before = harness.snapshot(arn)
    send_to(black_hole, service, operation)
    context = FakeContext(INVOCATION_SECONDS)
    reset_capture(caplog)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(error) as raised:
        handler.lambda_handler({}, context)

    assert context.get_remaining_time_in_millis() > 0  # ended before Lambda would have
    assert "ReadTimeoutError" in str(raised.value)
    texts = [*record_texts(caplog.records), *exception_texts(raised.value)]
    assert leaks(texts, [*harness.issued.secret_material(), *SEED_MATERIAL]) == []
    assert f"{service}:{operation}" in run_failed(caplog).waiting_for  # type: ignore[attr-defined]
    after = harness.snapshot(arn)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )


def test_a_per_service_endpoint_that_never_answers(
    harness: Harness,
    black_hole: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same through botocore's own configuration: AWS_ENDPOINT_URL_SECRETS_MANAGER."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", black_hole)
    context = FakeContext(INVOCATION_SECONDS)

    with pytest.raises(SecretError, match="cannot reach Secrets Manager for GetSecretValue"):
        handler.lambda_handler({}, context)

    assert context.get_remaining_time_in_millis() > 0
    assert run_failed(caplog).waiting_for == "secretsmanager:GetSecretValue"  # type: ignore[attr-defined]


@pytest.fixture
def answer_withheld() -> Iterator[threading.Event]:
    """Set it to let the function's held requests go: they then fail without being sent (after
    the test, a request sent from a thread the function abandoned would find moto gone)."""
    released = threading.Event()
    yield released
    released.set()


def hold_requests(service: str, operation: str, released: threading.Event) -> None:
    """The function's `operation` requests get no answer until `released` (as from a server
    that takes its time, or trickles its answer: the read timeout bounds each wait for bytes,
    not the whole answer); then they fail."""

    def hold(**_: Any) -> None:
        released.wait(60)
        raise RuntimeError("released by the test: never sent")

    on_function_calls(f"before-send.{EVENT_SERVICE[service]}.{operation}", hold)


def test_an_answer_slower_than_the_call_may_take_is_not_waited_for(
    harness: Harness, caplog: pytest.LogCaptureFixture, answer_withheld: threading.Event
) -> None:
    """botocore's timeouts did not end the call (its answer is on its way, as far as they can
    tell): the run stops waiting once the call has taken longer than its worst case, names it,
    and ends before the deadline with the secret as it was."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    before = harness.snapshot(arn)
    hold_requests("secretsmanager", "GetSecretValue", answer_withheld)
    context = FakeContext(INVOCATION_SECONDS)

    with pytest.raises(DeadlineError) as raised:
        handler.lambda_handler({}, context)

    assert context.get_remaining_time_in_millis() > 0
    message = str(raised.value)
    assert message.startswith("gave up waiting for secretsmanager:GetSecretValue after ")
    assert "(longer than it may take)" in message
    assert "resolving the endpoint's name" in message  # what botocore's timeouts do not bound
    assert run_failed(caplog).waiting_for == "secretsmanager:GetSecretValue"  # type: ignore[attr-defined]
    answer_withheld.set()
    assert harness.snapshot(arn) == before


def test_a_write_given_up_on_is_the_last_step_of_the_run(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """The refresh's dependent calls run one after another on one worker (Deadline.chain): when
    the write's answer is late, the run gives up on it by its own limit, names it, and nothing
    after it happens, even once the late answer comes: AWSCURRENT is not moved to the version
    (the run has already reported its failure), and the next run starts from there."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    harness.invoke()
    before = harness.snapshot(arn)
    released, answered = threading.Event(), threading.Event()
    on_function_calls(
        f"before-send.{EVENT_SERVICE['secretsmanager']}.PutSecretValue",
        lambda **_: released.wait(60) and None,
    )
    on_function_calls(
        f"after-call.{EVENT_SERVICE['secretsmanager']}.PutSecretValue",
        lambda **_: answered.set(),
    )
    moves: list[str] = []
    on_function_calls(
        f"before-call.{EVENT_SERVICE['secretsmanager']}.UpdateSecretVersionStage",
        lambda **_: moves.append("sent"),
    )
    caplog.clear()

    with pytest.raises(DeadlineError) as raised:
        handler.lambda_handler({}, FakeContext(INVOCATION_SECONDS))
    released.set()  # the write goes through now, late
    assert answered.wait(10)
    time.sleep(0.5)  # time for a move, were the abandoned chain to go on

    message = str(raised.value)
    assert message.startswith("gave up waiting for secretsmanager:PutSecretValue after ")
    assert "(longer than it may take)" in message
    assert run_failed(caplog).waiting_for == "secretsmanager:PutSecretValue"  # type: ignore[attr-defined]
    assert moves == []
    assert [r.event for r in caplog.records if hasattr(r, "event")][-1] == "run_failed"  # type: ignore[attr-defined]
    after = harness.snapshot(arn)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )


@pytest.mark.parametrize(
    ("service", "endpoint"),
    [(aws.SECRETS_MANAGER, "secretsmanager"), (aws.ECR, "ecr.api"), (aws.ECR_PUBLIC, None)],
    ids=lambda value: getattr(value, "label", None),
)
def test_in_lambda_a_call_given_up_on_points_at_dns_and_the_vpc_path(
    monkeypatch: pytest.MonkeyPatch, service: aws.Service, endpoint: str | None
) -> None:
    """What `run_failed` says in the function (no endpoint of one's own configured) when a call
    was abandoned: name resolution and the addresses, and the VPC's way to the service."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ecr-token-rotator")
    region = "eu-central-1"

    advice = aws.stalled(service, region)

    assert "resolving the endpoint's name" in advice
    assert "addresses that drop connections" in advice
    assert "in VPC mode a NAT gateway" in advice
    assert "DNS" in advice
    if endpoint:
        assert f"com.amazonaws.{region}.{endpoint} interface endpoint" in advice
    else:
        assert "has no VPC endpoint" in advice


@dataclass
class DeadlineClock:
    """The deadline's clock (deadline.monotonic), moved on by the test: "this answer took 2 s"."""

    now: float = 1000.0

    def monotonic(self) -> float:
        return self.now

    def takes(self, seconds: float) -> Callable[..., None]:
        """A botocore hook: the call it runs in takes `seconds` more on this clock."""

        def advance(**_: Any) -> None:
            self.now += seconds

        return advance


def test_a_call_that_could_not_finish_in_time_is_not_sent(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read and the write are each answered in 2 s, within the 2.2 s a call may take with a
    5 s budget (1.2 s, its worst case, and the 1 s of overrun waited for), leaving 1 s: less
    than the 1.2 s moving AWSCURRENT may take. That call is not sent: the run could not wait for
    its answer, and AWSCURRENT would be left where nobody knows. The run fails naming it, the
    secret keeps its AWSCURRENT, and the next run starts from there. (Time is the deadline's own
    clock, moved on by the test, so this is exact.) A first refresh has published, so the secret is
    read in one call (the function's label is on AWSCURRENT)."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    harness.invoke()
    before = harness.snapshot(arn)
    clock = DeadlineClock()
    monkeypatch.setattr(deadline_module, "monotonic", clock.monotonic)
    deadline = Deadline.for_invocation(FakeContext(INVOCATION_SECONDS))
    assert (deadline.budget, deadline.policy.worst_case) == (5, pytest.approx(1.2))
    for operation in ("GetSecretValue", "PutSecretValue"):
        on_function_calls(
            f"after-call.{EVENT_SERVICE['secretsmanager']}.{operation}", clock.takes(2.0)
        )
    moves: list[str] = []
    on_function_calls(
        f"before-call.{EVENT_SERVICE['secretsmanager']}.UpdateSecretVersionStage",
        lambda **_: moves.append("sent"),
    )

    with pytest.raises(DeadlineError) as raised:
        handler.lambda_handler({}, FakeContext(INVOCATION_SECONDS))

    assert str(raised.value).startswith(
        "stopped before secretsmanager:UpdateSecretVersionStage: 1.0 s of the run's 5 s are left"
    )
    assert run_failed(caplog).waiting_for == "secretsmanager:UpdateSecretVersionStage"  # type: ignore[attr-defined]
    assert moves == []
    after = harness.snapshot(arn)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )


def test_the_cli_timeout_bounds_a_refresh(
    harness: Harness, black_hole: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    send_to(black_hole, "secretsmanager", "GetSecretValue")
    started = time.monotonic()

    code = cli.main(["refresh", "--secret-id", arn, "--timeout", str(INVOCATION_SECONDS)])

    assert code == 1
    assert time.monotonic() - started < INVOCATION_SECONDS
    assert "cannot reach Secrets Manager for GetSecretValue" in capsys.readouterr().err


@pytest.mark.parametrize("timeout", ["0", "4", "-1", "soon"])
def test_the_cli_refuses_a_timeout_too_short_to_run(
    capsys: pytest.CaptureFixture[str], timeout: str
) -> None:
    assert cli.main(["refresh", "--secret-id", "s", "--timeout", timeout]) == 2
    assert "not a number of seconds above" in capsys.readouterr().err


def test_the_contract_states_the_default_calls_as_they_are() -> None:
    """As Lambda calls the handler: a little less than the timeout is left."""
    policy = Deadline.for_invocation(FakeContext(module_default_lambda_timeout())).policy
    contract = (REPO / "docs" / "contract.md").read_text()
    assert (
        f"with the default {module_default_lambda_timeout()}-second `lambda_timeout`: "
        f"{policy.attempts} attempts of {policy.connect_timeout} s to\nconnect and "
        f"{policy.read_timeout} s to answer"
    ) in contract

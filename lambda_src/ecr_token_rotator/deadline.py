"""The run's deadline, and AWS call timeouts and attempts derived from it.

Lambda ends an invocation at its timeout with "Task timed out": no `run_failed` log, no hint of
what hung. So a run gets a budget (the invocation's remaining time minus a reserve for logging
the failure; the CLI's `--timeout`), and every AWS call is bounded by botocore itself:

- `CallPolicy`: connect and read timeouts and botocore attempts such that one call, in the worst
  case (every attempt waiting its full timeouts, plus botocore's throttling backoff between
  attempts), takes at most a quarter of the budget: a refresh is four such calls one after the
  other (reading the secret while the tokens are fetched, the pull probe, writing the new
  version, moving AWSCURRENT to it).
- `Deadline.check(step)` before every call: a call whose worst case no longer fits in the
  remaining time is not started, and the run fails naming the step it would have waited for.

So a run ends before its Lambda does, whatever the network does.
"""

from __future__ import annotations

import math
from time import monotonic, sleep
from typing import NamedTuple, Protocol

from .errors import DeadlineError

# Left at the end of the invocation to log the failure and return it (Lambda's own timeout
# would end the run silently).
RESERVE_SECONDS = 2.0
# The module's default lambda_timeout; also the CLI's default --timeout and the budget of an
# invocation whose context does not say (a test's, a local run's).
DEFAULT_TIMEOUT_SECONDS = 60
# Dependent AWS calls of a refresh (read || fetch, probe, put, move): each gets 1/4 of the budget.
SEQUENTIAL_CALLS = 4
MAX_ATTEMPTS = 3
MAX_CONNECT_TIMEOUT = 2.0
MAX_READ_TIMEOUT = 5.0
# Below this per attempt, fewer attempts with longer timeouts serve better than more short ones.
MIN_ATTEMPT_SECONDS = 3.0
MIN_TIMEOUT = 0.2
# botocore's standard retry mode sleeps up to min(2 ** i, 20) seconds before retry i+1 when
# throttled (rand(0, 1) * that; far less for other errors).
MAX_BACKOFF = 20.0


def _backoff_allowance(attempts: int) -> float:
    return sum(min(2.0**i, MAX_BACKOFF) for i in range(attempts - 1))


def _tenths(seconds: float) -> float:
    """Rounded down to 0.1 s, so that nearly equal budgets share one client configuration."""
    return max(MIN_TIMEOUT, math.floor(seconds * 10) / 10)


class CallPolicy(NamedTuple):
    """botocore settings of every AWS call of a run (clients are cached per policy)."""

    attempts: int
    connect_timeout: float
    read_timeout: float

    @property
    def worst_case(self) -> float:
        """The longest one call can take: every attempt times out, with backoff in between."""
        attempts_time = self.attempts * (self.connect_timeout + self.read_timeout)
        return attempts_time + _backoff_allowance(self.attempts)


def call_policy(budget: float) -> CallPolicy:
    """The most attempts (up to MAX_ATTEMPTS) whose worst case fits in a quarter of `budget`."""
    share = max(budget, 0.0) / SEQUENTIAL_CALLS
    attempts = MAX_ATTEMPTS
    while attempts > 1:
        if (share - _backoff_allowance(attempts)) / attempts >= MIN_ATTEMPT_SECONDS:
            break
        attempts -= 1
    per_attempt = (share - _backoff_allowance(attempts)) / attempts
    connect = _tenths(min(MAX_CONNECT_TIMEOUT, per_attempt / 3))
    read = _tenths(min(MAX_READ_TIMEOUT, per_attempt - connect))
    return CallPolicy(attempts=attempts, connect_timeout=connect, read_timeout=read)


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class Deadline:
    """When the run must be over, and how long each AWS call may take until then."""

    def __init__(self, budget: float, *, limit: str) -> None:
        self.budget = max(budget, 0.0)
        self.limit = limit  # what sets the budget, named in errors: lambda_timeout or --timeout
        self.policy = call_policy(self.budget)
        self._started = monotonic()

    @classmethod
    def for_invocation(cls, context: object) -> Deadline:
        """The budget of a Lambda invocation: its remaining time, less the reserve."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        seconds = remaining() / 1000 if callable(remaining) else DEFAULT_TIMEOUT_SECONDS
        # Whole seconds: every invocation of a function gets the same policy (and cached clients).
        return cls(math.floor(seconds - RESERVE_SECONDS), limit="lambda_timeout")

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        """The CLI's `--timeout`."""
        return cls(seconds - RESERVE_SECONDS, limit="--timeout")

    def elapsed(self) -> float:
        return monotonic() - self._started

    def remaining(self) -> float:
        return self.budget - self.elapsed()

    def check(self, step: str) -> None:
        """Refuse to start `step` (an AWS call or a probe) when its worst case would not fit."""
        left = self.remaining()
        if left < self.policy.worst_case:
            error = DeadlineError(
                f"stopped before {step}: {max(left, 0):.1f} s of the run's {self.budget:.0f} s "
                f"are left ({self.limit}), and the call may take up to "
                f"{self.policy.worst_case:.1f} s; the earlier calls took {self.elapsed():.1f} s, "
                "so AWS answers slowly: check the network path, or raise "
                f"{self.limit}"
            )
            error.step = step
            raise error

    def sleep(self, seconds: float) -> None:
        sleep(seconds)

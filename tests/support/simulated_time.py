"""Simulated time for the real handler: a day or a week of runs passes in seconds.

`simulate_time` points every clock a run reads at one `SimulatedTime`: the function's
`datetime.now` (where it reads it; the rest receives it as `now`), the deadline's monotonic clock
and its sleeps, the EMF metric's timestamp, the patched ECR's token expiries, Secrets Manager's
(moto's) version creation times, and botocore's backoff sleeps between retries. Time moves only
when the test (or a hook standing for a slow network) advances it, so runs are exact and fast.

`Context` is a Lambda context on that clock, and `invoke_async` runs an event as Lambda runs an
asynchronous invocation (EventBridge's): a failed run is retried twice, a minute and then two
minutes later.
"""

from __future__ import annotations

import threading
import types
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import botocore.endpoint
from moto.secretsmanager import models as secretsmanager_models

from ecr_token_rotator import deadline as deadline_module
from ecr_token_rotator import handler, observability, refresh, rotation
from ecr_token_rotator.errors import RotatorError

if TYPE_CHECKING:
    import pytest

    from tests.conftest import Harness

LAMBDA_RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=2))  # async invoke, function errors
LAMBDA_TIMEOUT_SECONDS = 60  # the module's default lambda_timeout


class SimulatedTime:
    """One clock for the function, its deadline, the patched ECR and Secrets Manager. Hooks on
    the function's worker threads (a slow AWS call) may advance it too, hence the lock."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.ticks = 1000.0  # the deadline's monotonic clock
        self._lock = threading.Lock()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta
            self.ticks += delta.total_seconds()

    def advance_to(self, moment: datetime) -> None:
        if moment > self.now:
            self.advance(moment - self.now)

    def monotonic(self) -> float:
        return self.ticks

    def epoch(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.advance(timedelta(seconds=seconds))


def simulate_time(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> SimulatedTime:
    simulated = SimulatedTime(datetime.now(UTC).replace(second=0, microsecond=0))

    class SimulatedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> SimulatedDatetime:
            return simulated.now  # type: ignore[return-value]

    # The modules that ask for the time of the run (the rest receive it as `now`).
    for module in (handler, refresh, rotation):
        monkeypatch.setattr(module, "datetime", SimulatedDatetime)
    monkeypatch.setattr(deadline_module, "monotonic", simulated.monotonic)
    monkeypatch.setattr(deadline_module, "sleep", simulated.sleep)
    monkeypatch.setattr(observability, "time", types.SimpleNamespace(time=simulated.epoch))
    harness.issued.clock = lambda: simulated.now
    # Secrets Manager's clock: when it created each version.
    monkeypatch.setattr(secretsmanager_models, "time", types.SimpleNamespace(time=simulated.epoch))
    # botocore's backoff between retries (throttling) takes simulated time, not real time.
    no_wait = types.SimpleNamespace(**{**vars(botocore.endpoint.time), "sleep": simulated.sleep})
    monkeypatch.setattr(botocore.endpoint, "time", no_wait)
    return simulated


class Context:
    """A Lambda context with the module's default 60-second timeout, in simulated time."""

    function_name = "ecr-token-rotator"

    def __init__(self, time: SimulatedTime, timeout: float = LAMBDA_TIMEOUT_SECONDS) -> None:
        self._time = time
        self._end = time.ticks + timeout

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._time.ticks) * 1000)


def invoke_async(time: SimulatedTime, event: dict[str, Any]) -> int:
    """An asynchronous invocation as Lambda runs it: a failed run is retried twice, a minute and
    two minutes later. Returns the number of runs."""
    for attempt, delay in enumerate((timedelta(0), *LAMBDA_RETRY_DELAYS), start=1):
        time.advance(delay)
        try:
            handler.lambda_handler(dict(event), Context(time))
        except RotatorError:
            continue
        return attempt
    raise AssertionError("an event failed with every retry")

"""The run's deadline, and AWS call timeouts and attempts derived from it.

Lambda ends an invocation at its timeout with "Task timed out": no `run_failed` log, no hint of
what hung. So a run gets a budget (the invocation's remaining time minus a reserve for logging
the failure; the CLI's `--timeout`), and every wait of the run is bounded by it:

- `CallPolicy`: connect and read timeouts and botocore attempts such that one call, in the worst
  case (every attempt waiting its full timeouts, plus botocore's throttling backoff between
  attempts), takes at most a quarter of the budget: a refresh is four such calls one after the
  other (reading the secret while the tokens are fetched, the pull probe, writing the new
  version, moving AWSCURRENT to it).
- `Deadline.run(step, call)` (or `start(...)`, then `result()`, for calls that overlap): a call
  whose worst case no longer fits in the remaining time is not started, and the run fails naming
  the step it would have waited for. A started call runs on a worker thread, and the run waits for
  it no longer than its worst case (plus `OVERRUN_SECONDS`) nor past the budget: botocore's
  timeouts do not bound name resolution (getaddrinfo), and its connect timeout applies to each of
  a name's addresses in turn, so only a bounded wait holds whatever DNS and the network do. A call
  waited for in vain is abandoned: the run fails with `DeadlineError` naming the step, and the
  call's late result, whenever it comes, is dropped.

`Deadline.chain(label, steps)` runs a run's dependent steps (read, publish: each call needs the
one before) on one worker instead of handing every call to a worker of its own: inside the chain,
`run` calls inline, each call still checked against the remaining time and given its own time
limit, and the waiting thread wakes when the chain ends, or when the step under way has outlasted
its limit: then it gives up naming that step, and the chain stops before its next step. (A hand-off
to a worker costs a good part of what a refresh's own work does: one per run, not one per call.)

Workers are daemon threads kept for the next (warm) invocation: an abandoned call still hanging
in getaddrinfo neither keeps the CLI's interpreter from exiting nor holds up the next invocation
(which takes another worker). So a run ends before its Lambda does, whatever the network does.
"""

from __future__ import annotations

import functools
import math
import queue
import threading
from collections.abc import Callable
from time import monotonic, sleep
from typing import Generic, NamedTuple, Protocol, TypeVar, cast

from .errors import DeadlineError

T = TypeVar("T")

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
# How much longer than its worst case a started call is waited for: botocore's (or http.client's)
# own timeout error, which says more, comes a little after the worst case under CPU contention.
OVERRUN_SECONDS = 1.0
# Idle workers kept for the next invocation: a refresh uses one per ECR region, plus one.
MAX_IDLE_WORKERS = 16


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
        return _worst_case(self)


@functools.lru_cache(maxsize=64)
def _worst_case(policy: CallPolicy) -> float:
    # Asked before every call of every run, of the few policies a process ever has.
    attempts_time = policy.attempts * (policy.connect_timeout + policy.read_timeout)
    return attempts_time + _backoff_allowance(policy.attempts)


@functools.lru_cache(maxsize=64)
def call_policy(budget: float) -> CallPolicy:
    """The most attempts (up to MAX_ATTEMPTS) whose worst case fits in a quarter of `budget`.
    (Cached: a function's invocations have the same whole-second budget.)"""
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
        self._call_bound = self.policy.worst_case + OVERRUN_SECONDS  # how long a call is waited for
        self._started = monotonic()
        self.ends = self._started + self.budget  # on the monotonic clock

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

    def check(self, step: str, worst_case: float | None = None) -> None:
        """Refuse to start `step` when its worst case (default: one AWS call's) would not fit in
        the remaining time: a call that cannot be waited for to the end is not sent at all."""
        needed = self.policy.worst_case if worst_case is None else worst_case
        left = self.remaining()
        if left < needed:
            error = DeadlineError(
                f"stopped before {step}: {max(left, 0):.1f} s of the run's {self.budget:.0f} s "
                f"are left ({self.limit}), and it may take up to {needed:.1f} s; the earlier "
                f"steps took {self.elapsed():.1f} s, so AWS answers slowly: check the network "
                f"path, or raise {self.limit}"
            )
            error.step = step
            raise error

    def start(
        self,
        step: str,
        call: Callable[[], T],
        *,
        worst_case: float | None = None,
        advice: Callable[[], str] | None = None,
    ) -> Pending[T]:
        """Start `call` (one AWS call, a token fetch, a probe) on a worker thread, after `check`;
        `result()` of what this returns waits for it within the deadline.

        `worst_case` is the longest `call` may take (default: one AWS call's under `policy`);
        `advice`, asked only when the call is abandoned, says what to check (the network path)."""
        self.check(step, worst_case)
        bound = self._wait_bound(worst_case)
        ends = min(monotonic() + bound, self.ends)
        pending = Pending(self, step, call, ends=ends, advice=advice)
        _workers.submit(pending.run)
        return pending

    def run(
        self,
        step: str,
        call: Callable[[], T],
        *,
        worst_case: float | None = None,
        advice: Callable[[], str] | None = None,
    ) -> T:
        """`call()` within the deadline: `start(...).result()`; inside a chain of this deadline,
        on the chain's worker, as its next step (see `chain`)."""
        chain: Chain[object] | None = getattr(_running, "chain", None)
        if chain is None or chain._deadline is not self:
            return self.start(step, call, worst_case=worst_case, advice=advice).result()
        self.check(step, worst_case)
        bound = self._wait_bound(worst_case)
        chain.enter(step, min(monotonic() + bound, self.ends), advice, bounded=False)
        try:
            return call()
        finally:
            chain.leave()

    def _wait_bound(self, worst_case: float | None) -> float:
        """How long a started call is waited for: its worst case (default: one AWS call's) plus
        OVERRUN_SECONDS."""
        return self._call_bound if worst_case is None else worst_case + OVERRUN_SECONDS

    def chain(self, label: str, steps: Callable[[], T]) -> T:
        """`steps()` on one worker, its `run` calls inline (see the module's docstring), waited
        for within the deadline: a `DeadlineError` naming the step under way when that step has
        outlasted its own limit or the budget is up (`label` names the chain before its first
        step). Inside a chain already, `steps()` is part of it."""
        if getattr(_running, "chain", None) is not None:
            return steps()
        # Until its first call: one call's limit (the chain's first step comes at once).
        ends = min(monotonic() + self._call_bound, self.ends)
        chain = Chain(self, label, steps, ends=ends, advice=None)
        _workers.submit(chain.run)
        return chain.result()

    def sleep(self, seconds: float) -> None:
        sleep(seconds)


class Pending(Generic[T]):
    """A call under way on a worker (see `Deadline.start`)."""

    __slots__ = (
        "_advice",
        "_call",
        "_deadline",
        "_done",
        "_ended",
        "_ends",
        "_error",
        "_started",
        "_value",
        "step",
    )

    def __init__(
        self,
        deadline: Deadline,
        step: str,
        call: Callable[[], T],
        *,
        ends: float,
        advice: Callable[[], str] | None,
    ) -> None:
        self.step = step
        self._deadline = deadline
        self._call = call
        self._started = monotonic()
        self._ends = ends
        self._advice = advice
        # Held until the call has ended: a bare lock is the cheapest signal between two threads.
        self._done = threading.Lock()
        self._done.acquire()
        self._ended = False  # seen ended by result()
        self._value: T | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        """On the worker: run the call, keep what it returned or raised."""
        try:
            self._value = self._call()
        except BaseException as e:  # handed to the waiting thread as it is
            self._error = e
        self._done.release()

    def result(self) -> T:
        """What the call returned (or raise what it raised); a `DeadlineError` naming the step
        when it has not ended by its worst case or the end of the budget: it is abandoned, and
        whatever it returns or raises later is dropped."""
        if not self._ended:
            chain: Chain[object] | None = getattr(_running, "chain", None)
            if chain is not None:  # a chain's step waits for this call: name it while it does
                chain.enter(self.step, self._ends, self._advice, bounded=True)
            if not self._done.acquire(timeout=max(self._ends - monotonic(), 0.0)):
                raise self._abandoned()
            self._ended = True
            if chain is not None:
                chain.leave()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)

    def _abandoned(self) -> DeadlineError:
        return _abandoned(self._deadline, self.step, self._started, self._ends, self._advice)


def _abandoned(
    deadline: Deadline,
    step: str,
    started: float,
    ends: float,
    advice: Callable[[], str] | None,
) -> DeadlineError:
    """The error of a wait given up on: `step`, started at `started`, had until `ends`."""
    if ends < deadline.ends:
        why = "longer than it may take"
    else:
        why = f"the run's {deadline.budget:.0f} s ({deadline.limit}) were up"
    what = advice() if advice else f"check the network path, or raise {deadline.limit}"
    error = DeadlineError(
        f"gave up waiting for {step} after {monotonic() - started:.1f} s ({why}) so that the run "
        f"ends in time; {what}"
    )
    error.step = step
    return error


class _ChainAbandoned(BaseException):
    """Raised on an abandoned chain's worker at its next step, so that nothing more of it happens;
    no handler of the function's catches it, and the worker drops it."""


class Chain(Pending[T]):
    """Dependent steps under way on one worker (see `Deadline.chain`).

    The waiting thread sleeps until the chain ends or until the limit of the step under way, and
    sleeps on while a later step is under way: the worker does not wake it for each step. A call
    the chain makes itself (`Deadline.run`) may have a sooner limit than the one slept to (after a
    step allowed longer): that one wakes the waiting thread. A wait for a call on another worker
    (`Pending.result`) is bounded on the chain's worker by that call's own limit, and is only named
    while it lasts. Between steps (the chain's own work, no waits) the budget is the limit."""

    __slots__ = ("_abandon", "_signalled", "_state", "_step_started", "_waking_at")

    def __init__(
        self,
        deadline: Deadline,
        step: str,
        call: Callable[[], T],
        *,
        ends: float,
        advice: Callable[[], str] | None,
    ) -> None:
        super().__init__(deadline, step, call, ends=ends, advice=advice)
        # What the waiting thread names and how long it waits: the step under way (at first the
        # chain's label, until its first call's limit), else the budget.
        self._state = threading.Lock()  # guards the step under way and the flags below
        self._step_started = self._started
        self._abandon = False  # the waiting thread gave up: the worker stops at its next step
        self._signalled = False  # `_done` released and not yet taken back by the waiting thread
        self._waking_at = ends  # when the waiting thread wakes, unless signalled sooner

    def run(self) -> None:
        _running.chain = self
        try:
            self._value = self._call()
        except _ChainAbandoned:
            pass
        except BaseException as e:  # handed to the waiting thread as it is
            self._error = e
        finally:
            _running.chain = None
        with self._state:
            self._ended = True
            self._signal()

    def _signal(self) -> None:
        if not self._signalled:
            self._signalled = True
            self._done.release()

    def enter(
        self, step: str, ends: float, advice: Callable[[], str] | None, *, bounded: bool
    ) -> None:
        """On the worker: `step` begins, and may take until `ends` (`bounded`: the worker's own
        wait ends then, no need to wake the waiting thread sooner)."""
        with self._state:
            if self._abandon:
                raise _ChainAbandoned
            self.step, self._ends, self._advice = step, ends, advice
            self._step_started = monotonic()
            if not bounded and ends < self._waking_at:
                self._signal()

    def leave(self) -> None:
        """On the worker: the step ended (until the next one, the budget bounds the chain); stop
        here if the waiting thread has given up."""
        with self._state:
            if self._abandon:
                raise _ChainAbandoned
            self._ends = self._deadline.ends

    def result(self) -> T:
        """What the chain returned (or raise what it raised); a `DeadlineError` naming the step
        under way once it has outlasted its limit (the chain stops before its next step)."""
        while True:
            with self._state:
                if self._ended:
                    break
                self._waking_at = ends = self._ends
                left = ends - monotonic()
                if left <= 0:
                    self._abandon = True
                    raise _abandoned(
                        self._deadline, self.step, self._step_started, ends, self._advice
                    )
            if self._done.acquire(timeout=left):
                with self._state:
                    self._signalled = False
        if self._error is not None:
            raise self._error
        return cast(T, self._value)


class _Workers:
    """Daemon threads that run started calls, kept idle between calls (and invocations).

    Starting a thread costs up to a millisecond under GIL contention, as much as a refresh's own
    work; a call handed to an idle worker costs a fraction of that. Daemon threads, because a
    worker may be stuck in an abandoned call (getaddrinfo has no timeout) when the CLI exits.
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # workers waiting for a task, or about to

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1  # that worker takes this task (or another, then one takes this)
        self._tasks.put(task)
        if spawn:
            threading.Thread(target=self._work, name="ecr-token-rotator-call", daemon=True).start()

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            task()
            del task  # nothing of a finished call (a secret's value) stays referenced while idle
            with self._lock:
                if self._idle >= MAX_IDLE_WORKERS:
                    return
                self._idle += 1


_workers = _Workers()
_running = threading.local()  # `.chain`: the chain this worker runs, if any

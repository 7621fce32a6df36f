"""The module's alarms do what the README promises, over simulated days: each configuration below
is planned offline (tools/terraform/harness.py) and its aws_cloudwatch_metric_alarm values, as
Terraform plans them, run through the CloudWatch model of tests/support/cloudwatch_alarms.py
(evaluated every minute, missing data as AWS documents it) against the datapoints the function
emits at its runs.

- errors: one failed invocation within an hour is ALARM at the default threshold of 1;
- expiry (TokenSecondsToExpiry, what AWSCURRENT holds after each run): OK through healthy days at
  the schedule (late starts, slow runs, a failed attempt Lambda retries, rotation's steps); ALARM
  at least the warning before the credential expires when every run fails (values falling run by
  run) or no run reports at all, staying in ALARM until a run refreshes it.

Skipped where terraform or ../shared is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support import alarm_plans
from tests.support.cloudwatch_alarms import (
    AlarmEvaluator,
    AlarmState,
    MetricAlarm,
    Metrics,
    first_time,
    planned_alarms,
)
from tools.terraform.harness import PlannedCalls

TOKEN_SECONDS = 12 * 3600
HOUR, MINUTE = 3600, 60
START = 1_800_000_000  # a whole minute; the apply-time invocation runs then
FUNCTION = {"FunctionName": "ecr-token-rotator"}


@dataclass(frozen=True)
class Case:
    inputs: dict[str, Any]
    interval_minutes: int  # schedule interval, or rotation hours x 60
    rotation: bool = False  # rotations start anywhere in an hour-long window
    timeout_seconds: int = 60
    warning_minutes: int = 180  # what the README promises for this configuration


CASES = {
    "defaults": Case({}, 360),
    "every_30_minutes": Case({"schedule_expression": "rate(30 minutes)"}, 30),
    "every_8_hours": Case({"schedule_expression": "rate(8 hours)"}, 480, warning_minutes=154),
    "rotation_every_4_hours": Case(
        {"trigger_mode": "rotation", "rotation_schedule_expression": "rate(4 hours)"},
        240,
        rotation=True,
    ),
    "rotation_every_8_hours_slow_runs": Case(
        {
            "trigger_mode": "rotation",
            "rotation_schedule_expression": "rate(8 hours)",
            "lambda_timeout": 900,
        },
        480,
        rotation=True,
        timeout_seconds=900,
        warning_minutes=80,
    ),
    "warned_6_hours_ahead": Case(
        {"schedule_expression": "rate(2 hours)", "alarms": {"expiry_warning_hours": 6}},
        120,
        warning_minutes=360,
    ),
    "errors_threshold_3": Case({"alarms": {"errors_threshold": 3}}, 360),
}


alarm_plans.register(
    "alarm_plan",
    {call: ("eu-central-1", case.inputs) for call, case in CASES.items()},
    targets=("aws_cloudwatch_metric_alarm.errors", "aws_cloudwatch_metric_alarm.expiry"),
)


@pytest.fixture(scope="session")
def alarm_plan() -> PlannedCalls:
    return alarm_plans.planned("alarm_plan")


def alarm(planned: PlannedCalls, call: str, name: str) -> MetricAlarm:
    return planned_alarms(planned.resources[call])[name]


# ---- the function's runs, as datapoints ------------------------------------------------------


class Runs:
    """Runs of the function for one configuration: when each starts and ends, and what it emits.
    `expires_at` is the expiry of the credential AWSCURRENT holds; `reports` when each run that
    published reported it."""

    def __init__(self, case: Case, metrics: Metrics) -> None:
        self.case = case
        self.metrics = metrics
        self.expires_at = 0.0
        self.reports: list[float] = []
        self.count = 0  # runs so far: picks each run's delay and duration, deterministically

    def starts(self, first: float, until: float) -> Iterator[float]:
        """Scheduled starts from `first`: EventBridge and Lambda start a run up to 4 minutes late;
        rotations start anywhere in their hour-long window, here alternately at its start and at
        its end (the longest gap between two rotations: the interval + the window)."""
        k = 0
        while True:
            base = first + k * self.case.interval_minutes * MINUTE
            if self.case.rotation:
                offset = [0, 60, 59, 1][k % 4] * MINUTE + (k * 17) % 50
            else:
                offset = (k * 97) % (4 * MINUTE) if k else 0
            if base + offset > until:
                return
            yield base + offset
            k += 1

    def duration(self) -> float:
        """2 s, 5 s or the whole timeout, in turn."""
        self.count += 1
        return [2.0, 5.0, float(self.case.timeout_seconds)][self.count % 3]

    def emit(self, at: float) -> None:
        left = max(0.0, self.expires_at - at)
        self.metrics.put("ECRTokenRotator", "TokenSecondsToExpiry", FUNCTION, at, left)

    def succeed(self, start: float) -> None:
        """A published (or superseded) run: AWSCURRENT gets the token fetched at its start. In
        rotation mode createSecret, setSecret and testSecret run first and see the old one."""
        if self.case.rotation:
            for step in range(3):
                self.emit(start + 5 * step)
            start += 15
        end = start + self.duration()
        self.expires_at = max(self.expires_at, start + TOKEN_SECONDS)
        self.emit(end)
        self.reports.append(end)

    def fail(self, start: float, *, retries: int = 2) -> None:
        """A failed run, and Lambda's retries a minute, then two more, later: AWSCURRENT stays."""
        for attempt, delay in enumerate((0, MINUTE, 3 * MINUTE)[: retries + 1]):
            self.emit(start + delay + self.duration() + attempt)


def evaluate(model: MetricAlarm, metrics: Metrics, start: float, end: float):
    evaluator = AlarmEvaluator(model, metrics)
    return evaluator, evaluator.run(start, end)


def after_first_report(runs: Runs) -> float:
    """The first evaluation after the first run reported (the alarm is in ALARM until then)."""
    return runs.reports[0] + MINUTE


# ---- the errors alarm --------------------------------------------------------------------------


def errors(metrics: Metrics, at: float, count: int) -> None:
    metrics.put("AWS/Lambda", "Errors", FUNCTION, at, count)


def test_one_failed_invocation_within_an_hour_raises_the_errors_alarm(alarm_plan):
    model = alarm(alarm_plan, "defaults", "errors")
    metrics = Metrics()
    for run in range(8):  # every 6 hours; Lambda reports 0 errors for each good invocation
        errors(metrics, START + run * 6 * HOUR + 10, 0)
    failed = START + 24 * HOUR + 3 * HOUR + 20
    errors(metrics, failed, 1)
    errors(metrics, failed + MINUTE, 0)  # its retry succeeds

    _, history = evaluate(model, metrics, START, START + 2 * 24 * HOUR)

    assert first_time(history, AlarmState.ALARM) == failed - 20 + MINUTE
    assert all(state is AlarmState.OK for at, state in history if START < at < failed)


def test_errors_threshold_counts_failures_within_an_hour(alarm_plan):
    model = alarm(alarm_plan, "errors_threshold_3", "errors")
    metrics = Metrics()
    for at in (START + 100, START + 1900):  # two failures: not yet
        errors(metrics, at, 1)
    errors(metrics, START + 5 * HOUR, 1)  # a third, hours later: still two at most per hour
    _, quiet = evaluate(model, metrics, START, START + 8 * HOUR)
    errors(metrics, START + 5 * HOUR + 600, 1)
    errors(metrics, START + 5 * HOUR + 1200, 1)
    _, loud = evaluate(model, metrics, START, START + 8 * HOUR)

    assert first_time(quiet, AlarmState.ALARM) is None
    assert first_time(loud, AlarmState.ALARM) == START + 5 * HOUR + 1260


# ---- the expiry alarm --------------------------------------------------------------------------

EXPIRY_CASES = [call for call in CASES if call != "errors_threshold_3"]


@pytest.mark.parametrize("call", CASES)
def test_every_planned_alarm_is_one_cloudwatch_accepts(alarm_plan, call):
    # MetricAlarm checks PutMetricAlarm's rules (period, period x evaluation periods, M of N)
    for name in ("errors", "expiry"):
        alarm(alarm_plan, call, name)


@pytest.mark.parametrize("call", EXPIRY_CASES)
def test_healthy_runs_keep_the_expiry_alarm_ok(alarm_plan, call):
    case = CASES[call]
    metrics = Metrics()
    runs = Runs(case, metrics)
    end = START + 3 * 24 * HOUR
    for number, start in enumerate(runs.starts(START, end)):
        if number % 5 == 3:
            runs.fail(start, retries=0)  # a failed attempt that Lambda retries a minute later
            runs.succeed(start + MINUTE)
        else:
            runs.succeed(start)

    model = alarm(alarm_plan, call, "expiry")
    evaluator, history = evaluate(model, metrics, after_first_report(runs), end)

    assert {state for _, state in history} == {AlarmState.OK}, evaluator.transitions[:3]


@pytest.mark.parametrize("call", EXPIRY_CASES)
def test_runs_that_keep_failing_raise_the_expiry_alarm_before_expiry(alarm_plan, call):
    case = CASES[call]
    model = alarm(alarm_plan, call, "expiry")
    metrics = Metrics()
    runs = Runs(case, metrics)
    starts = runs.starts(START, START + 3 * 24 * HOUR)
    for _ in range(4):
        runs.succeed(next(starts))
    expires_at = runs.expires_at
    refreshed = expires_at + 10 * MINUTE
    for start in starts:  # every later run fails, with its retries, until one after expiry works
        if start < refreshed:
            runs.fail(start)
    runs.succeed(refreshed)

    _, history = evaluate(model, metrics, after_first_report(runs), refreshed + HOUR)

    raised = first_time(history, AlarmState.ALARM)
    assert raised is not None
    assert case.warning_minutes * MINUTE <= expires_at - raised < model.threshold
    assert all(state is AlarmState.ALARM for at, state in history if raised <= at < refreshed)
    assert first_time(history, AlarmState.OK, after=refreshed) <= runs.reports[-1] + 2 * MINUTE


@pytest.mark.parametrize("call", EXPIRY_CASES)
def test_runs_that_stop_raise_the_expiry_alarm_before_expiry(alarm_plan, call):
    case = CASES[call]
    metrics = Metrics()
    runs = Runs(case, metrics)
    starts = runs.starts(START, START + 3 * 24 * HOUR)
    for _ in range(3):
        runs.succeed(next(starts))  # then the rule is disabled, the function deleted, throttled

    model = alarm(alarm_plan, call, "expiry")
    _, history = evaluate(model, metrics, after_first_report(runs), runs.expires_at + HOUR)

    raised = first_time(history, AlarmState.ALARM)
    assert raised is not None
    assert runs.expires_at - raised >= case.warning_minutes * MINUTE
    assert all(state is AlarmState.ALARM for at, state in history if at >= raised)

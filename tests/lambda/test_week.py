"""A simulated week of the real function in each trigger mode, with the faults of issue 15, and the
module's expiry alarm evaluated on what the runs emitted.

Each case plans the module offline with its trigger settings (tools/terraform/harness.py) and
takes the `<name>-expiry` alarm as Terraform renders it. Then a week passes in simulated time
(tests/support/simulated_time.py), the real `lambda_handler` running against moto:

- schedule mode (rate(6 hours), the default, and rate(30 minutes), the module's shortest):
  EventBridge starts each run up to 4 minutes late, and Lambda retries a failed run twice, a
  minute and two minutes later;
- rotation mode (rate(4 hours), the shortest Secrets Manager allows): each rotation starts
  anywhere in its hour-long window, Secrets Manager runs createSecret, setSecret, testSecret and
  finishSecret, retries a failed step a minute later, and reattempts a rotation it could not
  complete at the next window, with the same ClientRequestToken (RotateSecret is refused while
  it is incomplete: tests/support/secrets_manager_model.py);

with faults in turn: a failed probe, an answer lost after AWS applied the request (HTTP 500, then
botocore's retry is refused), throttling (absorbed by botocore's retries, or failing the run),
another tool writing the secret between the function's read and its swap (or between rotation
steps), a refresh between createSecret and finishSecret, a run cut by its deadline (AWS answering
slowly), a rotation reattempted hours later. Near the end of the week pull rights are revoked:
every run fails until an operator restores them and forces a refresh, an hour before expiry.

At every simulated minute:
- AWSCURRENT holds, for every host, a token ECR issued that has not expired (by the `expiresAt`
  ECR gave it, not by what the document says);
- the expiry alarm, evaluated with the CloudWatch model of tests/support/cloudwatch_alarms.py on
  the EMF lines the runs printed, follows its rule: ALARM exactly when no run within its window
  found at least the threshold left (each run's value checked against what the test reads from
  AWSCURRENT itself), OK otherwise;
- and, whatever the alarm's window and threshold say, it is OK while runs keep refreshing the
  credential at the schedule's pace (no false alarm: the window covers the longest healthy gap
  between runs), and in ALARM whenever the credential has less than the warning left.

Versions written are counted in every 24 hours of the week, against the README's bound.
The lowest headroom seen is printed (`pytest -s`, or the line in the report on failure).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from ecr_token_rotator import handler
from ecr_token_rotator.document import read_credential
from ecr_token_rotator.errors import RotatorError
from ecr_token_rotator.events import TERRAFORM_APPLY_EVENT
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import logins
from tests.support import alarm_plans
from tests.support.cloudwatch_alarms import AlarmEvaluator, AlarmState, MetricAlarm, Metrics
from tests.support.failures import HOST, SEED_DOCUMENT
from tests.support.faults import inject_retryable_error, on_function_calls, once
from tests.support.secrets_manager_model import PreviousRotationIncomplete, RotationService
from tests.support.simulated_time import (
    LAMBDA_RETRY_DELAYS,
    Context,
    SimulatedTime,
    simulate_time,
)
from tools.terraform.harness import PlannedCalls

pytestmark = pytest.mark.timeout(300)

WEEK = timedelta(days=7)
MINUTE = timedelta(minutes=1)
OTHER_REGION = "us-east-1"
HOSTS = {HOST, f"{ACCOUNT_ID}.dkr.ecr.{OTHER_REGION}.amazonaws.com"}
PROBE_REPOSITORY = "team/app"
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event"}
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
EVENTBRIDGE_DELAYS = (0, 1, 4, 2, 3, 0, 4)  # minutes late, in turn (EventBridge: within minutes)
ROTATION_OFFSETS = (0, 59, 30, 1, 45, 59, 0, 15)  # minutes into the window, in turn
ROTATION_WINDOW = timedelta(hours=1)  # rate(N hours) without Duration: the window is an hour
STEP_RETRY = MINUTE  # Secrets Manager retries a failed step (modelled: once, a minute later)
SLOW_CALL = timedelta(seconds=15)  # an AWS answer within its worst case (14.4 s + 1 s waited)
OPERATOR_ACTS_BEFORE_EXPIRY = timedelta(hours=1)
# What the README promises for these configurations: the alarm fires with at least 3 hours left.
WARNING = timedelta(hours=3)
SECRETS_MANAGER_BUDGET = 100  # outdated versions are deleted only past this many


@dataclass(frozen=True)
class Mode:
    inputs: dict[str, Any]
    interval: timedelta
    rotation: bool = False

    @property
    def longest_healthy_gap(self) -> timedelta:
        """The longest time between two runs that refresh the credential when every fault is
        absorbed by a retry: the interval, the latest start, and the retries."""
        if self.rotation:  # window start, then window end; one step retried
            return self.interval + ROTATION_WINDOW + 2 * STEP_RETRY
        return self.interval + max(EVENTBRIDGE_DELAYS) * MINUTE + sum(LAMBDA_RETRY_DELAYS, MINUTE)


MODES = {
    "schedule_every_6_hours": Mode({"schedule_expression": "rate(6 hours)"}, timedelta(hours=6)),
    "schedule_every_30_minutes": Mode(
        {"schedule_expression": "rate(30 minutes)"}, timedelta(minutes=30)
    ),
    "rotation_every_4_hours": Mode(
        {"trigger_mode": "rotation", "rotation_schedule_expression": "rate(4 hours)"},
        timedelta(hours=4),
        rotation=True,
    ),
}


alarm_plans.register(
    "week_alarm_plan",
    {call: (REGION, mode.inputs) for call, mode in MODES.items()},
    targets=("aws_cloudwatch_metric_alarm.expiry",),
)


@pytest.fixture(scope="session")
def week_alarm_plan() -> PlannedCalls:
    return alarm_plans.planned("week_alarm_plan")


# ---- the world: the secret as the test reads it, and what the runs emitted ----------------------


@dataclass
class Week:
    harness: Harness
    time: SimulatedTime
    capsys: pytest.CaptureFixture[str]
    arn: str
    metrics: Metrics = field(default_factory=Metrics)
    # (from when, earliest expiry across hosts) of what AWSCURRENT holds
    timeline: list[tuple[datetime, datetime]] = field(default_factory=list)
    reports: list[tuple[datetime, float]] = field(default_factory=list)  # (when, seconds left)
    # version id -> when the event, run or rotation that wrote it began (the bound counts those)
    versions: dict[str, datetime] = field(default_factory=dict)
    other_versions: set[str] = field(default_factory=set)  # written by the other tool
    runs: dict[str, list[datetime]] = field(default_factory=dict)  # kind -> when (the bound)
    other_writes: int = 0
    slow: bool = False  # AWS answers slowly (SLOW_CALL each): the run meets its deadline
    pull_denied: bool = False  # the probe image's pull rights are revoked
    revoked_at: datetime | None = None  # the end of the week: until an operator restores them

    def __post_init__(self) -> None:
        self.secrets = self.harness.secrets()  # the test's own client (made once: they are slow)
        on_function_calls("after-call.secrets-manager", self._maybe_slow)
        authorize = self.harness.stub.state.authorize

        def slow_registry(auth: str) -> bool:
            self._maybe_slow()
            return authorize(auth)

        self.harness.stub.state.authorize = slow_registry
        self.cause = self.time.now
        self.seeded = self._version_ids()  # the value the secret was created with

    def _maybe_slow(self, **_: Any) -> None:
        if self.slow:
            self.time.advance(SLOW_CALL)

    def _version_ids(self) -> set[str]:
        listing = self.secrets.list_secret_version_ids(SecretId=self.arn, IncludeDeprecated=True)
        return {version["VersionId"] for version in listing["Versions"]}

    def count(self, kind: str) -> None:
        self.runs.setdefault(kind, []).append(self.time.now)
        self.cause = self.time.now

    # -- running the function --

    def invoke(self, event: dict[str, Any]) -> bool:
        """One run of the real handler; the test then reads the secret and what it emitted."""
        if self.pull_denied:
            self.harness.stub.state.statuses[PROBE_REPOSITORY] = 403
        try:
            handler.lambda_handler(dict(event), Context(self.time))
            succeeded = True
        except RotatorError:
            succeeded = False
        self.slow = False
        self.harness.stub.state.statuses.clear()
        self._observe(self.capsys.readouterr().out)
        return succeeded

    def _observe(self, printed: str) -> None:
        now = self.time.now
        for version_id in self._version_ids() - self.versions.keys() - self.seeded:
            self.versions[version_id] = self.cause
        document = json.loads(self.secrets.get_secret_value(SecretId=self.arn)["SecretString"])
        expiry = None
        if "dockerconfigjson" in document:  # else: the seed value, before the first run
            read_credential(document, "AWSCURRENT")  # complete and consistent, as kubelet reads
            hosts = logins(document)
            assert hosts.keys() == HOSTS
            # KeyError: a password ECR never issued
            expiry = min(self.harness.issued.expiry_of[password] for _, password in hosts.values())
            if self.timeline:
                assert expiry >= self.timeline[-1][1], f"AWSCURRENT moved back at {now}"
            if not self.timeline or self.timeline[-1][1] != expiry:
                self.timeline.append((now, expiry))
        for line in printed.splitlines():
            if not line.startswith('{"_aws"'):
                continue
            self.metrics.put_emf(line)
            emitted = json.loads(line)["TokenSecondsToExpiry"]
            assert expiry is not None
            truth = (expiry - now).total_seconds()
            assert abs(emitted - truth) < 2, (now, emitted, truth)  # whole seconds, twice
            self.reports.append((now, truth))

    def scheduled_event(self, arrange: Callable[[int], None] = lambda _: None) -> bool:
        """An EventBridge event, with Lambda's retries; `arrange(attempt)` sets up the faults of
        each attempt. Whether some attempt succeeded."""
        self.count("event")
        for attempt, delay in enumerate((timedelta(0), *LAMBDA_RETRY_DELAYS), start=1):
            self.time.advance(delay)
            arrange(attempt)
            if self.invoke(SCHEDULED_EVENT):
                return True
        return False

    def manual_refresh(self) -> None:
        self.count("manual")
        assert self.invoke({}), "a forced refresh failed"

    def apply(self) -> None:
        self.count("manual")
        assert self.invoke(dict(TERRAFORM_APPLY_EVENT)), "the apply-time invocation failed"

    # -- another tool that keeps a key of its own in the secret --

    def other_tool_writes(self) -> None:
        self.other_writes += 1
        document = json.loads(self.secrets.get_secret_value(SecretId=self.arn)["SecretString"])
        response = self.secrets.put_secret_value(
            SecretId=self.arn, SecretString=json.dumps({**document, "team": self.other_writes})
        )
        self.other_versions.add(response["VersionId"])
        self.versions.setdefault(response["VersionId"], self.time.now)

    def other_tool_writes_before_the_swap(self) -> None:
        """Between the function's read (and write) and its move of AWSCURRENT."""
        on_function_calls(
            "before-call.secrets-manager.UpdateSecretVersionStage",
            once(lambda **_: self.other_tool_writes()),
        )


# ---- faults -----------------------------------------------------------------------------------


def probe_fails(week: Week) -> None:
    week.harness.stub.state.statuses[PROBE_REPOSITORY] = 403


def answer_lost(week: Week) -> None:
    """The move of AWSCURRENT is applied and its answer lost (HTTP 500); botocore's retry is
    refused, as AWSCURRENT is no longer on RemoveFromVersionId."""
    inject_retryable_error(
        "secretsmanager",
        REGION,
        "UpdateSecretVersionStage",
        "InternalServiceError",
        status=500,
        times=1,
    )


def throttled(requests: int) -> Callable[[Week], None]:
    """ECR throttles the next `requests` token requests in one region (botocore retries 3)."""

    def arrange(_: Week) -> None:
        inject_retryable_error(
            "ecr", OTHER_REGION, "GetAuthorizationToken", "ThrottlingException", times=requests
        )

    return arrange


def other_writer(week: Week) -> None:
    week.other_tool_writes_before_the_swap()


def deadline_cut(week: Week) -> None:
    """Every AWS answer and the registry take 15 s: the run stops before a call that could no
    longer finish within its deadline, and fails."""
    week.slow = True


def no_fault(_: Week) -> None:
    pass


def on_first_attempt(fault: Callable[[Week], None], week: Week) -> Callable[[int], None]:
    return lambda attempt: fault(week) if attempt == 1 else None


SCHEDULE_FAULTS = (
    no_fault,
    probe_fails,
    answer_lost,
    throttled(2),  # absorbed by botocore's retries
    throttled(3),  # the run fails, Lambda's retry succeeds
    other_writer,
    deadline_cut,
)


# ---- the two modes --------------------------------------------------------------------------


REVOKED_BEFORE_THE_END = timedelta(hours=20)


def revoke_or_restore(
    week: Week, start: datetime, fixed_at: datetime | None, next_run: datetime
) -> datetime | None:
    """Pull rights are revoked 20 hours before the end of the week: every run fails its probe
    until an operator restores them and forces a refresh, an hour before the credential expires.
    Called before each run (at `next_run`); returns when the operator acts (None: not pending)."""
    if fixed_at is not None and fixed_at <= next_run:
        week.time.advance_to(fixed_at)
        week.pull_denied = False
        week.manual_refresh()
        return None
    if week.revoked_at is None and next_run >= start + WEEK - REVOKED_BEFORE_THE_END:
        week.time.advance_to(next_run)
        week.revoked_at = next_run
        week.pull_denied = True
        return week.timeline[-1][1] - OPERATOR_ACTS_BEFORE_EXPIRY
    return fixed_at


def run_schedule(week: Week, mode: Mode, start: datetime) -> None:
    week.apply()
    fixed_at: datetime | None = None
    for number in range(1, WEEK // mode.interval + 1):
        slot = start + number * mode.interval + EVENTBRIDGE_DELAYS[number % 7] * MINUTE
        fixed_at = revoke_or_restore(week, start, fixed_at, slot)
        week.time.advance_to(slot)
        if week.pull_denied:
            assert not week.scheduled_event()
            continue
        fault = SCHEDULE_FAULTS[number % len(SCHEDULE_FAULTS)]
        if number % 50 == 25:  # the whole event fails (with its retries): the next one refreshes
            assert not week.scheduled_event(lambda _: probe_fails(week))
            continue
        assert week.scheduled_event(on_first_attempt(fault, week)), (number, fault.__name__)
    week.time.advance_to(start + WEEK)


def run_rotation(week: Week, mode: Mode, start: datetime) -> None:
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(week.arn, schedule="rate(4 hours)")
    week.apply()
    token: str | None = None
    fixed_at: datetime | None = None
    windows = (WEEK - ROTATION_WINDOW) // mode.interval + 1  # the last one ends within the week
    for number in range(windows):
        begins = start + ROTATION_WINDOW + number * mode.interval
        at = begins + ROTATION_OFFSETS[number % len(ROTATION_OFFSETS)] * MINUTE
        fixed_at = revoke_or_restore(week, start, fixed_at, at)
        week.time.advance_to(at)
        try:
            token = service.start(week.arn)
        except PreviousRotationIncomplete:
            assert token is not None  # reattempted with the same ClientRequestToken
        week.count("rotation")
        if number == 9:  # pull rights missing for a few hours: reattempted at the next window
            week.pull_denied = True
        completed = rotate(week, service, token, number % 8 if number != 9 else 0)
        if number == 9:
            week.pull_denied = False
            assert not completed
        elif not week.pull_denied:
            assert completed, number
    week.time.advance_to(start + WEEK)


def rotate(week: Week, service: RotationService, token: str, kind: int) -> bool:
    """The four steps as Secrets Manager runs them, with the fault of `kind` on the first attempt
    of one step; a failed step is retried once a minute later. Whether the rotation completed."""
    for step in STEPS:
        if step == "createSecret" and kind == 3:
            throttled(3)(week)  # the step fails; its retry fetches
        if step == "testSecret" and kind == 1:
            probe_fails(week)
        if step == "testSecret" and kind == 4:  # another tool writes between the steps
            week.other_tool_writes()
        if step == "testSecret" and kind == 6 and not week.pull_denied:  # a refresh meanwhile
            week.time.advance(10 * MINUTE)
            week.apply()
        if step == "finishSecret" and kind == 2:
            answer_lost(week)
        if step == "finishSecret" and kind == 5:
            deadline_cut(week)
        if step == "finishSecret" and kind == 7:
            other_writer(week)
        event = service.event(week.arn, token, step)
        if not week.invoke(event):
            week.time.advance(STEP_RETRY)
            if not week.invoke(event):
                return False
    return True


# ---- the checks ---------------------------------------------------------------------------------


def minutes(start: datetime, end: datetime) -> list[datetime]:
    first = start.replace(second=0, microsecond=0) + MINUTE
    return [first + k * MINUTE for k in range(int((end - first) / MINUTE) + 1)]


def newest_before(moments: list[datetime], at: datetime) -> datetime | None:
    index = bisect.bisect_left(moments, at)
    return moments[index - 1] if index else None


def expected_state(
    refreshed: list[datetime], alarm: MetricAlarm, at: datetime, range_periods: int
) -> set[AlarmState]:
    """The alarm's rule: OK when a run within its window (evaluation periods) found at least the
    threshold left, ALARM when none did within the evaluation range (missing data breaching).
    CloudWatch reads a few periods more than the window (N + 2 modelled; AWS does not say how many)
    and counts every datapoint in them while it has fewer than N: in between, either state."""
    newest = newest_before(refreshed, at)
    if newest is not None and at - newest <= alarm.evaluation_periods * MINUTE:
        return {AlarmState.OK}
    if newest is None or at - newest > range_periods * MINUTE:
        return {AlarmState.ALARM}
    return {AlarmState.OK, AlarmState.ALARM}


@dataclass
class Summary:
    lowest_headroom: timedelta
    lowest_at: timedelta
    lowest_before_revocation: timedelta
    alarm_minutes: int
    left_when_fired: list[timedelta]
    versions_per_day: int
    bound_per_day: int


def check_week(week: Week, alarm: MetricAlarm, mode: Mode, start: datetime) -> Summary:
    evaluator = AlarmEvaluator(alarm, week.metrics)
    # the runs that found at least the threshold left
    refreshed = [when for when, left in week.reports if left >= alarm.threshold]
    first_publish = week.timeline[0][0]
    lowest = (timedelta.max, timedelta(0))
    lowest_healthy = timedelta.max
    alarm_minutes = 0
    left_when_fired: list[timedelta] = []
    previous = AlarmState.INSUFFICIENT_DATA
    timeline = iter(week.timeline)
    current = next(timeline)
    upcoming = next(timeline, None)
    for at in minutes(start, start + WEEK):
        state = evaluator.evaluate(at.timestamp())
        assert state in expected_state(refreshed, alarm, at, evaluator.evaluation_range), (
            at - start,
            state,
        )
        if at <= first_publish:
            continue
        while upcoming is not None and upcoming[0] <= at:
            current, upcoming = upcoming, next(timeline, None)
        headroom = current[1] - at
        assert headroom > timedelta(0), f"AWSCURRENT expired at {at - start} into the week"
        lowest = min(lowest, (headroom, at - start))
        if week.revoked_at is None or at < week.revoked_at:
            lowest_healthy = min(lowest_healthy, headroom)
        if headroom < WARNING:
            assert state is AlarmState.ALARM, f"{headroom} left at {at - start}, no alarm"
        newest = newest_before(refreshed, at)
        if newest is not None and at - newest <= mode.longest_healthy_gap:
            assert state is AlarmState.OK, f"false alarm at {at - start} ({headroom} left)"
        if state is AlarmState.ALARM:
            alarm_minutes += 1
            if previous is not AlarmState.ALARM:
                left_when_fired.append(headroom)
        previous = state
    per_day, bound = versions_per_day(week)
    return Summary(
        lowest[0],
        lowest[1],
        lowest_healthy,
        alarm_minutes,
        left_when_fired,
        per_day,
        bound,
    )


def within_a_day(moments: list[datetime], begins: datetime) -> int:
    return sum(begins <= moment < begins + timedelta(days=1) for moment in moments)


def versions_per_day(week: Week) -> tuple[int, int]:
    """The most versions the function wrote in any 24 hours, and the README's bound for those 24
    hours (asserted): events + apply-time and manual runs + 2 x rotations + other tools' writes."""
    own = sorted(
        when for version, when in week.versions.items() if version not in week.other_versions
    )
    others = sorted(week.versions[version] for version in week.other_versions)
    worst = (0, 0)
    for begins in own:
        written = within_a_day(own, begins)
        foreign = within_a_day(others, begins)
        bound = (
            within_a_day(week.runs.get("event", []), begins)
            + within_a_day(week.runs.get("manual", []), begins)
            + 2 * within_a_day(week.runs.get("rotation", []), begins)
            + foreign
        )
        assert written <= bound, (begins, written, bound)
        assert written + foreign < SECRETS_MANAGER_BUDGET
        worst = max(worst, (written, bound))
    return worst


def report(call: str, summary: Summary, capsys: pytest.CaptureFixture[str]) -> None:
    def hours(delta: timedelta) -> str:
        return f"{delta.total_seconds() / 3600:.2f} h"

    fired = ", ".join(hours(left) for left in summary.left_when_fired)
    with capsys.disabled():
        print(
            f"\n[week {call}] lowest headroom {hours(summary.lowest_headroom)} "
            f"(at {summary.lowest_at} into the week, pull rights revoked; before that "
            f"{hours(summary.lowest_before_revocation)}); expiry alarm in ALARM "
            f"{summary.alarm_minutes} min in {len(summary.left_when_fired)} spell(s), fired with "
            f"{fired} left; versions written in any "
            f"24 h at most {summary.versions_per_day} (README bound then {summary.bound_per_day})"
        )


@pytest.mark.parametrize("call", MODES)
def test_a_simulated_week_keeps_awscurrent_valid_and_the_expiry_alarm_on_its_rule(
    call: str,
    week_alarm_plan: PlannedCalls,
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mode = MODES[call]
    alarm = MetricAlarm.from_planned(
        week_alarm_plan.resources[call]["aws_cloudwatch_metric_alarm.expiry[0]"]
    )
    assert alarm.dimensions == {"FunctionName": Context.function_name}
    time = simulate_time(harness, monkeypatch)
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS=f"{REGION},{OTHER_REGION}",
        PROBE_IMAGES=f"{HOST}/{PROBE_REPOSITORY}:1.0",
    )
    start = time.now
    week = Week(harness, time, capsys, arn)

    (run_rotation if mode.rotation else run_schedule)(week, mode, start)
    summary = check_week(week, alarm, mode, start)
    report(call, summary, capsys)

    assert summary.left_when_fired  # the revoked pull rights raised it, hours before expiry
    assert min(summary.left_when_fired) >= WARNING
    assert harness.document(arn)["team"] == week.other_writes  # the other tool's key kept
    assert week.other_writes >= 1

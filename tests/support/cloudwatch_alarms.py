"""CloudWatch metric alarms evaluated as AWS documents them, so that tests assert what an alarm
does over time (ALARM an hour before expiry, OK through a healthy day), not how it is spelled.

    planned = plan_module_calls({...}, workdir, targets=("aws_cloudwatch_metric_alarm.expiry",))
    alarm = planned_alarms(planned.resources[call])["expiry"]  # tools/terraform/harness.py
    # or MetricAlarm.from_planned(values) for one resource's planned values
    metrics = Metrics()
    metrics.put(alarm.namespace, alarm.metric_name, alarm.dimensions, timestamp, value)
    metrics.put_emf(line)                         # or what the function prints (EMF)
    evaluator = AlarmEvaluator(alarm, metrics)
    history = evaluator.run(start, end)           # [(minute, state)], every minute
    first_time(history, AlarmState.ALARM)

Configuration (`MetricAlarm.from_planned`): the values Terraform plans for an
aws_cloudwatch_metric_alarm (`terraform show -json`), checked against CloudWatch's rules for
PutMetricAlarm: a period of 10, 20, 30 seconds or a multiple of 60; Period x EvaluationPeriods at
most 604,800 seconds (7 days), and at most 86,400 (a day) when the period is shorter than an hour;
1 <= DatapointsToAlarm <= EvaluationPeriods. Single-metric alarms with a static threshold and a
simple statistic only (no metric math, percentiles or anomaly bands): anything else is refused.

Evaluation (CloudWatch User Guide: "Alarm evaluation", "Alarm evaluation windows", "Configuring
how CloudWatch alarms treat missing data"):
- an alarm with a period of a minute or more is evaluated every minute, on the periods ending at
  that minute (a sliding window, the default EvaluationWindow); each period's datapoint is the
  statistic of the values timestamped within it (and arrived by then);
- CloudWatch retrieves an evaluation range of more periods than EvaluationPeriods (N). AWS does
  not document how many ("depends on the length of the alarm period"); its examples retrieve 5
  for N = 3, the default here (N + 2); `evaluation_range` models another;
- with at least N real datapoints in the range, the N most recent decide and treat_missing_data
  plays no part;
- with fewer, every real datapoint of the range counts and missing ones are filled as few times as
  needed to make N: `breaching` fills breaching, `notBreaching` not breaching. With none at all,
  `ignore` keeps the state and `missing` goes to INSUFFICIENT_DATA. With some, `ignore` and
  `missing` decide on the real ones where they can: ALARM with M breaching, OK with a non-breaching
  one among them; otherwise `ignore` keeps the state and `missing` goes to INSUFFICIENT_DATA,
  unless the real ones all lie before the N most recent periods (then ALARM): the rows of AWS's
  two published tables, which tests/terraform/test_alarm_model.py replays;
- ALARM when at least M (DatapointsToAlarm, default N) of the N evaluated datapoints breach.
"""

from __future__ import annotations

import bisect
import enum
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MINUTE = 60
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
OPERATORS = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
MAX_EVALUATION_SECONDS = 7 * 24 * 3600
MAX_EVALUATION_SECONDS_UNDER_AN_HOUR = 24 * 3600


class AlarmState(enum.Enum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class InvalidAlarm(ValueError):
    """A configuration CloudWatch would refuse (PutMetricAlarm), or one this model does not
    evaluate."""


@dataclass(frozen=True)
class MetricAlarm:
    name: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison_operator: str
    threshold: float
    treat_missing_data: str

    def __post_init__(self) -> None:
        problems = []
        if self.statistic not in STATISTICS:
            problems.append(f"statistic {self.statistic!r} (simple statistics only)")
        if self.comparison_operator not in OPERATORS:
            problems.append(f"comparison_operator {self.comparison_operator!r}")
        if self.treat_missing_data not in TREATMENTS:
            problems.append(f"treat_missing_data {self.treat_missing_data!r}")
        if self.period not in HIGH_RESOLUTION_PERIODS and (
            self.period <= 0 or self.period % MINUTE
        ):
            problems.append(f"period {self.period}: 10, 20, 30 or a multiple of 60 seconds")
        if self.period < MINUTE:
            problems.append(f"period {self.period}: high-resolution alarms are not modelled")
        total = self.period * self.evaluation_periods
        limit = MAX_EVALUATION_SECONDS_UNDER_AN_HOUR
        if self.period >= 3600:
            limit = MAX_EVALUATION_SECONDS
        if self.evaluation_periods < 1 or total > limit:
            problems.append(
                f"period x evaluation_periods = {total} s: at most {limit} s for this period"
            )
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            problems.append(
                f"datapoints_to_alarm {self.datapoints_to_alarm}: 1 to evaluation_periods "
                f"({self.evaluation_periods})"
            )
        if problems:
            raise InvalidAlarm(f"alarm {self.name!r}: " + "; ".join(problems))

    @classmethod
    def from_planned(cls, values: Mapping[str, Any]) -> MetricAlarm:
        """An aws_cloudwatch_metric_alarm's values as Terraform plans them (show -json)."""
        unsupported = [
            key
            for key in ("metric_query", "extended_statistic", "threshold_metric_id")
            if values.get(key)
        ]
        if unsupported:
            raise InvalidAlarm(f"alarm {values.get('alarm_name')!r}: {unsupported} not modelled")
        evaluation_periods = int(values["evaluation_periods"])
        return cls(
            name=values["alarm_name"],
            namespace=values["namespace"],
            metric_name=values["metric_name"],
            dimensions=dict(values.get("dimensions") or {}),
            statistic=values["statistic"],
            period=int(values["period"]),
            evaluation_periods=evaluation_periods,
            # Terraform leaves it unset (null) when it equals evaluation_periods
            datapoints_to_alarm=int(values.get("datapoints_to_alarm") or evaluation_periods),
            comparison_operator=values["comparison_operator"],
            threshold=float(values["threshold"]),
            treat_missing_data=values.get("treat_missing_data") or "missing",
        )

    def breaches(self, value: float) -> bool:
        return bool(OPERATORS[self.comparison_operator](value, self.threshold))

    def aggregate(self, values: Sequence[float]) -> float:
        if self.statistic == "SampleCount":
            return float(len(values))
        if self.statistic == "Sum":
            return float(sum(values))
        if self.statistic == "Average":
            return float(sum(values)) / len(values)
        return float(min(values) if self.statistic == "Minimum" else max(values))


def planned_alarms(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, MetricAlarm]:
    """{resource name: alarm} of every aws_cloudwatch_metric_alarm among one module call's planned
    resources ({address in the module: values}: harness.PlannedCalls.resources[call])."""
    return {
        address.split(".")[1].split("[")[0]: MetricAlarm.from_planned(values)
        for address, values in resources.items()
        if address.startswith("aws_cloudwatch_metric_alarm.")
    }


# ---- metric data ---------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Datapoint:
    timestamp: float  # epoch seconds
    value: float
    arrives_at: float  # when CloudWatch has it (evaluations before then do not see it)


MetricKey = tuple[str, str, frozenset[tuple[str, str]]]


def _timestamp(point: Datapoint) -> float:
    return point.timestamp


def metric_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return namespace, name, frozenset(dimensions.items())


@dataclass
class Metrics:
    """Datapoints per metric (namespace, name, exact dimensions), kept sorted by timestamp."""

    series: dict[MetricKey, list[Datapoint]] = field(default_factory=dict)

    def put(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        timestamp: float,
        value: float,
        *,
        arrives_at: float | None = None,
    ) -> None:
        arrival = timestamp if arrives_at is None else max(arrives_at, timestamp)
        points = self.series.setdefault(metric_key(namespace, name, dimensions), [])
        bisect.insort(points, Datapoint(float(timestamp), float(value), float(arrival)))

    def put_emf(self, document: str | Mapping[str, Any], *, arrives_at: float | None = None) -> int:
        """Every metric value of a CloudWatch embedded metric format document (a log line or its
        parsed object), for each dimension set of each directive; returns how many were put."""
        doc = json.loads(document) if isinstance(document, str) else document
        meta = doc["_aws"]
        timestamp = meta["Timestamp"] / 1000
        count = 0
        for directive in meta["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = {key: str(doc[key]) for key in dimension_set}
                for metric in directive["Metrics"]:
                    raw = doc[metric["Name"]]
                    for value in raw if isinstance(raw, list) else [raw]:
                        self.put(
                            directive["Namespace"],
                            metric["Name"],
                            dimensions,
                            timestamp,
                            value,
                            arrives_at=arrives_at,
                        )
                        count += 1
        return count

    def datapoints(
        self, namespace: str, name: str, dimensions: Mapping[str, str]
    ) -> list[Datapoint]:
        return list(self.series.get(metric_key(namespace, name, dimensions), []))


# ---- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    at: float
    old: AlarmState
    new: AlarmState


class AlarmEvaluator:
    """One alarm's state, evaluated against `metrics` as CloudWatch evaluates it."""

    def __init__(
        self,
        alarm: MetricAlarm,
        metrics: Metrics,
        *,
        state: AlarmState = AlarmState.INSUFFICIENT_DATA,
        evaluation_range: int | None = None,
    ) -> None:
        self.alarm = alarm
        self.metrics = metrics
        self.state = state
        self.evaluation_range = (
            alarm.evaluation_periods + 2 if evaluation_range is None else evaluation_range
        )
        if self.evaluation_range < alarm.evaluation_periods:
            raise ValueError("the evaluation range holds at least evaluation_periods periods")
        self.transitions: list[Transition] = []

    def _periods(self, at: float) -> dict[int, float]:
        """{period index (0: the one ending at `at`): its datapoint} over the evaluation range,
        only the periods holding data."""
        period = self.alarm.period
        key = metric_key(self.alarm.namespace, self.alarm.metric_name, self.alarm.dimensions)
        points = self.metrics.series.get(key, [])
        start = at - self.evaluation_range * period
        low = bisect.bisect_left(points, start, key=_timestamp)
        high = bisect.bisect_left(points, at, key=_timestamp)
        grouped: dict[int, list[float]] = {}
        for point in points[low:high]:
            if point.arrives_at <= at:
                index = math.ceil((at - point.timestamp) / period) - 1
                grouped.setdefault(index, []).append(point.value)
        return {index: self.alarm.aggregate(values) for index, values in grouped.items()}

    def decide(self, at: float) -> AlarmState:
        """The state an evaluation at `at` sets (without recording it)."""
        alarm = self.alarm
        n, m = alarm.evaluation_periods, alarm.datapoints_to_alarm
        periods = self._periods(at)
        real = [alarm.breaches(value) for _, value in sorted(periods.items())]
        if len(real) >= n:
            return AlarmState.ALARM if sum(real[:n]) >= m else AlarmState.OK
        treatment = alarm.treat_missing_data
        if treatment in ("breaching", "notBreaching"):
            filled = n - len(real) if treatment == "breaching" else 0
            return AlarmState.ALARM if sum(real) + filled >= m else AlarmState.OK
        if real and (sum(real) >= m or not all(real)):  # the real ones decide
            return AlarmState.ALARM if sum(real) >= m else AlarmState.OK
        return self._undecided(periods)

    def _undecided(self, periods: Mapping[int, float]) -> AlarmState:
        """`ignore` and `missing` with no real datapoint, or only breaching ones (fewer than M):
        ignore keeps the state; missing has too little data, unless every real datapoint lies
        before the N most recent periods (AWS's table: ALARM)."""
        if self.alarm.treat_missing_data == "ignore":
            return self.state
        recent = any(index < self.alarm.evaluation_periods for index in periods)
        return AlarmState.INSUFFICIENT_DATA if recent or not periods else AlarmState.ALARM

    def evaluate(self, at: float) -> AlarmState:
        new = self.decide(at)
        if new is not self.state:
            self.transitions.append(Transition(at, self.state, new))
            self.state = new
        return new

    def run(self, start: float, end: float) -> list[tuple[float, AlarmState]]:
        """Evaluate at every whole minute from `start` to `end` (both included, rounded up to
        whole minutes): the state after each evaluation."""
        first = math.ceil(start / MINUTE) * MINUTE
        return [
            (float(minute), self.evaluate(minute))
            for minute in range(int(first), int(end) + 1, MINUTE)
        ]


def first_time(
    history: Iterable[tuple[float, AlarmState]], state: AlarmState, *, after: float = -math.inf
) -> float | None:
    """The first evaluation at or after `after` that left the alarm in `state`."""
    return next((at for at, now in history if at >= after and now is state), None)

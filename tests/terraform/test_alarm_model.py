"""The CloudWatch alarm model of tests/support/cloudwatch_alarms.py behaves as AWS documents
alarms: both tables of "How alarm state is evaluated when data is missing" (CloudWatch User Guide,
"Configuring how CloudWatch alarms treat missing data") row by row, the sliding window evaluated
every minute, PutMetricAlarm's limits, statistics and operators, and EMF lines.
tests/terraform/test_alarms.py then runs the module's planned alarms through it."""

from __future__ import annotations

import json

import pytest

from tests.support.cloudwatch_alarms import (
    AlarmEvaluator,
    AlarmState,
    InvalidAlarm,
    MetricAlarm,
    Metrics,
    first_time,
)

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
RETAIN = "retain"  # "Retain current state"
FIVE_MINUTES = 300
START = 1_800_000_000  # a whole minute (and a whole five minutes)


def alarm(**settings) -> MetricAlarm:
    values = {
        "name": "model",
        "namespace": "Test",
        "metric_name": "Value",
        "dimensions": {"FunctionName": "f"},
        "statistic": "Maximum",
        "period": FIVE_MINUTES,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 3,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": 1.0,
        "treat_missing_data": "missing",
        **settings,
    }
    return MetricAlarm(**values)


def put(metrics: Metrics, model: MetricAlarm, timestamp: float, value: float, **kw) -> None:
    metrics.put(model.namespace, model.metric_name, model.dimensions, timestamp, value, **kw)


# AWS's tables: five periods of five minutes, oldest first (0: not breaching, X: breaching,
# -: missing); CloudWatch retrieves these 5 for 3 evaluation periods. Columns: the state for
# missing, ignore, breaching, notBreaching.
TABLE_3_OF_3 = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
]
TABLE_2_OF_3 = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT, RETAIN, ALARM, OK)),
]
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(
    ("datapoints_to_alarm", "row", "states"),
    [(3, row, states) for row, states in TABLE_3_OF_3]
    + [(2, row, states) for row, states in TABLE_2_OF_3],
)
@pytest.mark.parametrize("treatment", TREATMENTS)
@pytest.mark.parametrize("before", [OK, ALARM])
def test_awss_missing_data_tables(datapoints_to_alarm, row, states, treatment, before):
    model = alarm(datapoints_to_alarm=datapoints_to_alarm, treat_missing_data=treatment)
    metrics = Metrics()
    for index, mark in enumerate(row.split()):
        if mark != "-":
            put(metrics, model, START + index * FIVE_MINUTES + 30, 2.0 if mark == "X" else 0.0)
    evaluator = AlarmEvaluator(model, metrics, state=before, evaluation_range=5)

    expected = states[TREATMENTS.index(treatment)]
    state = evaluator.evaluate(START + 5 * FIVE_MINUTES)
    assert state is (before if expected == RETAIN else expected)


def test_the_window_slides_every_minute_and_the_last_datapoint_lingers_in_the_range():
    # One period of 5 minutes, missing data not breaching: a breaching value at 12:01:30 is in the
    # window from the 12:02 evaluation to the 12:06 one; CloudWatch keeps evaluating it while it
    # is in the evaluation range (AWS: alarms "may repeatedly re-evaluate the last set of data
    # points ... after the metric has stopped flowing"), 3 periods here.
    model = alarm(evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data="notBreaching")
    metrics = Metrics()
    put(metrics, model, START + 90, 5.0)
    evaluator = AlarmEvaluator(model, metrics, state=OK)

    history = evaluator.run(START, START + 30 * 60)

    assert first_time(history, ALARM) == START + 120
    assert first_time(history, OK, after=START + 120) == START + 90 + 3 * FIVE_MINUTES + 30
    assert [t.new for t in evaluator.transitions] == [ALARM, OK]


def test_a_wider_evaluation_range_keeps_the_last_datapoint_longer():
    model = alarm(evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data="breaching")
    metrics = Metrics()
    put(metrics, model, START + 30, 0.0)  # one healthy datapoint, then nothing

    def first_alarm(extra: int) -> float | None:
        evaluator = AlarmEvaluator(model, metrics, evaluation_range=1 + extra)
        return first_time(evaluator.run(START, START + 3600), ALARM, after=START + 60)

    assert first_alarm(0) == START + FIVE_MINUTES + 60
    assert first_alarm(2) == START + 3 * FIVE_MINUTES + 60


def test_each_period_aggregates_its_values_with_the_statistic():
    values = [3.0, 1.0, 8.0]
    expected = {"Sum": 12.0, "Minimum": 1.0, "Maximum": 8.0, "Average": 4.0, "SampleCount": 3.0}
    for statistic, aggregate in expected.items():
        # breaching exactly when the period's statistic reaches the aggregate
        for threshold, state in ((aggregate, ALARM), (aggregate + 0.5, OK)):
            model = alarm(
                statistic=statistic, threshold=threshold, evaluation_periods=1,
                datapoints_to_alarm=1, period=60,
            )  # fmt: skip
            metrics = Metrics()
            for second, value in zip((1, 20, 59), values, strict=True):
                put(metrics, model, START + second, value)
            assert AlarmEvaluator(model, metrics).evaluate(START + 60) is state, statistic


@pytest.mark.parametrize(
    ("operator", "below", "equal", "above"),
    [
        ("GreaterThanOrEqualToThreshold", False, True, True),
        ("GreaterThanThreshold", False, False, True),
        ("LessThanThreshold", True, False, False),
        ("LessThanOrEqualToThreshold", True, True, False),
    ],
)
def test_comparison_operators(operator, below, equal, above):
    model = alarm(comparison_operator=operator, threshold=10.0)
    assert [model.breaches(v) for v in (9.0, 10.0, 11.0)] == [below, equal, above]


def test_data_counts_from_when_cloudwatch_has_it():
    model = alarm(evaluation_periods=1, datapoints_to_alarm=1, period=60)
    metrics = Metrics()
    put(metrics, model, START + 10, 5.0, arrives_at=START + 150)  # stamped 12:00:10, in at 12:02:30
    evaluator = AlarmEvaluator(model, metrics, state=OK)

    history = evaluator.run(START, START + 300)

    assert first_time(history, ALARM) == START + 180  # the period of 12:00 is still in the range


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"period": 90}, "period 90"),
        ({"period": 60, "evaluation_periods": 1441}, "86400"),
        ({"period": 3600, "evaluation_periods": 169}, "604800"),
        ({"evaluation_periods": 3, "datapoints_to_alarm": 4}, "datapoints_to_alarm 4"),
        ({"statistic": "p99"}, "statistic 'p99'"),
        ({"comparison_operator": "GreaterThanUpperThreshold"}, "comparison_operator"),
        ({"treat_missing_data": "zero"}, "treat_missing_data"),
    ],
)
def test_configurations_cloudwatch_refuses(settings, words):
    with pytest.raises(InvalidAlarm, match=words):
        alarm(**settings)


def test_the_limits_cloudwatch_accepts():
    alarm(period=60, evaluation_periods=1440, datapoints_to_alarm=1440)  # a day of minutes
    alarm(period=3600, evaluation_periods=168, datapoints_to_alarm=1)  # 7 days of hours


def test_planned_values_with_datapoints_to_alarm_left_unset():
    model = MetricAlarm.from_planned(
        {
            "alarm_name": "errors",
            "namespace": "AWS/Lambda",
            "metric_name": "Errors",
            "dimensions": {"FunctionName": "f"},
            "statistic": "Sum",
            "period": 3600,
            "evaluation_periods": 2,
            "datapoints_to_alarm": None,
            "comparison_operator": "GreaterThanThreshold",
            "threshold": 0,
            "treat_missing_data": None,
            "metric_query": [],
            "extended_statistic": None,
        }
    )
    assert (model.datapoints_to_alarm, model.treat_missing_data) == (2, "missing")
    with pytest.raises(InvalidAlarm, match="metric_query"):
        MetricAlarm.from_planned({"alarm_name": "math", "metric_query": [{"id": "m1"}]})


def test_an_emf_line_becomes_its_metrics():
    # CloudWatch embedded metric format, as the function prints it (one line per run)
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": (START + 5) * 1000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "ECRTokenRotator",
                        "Dimensions": [["FunctionName"]],
                        "Metrics": [
                            {"Name": "RefreshSuccess", "Unit": "Count"},
                            {"Name": "TokenSecondsToExpiry", "Unit": "Seconds"},
                        ],
                    }
                ],
            },
            "FunctionName": "ecr-token-rotator",
            "RefreshSuccess": 1,
            "TokenSecondsToExpiry": 43190,
            "secret_arn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf",
        }
    )
    metrics = Metrics()

    assert metrics.put_emf(line) == 2
    dimensions = {"FunctionName": "ecr-token-rotator"}
    [expiry] = metrics.datapoints("ECRTokenRotator", "TokenSecondsToExpiry", dimensions)
    [success] = metrics.datapoints("ECRTokenRotator", "RefreshSuccess", dimensions)
    assert (expiry.timestamp, expiry.value, success.value) == (START + 5, 43190.0, 1.0)
    assert metrics.put_emf(json.loads(line) | {"TokenSecondsToExpiry": [1.0, 2.0]}) == 3

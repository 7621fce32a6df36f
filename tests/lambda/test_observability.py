"""Logs and the CloudWatch metric: exact EMF bytes, JSON-safe log fields, quiet SDK loggers."""

from __future__ import annotations

import io
import json
import logging

import pytest

from ecr_token_rotator.handler import lambda_handler
from ecr_token_rotator.observability import (
    NOISY_LOGGERS,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    emit_success_metric,
    logs_to,
    metric_line,
)
from tests.conftest import Harness


def test_metric_line_is_exactly_one_emf_document() -> None:
    line = metric_line(
        function_name="ecr-token-rotator",
        secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf",
        seconds_to_expiry=43190,
        timestamp_ms=1795000000000,
    )
    assert line == (
        '{"_aws":{"Timestamp":1795000000000,"CloudWatchMetrics":[{"Namespace":"ECRTokenRotator",'
        '"Dimensions":[["FunctionName"]],"Metrics":[{"Name":"RefreshSuccess","Unit":"Count"},'
        '{"Name":"TokenSecondsToExpiry","Unit":"Seconds"}]}]},"FunctionName":"ecr-token-rotator",'
        '"RefreshSuccess":1,"TokenSecondsToExpiry":43190,'
        '"secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf"}\n'
    )


def test_emitted_line_goes_to_the_stream_unwrapped() -> None:
    stream = io.StringIO()
    emit_success_metric(function_name="f", secret_arn="a", seconds_to_expiry=1, stream=stream)
    [line] = stream.getvalue().splitlines()
    document = json.loads(line)
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ECRTokenRotator"
    assert "level" not in document  # Lambda would file it as INFO: see observability.py
    assert "message" not in document


class FunctionContext:
    function_name = "ecr-token-rotator-prod"


def test_a_successful_run_prints_the_metric_on_stdout(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)

    lambda_handler({}, FunctionContext())

    [line] = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert document["FunctionName"] == "ecr-token-rotator-prod"
    assert document["RefreshSuccess"] == 1
    assert 11 * 3600 < document["TokenSecondsToExpiry"] <= 12 * 3600
    assert document["secret_arn"] == arn


def test_a_failed_run_prints_no_metric(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.configure(SECRET_ID="missing")
    with pytest.raises(Exception, match="does not exist"):
        harness.invoke()
    assert capsys.readouterr().out == ""


def test_log_fields_are_plain_json(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Lambda's JSON formatter encodes `extra` fields without a fallback for other types."""
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG", ECR_REGIONS="eu-central-1,us-east-1")
    standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    harness.invoke()

    ours = [r for r in caplog.records if r.name.startswith("ecr_token_rotator")]
    events = [r.event for r in ours]  # type: ignore[attr-defined]
    assert events == [
        "secret_read",
        "tokens_fetched",
        "secret_written",
        "secret_published",
        "run_complete",
    ]
    for record in ours:
        fields = {k: v for k, v in vars(record).items() if k not in standard}
        json.dumps(fields)  # raises TypeError on anything that is not plain JSON
    written = next(r for r in ours if r.event == "secret_written")  # type: ignore[attr-defined]
    assert written.secret_arn == arn  # type: ignore[attr-defined]


def test_sdk_loggers_stay_at_warning_even_at_debug() -> None:
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    configure_logging("DEBUG")
    for name in NOISY_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING
    assert logging.getLogger("ecr_token_rotator").level == logging.DEBUG


def test_json_formatter_keeps_extra_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "ecr_token_rotator.x",
            "levelno": 20,
            "levelname": "INFO",
            "msg": "hi %s",
            "args": ("there",),
        }
    )
    record.event = "step"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hi there"
    assert entry["event"] == "step"
    assert entry["level"] == "INFO"
    assert entry["timestamp"].endswith("Z")


def test_text_formatter_writes_one_line_for_a_person() -> None:
    record = logging.makeLogRecord(
        {"name": "ecr_token_rotator.x", "levelname": "WARNING", "msg": "hi %s", "args": ("you",)}
    )
    fields = {
        "event": "step",  # the message's name for machines: left out
        "regions": ["eu-central-1", "us-east-1"],
        "published": False,
        "previous_version_id": None,
        "reason": 'two "words"',
        "attempts": 2,
    }
    for key, value in fields.items():
        setattr(record, key, value)
    assert TextFormatter().format(record) == (
        "WARNING hi you  [regions=eu-central-1,us-east-1 published=false "
        'previous_version_id=none reason="two \\"words\\"" attempts=2]'
    )
    bare = logging.makeLogRecord({"levelname": "INFO", "msg": "done"})
    assert TextFormatter().format(bare) == "INFO done"


@pytest.mark.parametrize(("log_format", "json_lines"), [("json", True), ("text", False)])
def test_logs_to_a_stream_in_either_format(log_format: str, json_lines: bool) -> None:
    stream = io.StringIO()
    with logs_to(stream, log_format):
        logging.getLogger("ecr_token_rotator.x").warning("careful", extra={"event": "step"})
    logging.getLogger("ecr_token_rotator.x").warning("not written after the block")
    [line] = stream.getvalue().splitlines()
    if json_lines:
        assert json.loads(line)["message"] == "careful"
    else:
        assert line == "WARNING careful"

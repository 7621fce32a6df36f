"""Logs and the CloudWatch metric: exact EMF bytes, JSON-safe log fields, quiet SDK loggers."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from ecr_token_rotator.document import parse_document
from ecr_token_rotator.errors import RotatorError
from ecr_token_rotator.handler import lambda_handler
from ecr_token_rotator.observability import (
    NOISY_LOGGERS,
    JsonFormatter,
    TextFormatter,
    configure_logging,
    emit_metric,
    logs_to,
    metric_line,
)
from ecr_token_rotator.result import RunRecord
from ecr_token_rotator.secret_store import StoredDocument
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import HOST
from tests.support.faults import inject_error
from tests.support.secrets_manager_model import RotationService


def test_metric_line_is_exactly_one_emf_document() -> None:
    line = metric_line(
        function_name="ecr-token-rotator",
        secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf",
        seconds_to_expiry=43190,
        published=True,
        timestamp_ms=1795000000000,
    )
    assert line == (
        '{"_aws":{"Timestamp":1795000000000,"CloudWatchMetrics":[{"Namespace":"ECRTokenRotator",'
        '"Dimensions":[["FunctionName"]],"Metrics":[{"Name":"RefreshSuccess","Unit":"Count"},'
        '{"Name":"TokenSecondsToExpiry","Unit":"Seconds"}]}]},"FunctionName":"ecr-token-rotator",'
        '"RefreshSuccess":1,"TokenSecondsToExpiry":43190,'
        '"secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf"}\n'
    )


def test_a_run_that_published_nothing_reports_the_expiry_without_a_success() -> None:
    line = metric_line(
        function_name="ecr-token-rotator",
        secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf",
        seconds_to_expiry=0,
        published=False,
        timestamp_ms=1795000000000,
    )
    assert line == (
        '{"_aws":{"Timestamp":1795000000000,"CloudWatchMetrics":[{"Namespace":"ECRTokenRotator",'
        '"Dimensions":[["FunctionName"]],"Metrics":[{"Name":"TokenSecondsToExpiry",'
        '"Unit":"Seconds"}]}]},"FunctionName":"ecr-token-rotator","TokenSecondsToExpiry":0,'
        '"secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:s-AbCdEf"}\n'
    )


def test_emitted_line_goes_to_the_stream_unwrapped() -> None:
    stream = io.StringIO()
    emit_metric(
        function_name="f", secret_arn="a", seconds_to_expiry=1, published=True, stream=stream
    )
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


def metrics(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("unreadable", ["missing", "GetSecretValue denied"], ids=lambda name: name)
def test_a_run_that_could_not_read_the_secret_prints_no_metric(
    harness: Harness, capsys: pytest.CaptureFixture[str], unreadable: str
) -> None:
    """No datapoint: the alarm treats missing data as breaching."""
    if unreadable == "missing":
        harness.configure(SECRET_ID="missing")
    else:
        harness.configure(SECRET_ID=harness.create_secret(value={"team": "platform"}))
        inject_error("secretsmanager", REGION, "GetSecretValue", "AccessDeniedException")
    with pytest.raises(RotatorError):
        harness.invoke()
    assert capsys.readouterr().out == ""


def test_a_run_that_failed_after_reading_reports_what_awscurrent_still_holds(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)
    lambda_handler({}, FunctionContext())
    published = metrics(capsys)[0]
    inject_error("ecr", REGION, "GetAuthorizationToken", "AccessDeniedException")

    with pytest.raises(RotatorError):
        lambda_handler({}, FunctionContext())

    [failed] = metrics(capsys)
    assert "RefreshSuccess" not in failed
    assert failed["FunctionName"] == "ecr-token-rotator-prod"
    assert failed["secret_arn"] == arn
    # The credential the earlier run published, a moment older.
    assert 0 <= published["TokenSecondsToExpiry"] - failed["TokenSecondsToExpiry"] <= 60


@pytest.mark.parametrize(
    "value",
    [
        '{"team": "platform"}',  # another tool's document, no credential in it: the probe fails
        "not json",  # a value the function cannot use at all: the run fails reading it
    ],
)
def test_awscurrent_without_a_usable_credential_reports_zero_seconds(
    harness: Harness, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    arn = harness.create_secret(value=value)
    harness.configure(SECRET_ID=arn, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 403

    with pytest.raises(RotatorError):
        harness.invoke()

    [metric] = metrics(capsys)
    assert metric["TokenSecondsToExpiry"] == 0
    assert "RefreshSuccess" not in metric


def test_a_failed_rotation_step_reports_what_awscurrent_holds(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    harness.invoke()  # AWSCURRENT: a credential with 12 hours left
    token = service.start(arn)
    service.run(arn, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret"))
    capsys.readouterr()
    inject_error("secretsmanager", REGION, "UpdateSecretVersionStage", "AccessDeniedException")

    with pytest.raises(RotatorError):
        service.run(arn, token, harness.invoke, steps=("finishSecret",))

    [metric] = metrics(capsys)
    assert "RefreshSuccess" not in metric
    assert 11 * 3600 < metric["TokenSecondsToExpiry"] <= 12 * 3600


def test_the_watch_shows_no_document() -> None:
    record = RunRecord()
    record.saw(StoredDocument("arn", "v1", parse_document('{"password": "hunter2"}', "t")))
    assert "hunter2" not in repr(record)
    assert record.seconds_to_expiry(datetime.now(UTC)) == 0


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

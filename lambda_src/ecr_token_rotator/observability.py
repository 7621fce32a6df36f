"""Structured logs and the CloudWatch metrics of each run.

Logs: stdlib `logging` with the step's fields passed as `extra`. With the JSON log format the
module configures, Lambda's Python runtime renders every record as a JSON object and merges the
`extra` fields into it. Where no handler prints records (the CLI), `JsonFormatter` does the
same, or `TextFormatter` writes one line for a person (the CLI's `--log-format text`). (Lambda's
TEXT log format prints only the message; the module always configures JSON.)

Metrics (namespace ECRTokenRotator, dimension FunctionName): `TokenSecondsToExpiry` (Seconds) for
every run that read AWSCURRENT, published, superseded or failed: the seconds left until what
AWSCURRENT holds after the run expires (the earliest expiry across its hosts; 0 when it holds no
usable credential); a run that could not read the secret reports nothing, which the alarm treats
as breaching. `RefreshSuccess` (Count, 1) only for a run that published a credential.

CloudWatch Embedded Metric Format (EMF). CloudWatch extracts EMF only from a log event
that *is* the EMF JSON object. Under Lambda's JSON log format a `logging` record is wrapped (the
EMF document would become the string in `message` and no metric would exist), whereas bytes
written straight to stdout are passed through unwrapped. So the metric line is written to stdout,
as one line, bypassing `logging`. It carries no `level` key, so Lambda files it as INFO: the
module keeps the application log level at INFO or DEBUG for that reason.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .errors import RotatorError

PACKAGE_LOGGER = "ecr_token_rotator"
METRIC_NAMESPACE = "ECRTokenRotator"
METRIC_DIMENSION = "FunctionName"
# botocore logs whole request and response bodies at DEBUG, tokens and secret values included.
# These loggers stay at WARNING whatever LOG_LEVEL says.
NOISY_LOGGERS = ("boto3", "botocore", "urllib3", "s3transfer")

_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({})))
# json.dumps(value, default=str), without making an encoder for every record.
_JSON_ENCODER = json.JSONEncoder(default=str)
# json.dumps(value, separators=(",", ":")), likewise, for the metric line.
_COMPACT_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra` fields a record was logged with."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_FIELDS}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message and the `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["errorType"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return _JSON_ENCODER.encode(entry)


JsonFormatter.converter = time.gmtime  # timestamps in UTC, marked with "Z"


def _text_value(value: object) -> str:
    """A field's value as a person reads it: lists comma-separated, true/false/none, words quoted
    only where they hold spaces."""
    if value is None or isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ",".join(_text_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, separators=(",", ":"))
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c == '"' for c in text) else text


class TextFormatter(logging.Formatter):
    """One line per record for a person at a terminal: the level, the message, then the `extra`
    fields as key=value (`event` is the message's name for machines, and left out)."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{key}={_text_value(value)}"
            for key, value in _extra_fields(record).items()
            if key != "event"
        )
        line = f"{record.levelname} {record.getMessage()}"
        return f"{line}  [{fields}]" if fields else line


FORMATTERS: dict[str, type[logging.Formatter]] = {"json": JsonFormatter, "text": TextFormatter}
LOG_FORMATS = tuple(FORMATTERS)


def configure_logging(level: str) -> None:
    """Set the package's level, keep the SDK's body logging off, and make sure records print.

    In Lambda the runtime's root handler prints our records (as JSON with the `extra` fields
    under the JSON log format). Where nobody handles the root logger (the CLI), records go to
    stderr through `JsonFormatter`.
    """
    package_logger, noisy_loggers = _loggers()
    _set_level(package_logger, logging.getLevelName(level))
    for noisy in noisy_loggers:
        _set_level(noisy, logging.WARNING)
    if not logging.root.handlers and not package_logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        package_logger.addHandler(handler)


@functools.cache
def _loggers() -> tuple[logging.Logger, tuple[logging.Logger, ...]]:
    """The package's logger and the SDK's: a logger, once made, is the same object for the life of
    the process (asked at every run, getLogger takes the module's lock each time)."""
    return logging.getLogger(PACKAGE_LOGGER), tuple(map(logging.getLogger, NOISY_LOGGERS))


@contextmanager
def logs_to(stream: TextIO, log_format: str = "json") -> Iterator[None]:
    """While it lasts, the package's records go to `stream` (the CLI's stderr) in `log_format`
    (one of LOG_FORMATS), whoever else handles them."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(FORMATTERS[log_format]())
    package_logger = logging.getLogger(PACKAGE_LOGGER)
    package_logger.addHandler(handler)
    try:
        yield
    finally:
        package_logger.removeHandler(handler)


def failure_fields(error: RotatorError, elapsed_seconds: float) -> dict[str, Any]:
    """The fields of a `run_failed` record: what failed, and what it was waiting for."""
    fields: dict[str, Any] = {
        "event": "run_failed",
        "error_type": type(error).__name__,
        "elapsed_seconds": round(elapsed_seconds, 1),
    }
    if error.step:
        fields["waiting_for"] = error.step
    if error.denied_action:
        fields["denied_action"] = error.denied_action
    return fields


def _set_level(logger: logging.Logger, level: int) -> None:
    # setLevel clears the level cache of every logger (botocore has hundreds): only on a change.
    if logger.level != level:
        logger.setLevel(level)


def metric_line(
    *,
    function_name: str,
    secret_arn: str,
    seconds_to_expiry: int,
    published: bool,
    timestamp_ms: int,
) -> str:
    """The EMF document of one run, as a single line: RefreshSuccess only when it published."""
    metrics = [{"Name": "TokenSecondsToExpiry", "Unit": "Seconds"}]
    values: dict[str, int] = {"TokenSecondsToExpiry": seconds_to_expiry}
    if published:
        metrics.insert(0, {"Name": "RefreshSuccess", "Unit": "Count"})
        values = {"RefreshSuccess": 1, **values}
    document = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [[METRIC_DIMENSION]],
                    "Metrics": metrics,
                }
            ],
        },
        METRIC_DIMENSION: function_name,
        **values,
        "secret_arn": secret_arn,
    }
    return _COMPACT_ENCODER.encode(document) + "\n"


def emit_metric(
    *,
    function_name: str,
    secret_arn: str,
    seconds_to_expiry: int,
    published: bool,
    stream: TextIO | None = None,
) -> None:
    out = stream or sys.stdout
    out.write(
        metric_line(
            function_name=function_name,
            secret_arn=secret_arn,
            seconds_to_expiry=seconds_to_expiry,
            published=published,
            timestamp_ms=int(time.time() * 1000),
        )
    )
    out.flush()

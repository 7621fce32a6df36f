"""Collect everything a run shows to the outside world and search it for secret material.

"The outside world" is what leaves the function in production: log records at any level from
any logger that runs inside Lambda (ours, boto3, botocore, urllib3), with every `extra` field;
exception messages, reprs and tracebacks including chained causes; the return value; stdout and
stderr (the metric line, the CLI's output).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable

import pytest

from ecr_token_rotator.observability import NOISY_LOGGERS, JsonFormatter

# Test infrastructure that does not exist in Lambda and logs what it serves.
NOT_IN_LAMBDA = ("moto", "werkzeug", "responses")


def reset_capture(caplog: pytest.LogCaptureFixture) -> None:
    """Start capturing right before the run, with the SDK's loggers back at DEBUG.

    The test's own set-up calls (creating the secret) are not the function's output, and it is
    the function's job to quiet botocore at every run, so any earlier quieting is undone first.
    """
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    caplog.clear()


def record_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    formatter = JsonFormatter()
    texts = []
    for record in records:
        if record.name.split(".")[0] in NOT_IN_LAMBDA:
            continue
        texts.append(formatter.format(record))
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return texts


def exception_texts(error: BaseException | None) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        error = error.__cause__ or error.__context__
    return texts


def leaks(texts: Iterable[str], material: Iterable[str]) -> list[tuple[str, str]]:
    """(secret, where) pairs for every piece of material found in the texts."""
    found = []
    pieces = [m for m in material if m]
    for text in texts:
        for piece in pieces:
            if piece in text:
                found.append((piece, text[:200]))
    return found


def as_text(value: object) -> str:
    return json.dumps(value, default=str)

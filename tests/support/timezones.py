"""Run code as on a machine whose local time is not UTC (a laptop running the CLI)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# UTC-03:30 in November: neither UTC nor a whole number of hours away from it.
NOT_UTC = "America/St_Johns"


@contextmanager
def local_time(monkeypatch: pytest.MonkeyPatch, zone: str = NOT_UTC) -> Iterator[None]:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        if time.localtime(1796000000).tm_gmtoff == 0:
            pytest.skip(f"this machine has no time zone data for {zone}")
        yield
    finally:
        monkeypatch.undo()
        time.tzset()

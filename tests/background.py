"""Terraform runs that tests wait for, started in the background as soon as collection shows that
a selected test needs them.

Most of `make test` is Python on one core (moto in-process), while `terraform test` and the
examples' applies spend minutes in `terraform` and the offline provider, other processes. So a
conftest registers, for a fixture name, the runs behind it (one per provider major); once
collection is over (the hooks below: tests/conftest.py loads this module as a plugin), the runs
that some selected test needs start on two worker threads, the tests that wait for them move to
the end of the session, and everything else runs meanwhile. The fixture takes the results from
`results()`, which starts the runs itself where the hooks did not.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

# The runs yield the CPU to the Python tests: timing-sensitive tests (threads racing against a moto
# server) must not be starved by Terraform. On Linux the niceness is the thread's, and the
# terraform and provider processes it starts inherit it.
NICENESS = 10


def _lower_priority() -> None:
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


# Two workers: one per provider major, as `make test-tf` and `make test-examples` run them.
_POOL = ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="terraform", initializer=_lower_priority
)
_RUNS: dict[str, Sequence[Callable[[], Any]]] = {}
_STARTED: dict[str, list[Future[Any]]] = {}
_LOCK = threading.Lock()
# A test that waits for a run may wait as long as the run takes on a busy machine.
WAIT_TIMEOUT_SECONDS = 900


def register(fixture: str, *runs: Callable[[], Any]) -> None:
    """The runs behind `fixture`: started when a selected test uses the fixture."""
    _RUNS.setdefault(fixture, runs)


def _start(fixture: str) -> list[Future[Any]]:
    with _LOCK:
        if fixture not in _STARTED:
            _STARTED[fixture] = [_POOL.submit(run) for run in _RUNS[fixture]]
        return _STARTED[fixture]


def results(fixture: str) -> list[Any]:
    """The results of the runs behind `fixture`, in registration order (waiting for them); a
    run's exception is raised here."""
    return [future.result() for future in _start(fixture)]


def _waits_for(item: pytest.Item) -> list[str]:
    return [name for name in getattr(item, "fixturenames", ()) if name in _RUNS]


def order(items: list[pytest.Item]) -> None:
    """Tests that wait for a background run go last (and may wait longer than other tests)."""
    waiting = [item for item in items if _waits_for(item)]
    for item in waiting:
        item.add_marker(pytest.mark.timeout(WAIT_TIMEOUT_SECONDS))
    items[:] = [item for item in items if not _waits_for(item)] + waiting


def start(session: pytest.Session) -> None:
    """Start every run a selected test needs (none for --collect-only)."""
    if session.config.option.collectonly:
        return
    for fixture in sorted({name for item in session.items for name in _waits_for(item)}):
        _start(fixture)


# ---- hooks (this module is a plugin of tests/conftest.py) ----------------------------------


@pytest.hookimpl(trylast=True)  # after -k/-m deselection
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    order(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    start(session)


def pytest_sessionfinish() -> None:
    """Runs not started yet never start (e.g. after `-x`)."""
    _POOL.shutdown(wait=False, cancel_futures=True)

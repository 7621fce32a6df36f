"""The module's alarms as Terraform plans them, for tests that run them over simulated time: one
offline plan of several module calls, started in the background (tests/background.py) and shared
by a session fixture."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests import background
from tools.terraform.harness import PlannedCalls, Unavailable, plan_module_calls


def register(
    fixture: str,
    calls: Mapping[str, tuple[str, Mapping[str, Any]]],
    targets: Sequence[str],
) -> None:
    """Plan `calls` (call name -> region, inputs) for `targets` when a test uses `fixture`."""

    def plan() -> PlannedCalls:
        with tempfile.TemporaryDirectory(prefix=f"ecr-token-rotator-{fixture}-") as workdir:
            return plan_module_calls(calls, Path(workdir), targets=targets)

    background.register(fixture, plan)


def planned(fixture: str) -> PlannedCalls:
    """The plan behind `fixture`; the test skips where terraform or ../shared is absent."""
    try:
        [result] = background.results(fixture)
    except Unavailable as e:
        pytest.skip(f"terraform plan: {e}")
    assert result.errors == [], result.errors
    return result

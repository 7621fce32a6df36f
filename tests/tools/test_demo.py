"""`make demo` as a person reads it: the steps, the function's metric line and result, the secret
masked; no benchmark marker, no line meant for a program."""

from __future__ import annotations

import json
import re

import pytest

from tools import demo


def test_the_demo_shows_the_refresh_and_no_benchmark_markers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert demo.main() == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err

    assert "REFRESH_DONE_AT" not in shown
    assert "LAMBDA_RESULT" not in shown
    # No line that is a marker and a number, e.g. "SOME_MARKER 12345.678".
    assert re.findall(r"^[A-Z][A-Z_]+ [\d.]+$", shown, re.MULTILINE) == []
    metric_heading = "CloudWatch metric line (EMF):\n"
    metric_lines = captured.out.split(metric_heading, 1)[1].split("\nreturn value:", 1)[0]
    assert [json.loads(line)["RefreshSuccess"] for line in metric_lines.splitlines()] == [1]
    assert "==> the secret now holds (passwords masked)" in captured.out

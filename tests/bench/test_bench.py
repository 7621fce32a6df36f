"""The benchmark's own logic: its API-call target (a test, not only a flag in the table), its
accounting of calls, and the README edit it is allowed to make (between the markers, nowhere
else). Timing is not tested: that is what `make bench` reports."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from bench import run
from tests.support import lambda_zip
from tests.support.moto_server import moto_server

REGISTRIES = ("123456789012", "210987654321")


@pytest.mark.parametrize(
    ("regions", "registry_ids"),
    [(("eu-central-1",), ()), (("eu-central-1", "us-east-1"), REGISTRIES)],
    ids=["1 region", "2 regions x 2 registry accounts"],
)
def test_a_scheduled_refresh_makes_exactly_the_target_calls(
    monkeypatch: pytest.MonkeyPatch, regions: tuple[str, ...], registry_ids: tuple[str, ...]
) -> None:
    with moto_server() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        function = run.ours(run.create_secret(server, f"calls-{len(regions)}"))
        function.configure(regions, registry_ids)  # os.environ: restored by the autouse fixture

        counted = run.counted_run(function)

    assert counted["calls"] == {
        "GetAuthorizationToken": len(regions),
        "GetSecretValue": 1,
        "PutSecretValue": 1,
        "UpdateSecretVersionStage": 1,
    }
    assert counted["token_regions"] == dict.fromkeys(regions, 1)
    assert counted["http_requests"] == counted["total"] == len(regions) + 3
    assert run.meets_target(counted, regions)


def test_the_floor_makes_exactly_the_compare_and_swaps_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with moto_server() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        function = run.floor(run.create_secret(server, "floor"))
        function.configure(["eu-central-1"])

        counted = run.counted_run(function)

    assert run.meets_target(counted, ["eu-central-1"])


def test_the_target_check_flags_any_other_call() -> None:
    counted = {
        "calls": {
            "GetAuthorizationToken": 1,
            "GetSecretValue": 1,
            "PutSecretValue": 1,
            "UpdateSecretVersionStage": 1,
        },
        "token_regions": {"eu-central-1": 1},
        "http_requests": 4,
        "total": 4,
    }
    assert run.meets_target(counted, ["eu-central-1"])
    assert not run.meets_target({**counted, "http_requests": 5}, ["eu-central-1"])  # a retry
    assert not run.meets_target(counted, ["eu-central-1", "us-east-1"])
    extra = {**counted, "calls": {**counted["calls"], "DescribeSecret": 1}, "total": 5}
    assert not run.meets_target(extra, ["eu-central-1"])
    no_swap = {k: v for k, v in counted["calls"].items() if k != "UpdateSecretVersionStage"}
    assert not run.meets_target({**counted, "calls": no_swap, "total": 3}, ["eu-central-1"])


README = """# Project

## Performance

<!-- BEGIN_BENCH -->
old table
<!-- END_BENCH -->

## Next
text
"""


def test_the_readme_block_is_replaced_between_the_markers_only(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)

    run.update_readme(readme, "| new | table |\n")

    assert readme.read_text() == README.replace("old table", "| new | table |")


@pytest.mark.parametrize(
    "text",
    [
        "# Project\n\n## Performance\n",
        "<!-- END_BENCH -->\n<!-- BEGIN_BENCH -->\n",
        "<!-- BEGIN_BENCH -->\n<!-- END_BENCH -->\n<!-- BEGIN_BENCH -->\n<!-- END_BENCH -->\n",
    ],
    ids=["no markers", "reversed", "twice"],
)
def test_without_one_pair_of_markers_nothing_is_edited(tmp_path: Path, text: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(text)
    with pytest.raises(run.BenchError, match="BEGIN_BENCH"):
        run.update_readme(readme, "table")
    assert readme.read_text() == text


def canned_results() -> tuple[dict[str, Any], dict[str, Any]]:
    """What `benchmark` returns, with made-up numbers (the table's shape, not its values)."""
    one = run.Stats.of([0.1])
    calls = {"calls": {"GetSecretValue": 1}, "total": 1, "http_requests": 1, "token_regions": {}}
    results = {
        "cold_start": {
            key: {"seconds": one, "peak_rss_mib": one}
            for key in ("ours", "baseline", "python_and_boto3_import")
        },
        "warm": {"ours": one, "baseline": one},
        "warm_delayed": {"ours": one, "baseline": one, "floor": one},
        "warm_cpu": {"ours": one, "baseline": one, "floor": one},
        "api_calls": {"1 region": {"ours": calls, "baseline": calls, "target_met": True}},
        "rotation_calls": calls,
        "growth": [
            {"regions": 1, "ours_calls": 4, "baseline_calls": 3}
            | {f"{who}_{how}": one for who in ("ours", "baseline") for how in ("local", "delayed")}
        ],
    }
    meta = {
        "command": "make bench",
        "date": "2026-11-30",
        "machine": "test",
        "plan": vars(run.PLANS["quick"]),
        "zip_bytes": 1,
        "zip_files": 1,
        "seconds": 1.0,
    }
    return results, meta


@pytest.mark.parametrize(
    ("argv", "written"),
    [([], False), (["--quick"], False), (["--no-readme"], False), (["--write-readme"], True)],
)
def test_the_readme_is_written_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], written: bool
) -> None:
    """`make bench` leaves bench/README.md alone; BENCH_ARGS=--write-readme updates it."""
    readme = tmp_path / "README.md"
    readme.write_text(README)
    monkeypatch.setattr(run, "README", readme)
    monkeypatch.setattr(run, "benchmark", lambda *_: canned_results())

    assert run.main([*argv, "--output", str(tmp_path / "latest.json")]) == 0

    assert (readme.read_text() != README) is written
    assert (tmp_path / "latest.json").exists()


def test_a_child_reports_when_its_work_ended_through_the_side_channel(tmp_path: Path) -> None:
    """The end time comes from the file BENCH_DONE_FILE names, not from the child's output (which
    `make demo` shows a person): a marker printed on stdout is not read."""
    write_end = (
        "import os, sys, time; print('REFRESH_DONE_AT 0.0'); time.sleep(0.05); "
        "open(os.environ['BENCH_DONE_FILE'], 'w').write(repr(time.monotonic()))"
    )
    child = run.run_child([sys.executable, "-I", "-S", "-c", write_end], {"PATH": "/usr/bin:/bin"})
    assert child.seconds > 0.05  # from the child's start to the moment it wrote, not to 0.0

    with pytest.raises(run.BenchError, match="wrote no end time to BENCH_DONE_FILE"):
        run.run_child([sys.executable, "-I", "-S", "-c", "print('REFRESH_DONE_AT 1.0')"], {})


def test_the_packaged_function_prints_no_benchmark_marker(tmp_path: Path) -> None:
    """What the demo shows of the function's output (its metric line and result) carries no
    marker; the benchmark's end time goes to the side channel when asked for."""
    done = tmp_path / "done"
    with moto_server() as server:
        secret = run.create_secret(server, "quiet")
        process = lambda_zip.run_packaged(
            run.ZIP,
            tmp_path,
            {},
            AWS_ENDPOINT_URL=server.endpoint_url,
            AWS_REGION=run.HOME,
            SECRET_ID=secret,
            BENCH_DONE_FILE=str(done),
        )
    assert process.returncode == 0, process.stderr
    assert "REFRESH_DONE_AT" not in process.stdout + process.stderr
    assert float(done.read_text()) > 0


def test_the_floor_only_mode_writes_no_readme(capsys: pytest.CaptureFixture[str]) -> None:
    """`--floor-only` measures too little for the README's table: asking for both is refused."""
    assert run.arguments(["--floor-only"]).floor_only
    with pytest.raises(SystemExit):
        run.arguments(["--floor-only", "--write-readme"])
    assert "--floor-only measures too little" in capsys.readouterr().err

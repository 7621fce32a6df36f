"""The operator CLI: `refresh` and `repair`, their output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ecr_token_rotator import cli
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import SEED_DOCUMENT
from tests.support.secrets_manager_model import RotationService


def test_refresh_prints_the_result_as_json(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)

    code = cli.main(
        ["refresh", "--secret-id", arn, "--region", "eu-central-1", "--region", "us-east-1",
         "--registry-id", ACCOUNT_ID]
    )  # fmt: skip

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["secret_arn"] == arn
    assert result["registry_hosts"] == [
        f"{ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com",
        f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com",
    ]
    assert harness.document(arn)["team"] == "platform"


def test_refresh_uses_the_default_region(harness: Harness) -> None:
    arn = harness.create_secret()
    assert cli.main(["refresh", "--secret-id", "ecr-pull-credential"]) == 0
    assert harness.document(arn)["registry"] == f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"


def test_refresh_with_a_pull_probe(harness: Harness) -> None:
    arn = harness.create_secret()
    image = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/app:1"
    harness.monkeypatch.setattr(cli, "HttpsTransport", lambda **_: harness.stub.transport())
    assert cli.main(["refresh", "--secret-id", arn, "--probe-image", image]) == 0
    assert [path for _, path, _ in harness.stub.state.requests] == ["/v2/app/manifests/1"]


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["refresh", "--secret-id", "missing"], 1, "does not exist"),
        (["refresh", "--secret-id", "x", "--region", "mars"], 2, "'mars'"),
        (["refresh", "--secret-id", "x", "--registry-id", "1"], 2, "12-digit"),
        (["repair", "--secret-id", "missing"], 1, "does not exist"),
    ],
)
def test_errors_go_to_stderr_with_an_exit_code(
    harness: Harness, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, words: str
) -> None:
    assert cli.main(argv) == code
    captured = capsys.readouterr()
    assert captured.out == ""
    assert words in captured.err


def test_repair_dry_run_then_repair(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    token = service.start(arn)
    service.run(arn, token, harness.invoke, steps=("createSecret",))
    service.age_version(arn, token, 3600)
    capsys.readouterr()

    assert cli.main(["repair", "--secret-id", arn, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] is False
    assert cli.main(["repair", "--secret-id", arn]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "secret_id": arn,
        "stale_pending_version_ids": [token],
        "removed": True,
    }
    service.start(arn)  # Secrets Manager accepts a new rotation again


def test_python_dash_m_entry_point_shows_help() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "ecr_token_rotator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd="lambda_src",
    )
    assert "refresh" in process.stdout
    assert "repair" in process.stdout

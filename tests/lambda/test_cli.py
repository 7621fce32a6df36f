"""The operator CLI: `refresh` and `repair`, their output, errors and exit codes, as a newcomer
meets them: a wrong command line gets argparse's usage text (nothing ran), a run that started
ends in one log line on stderr (JSON, or text for a person); errors name the CLI's flags, say what
to do for where the CLI runs, and write durations in words."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pty
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto.server import ThreadedMotoServer

from ecr_token_rotator import aws, cli
from ecr_token_rotator.config import ENVIRONMENT_NAMES
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import SEED_DOCUMENT
from tests.support.faults import on_function_calls, skip_retry_sleeps
from tests.support.secrets_manager_model import RotationService
from tests.support.timezones import local_time

OTHER_REGION = "us-west-2"
# The Lambda's environment variables: a CLI error never tells a CLI user to set one of them.
LAMBDA_VARIABLES = tuple(name for name in ENVIRONMENT_NAMES if name != "AWS_REGION")


def run_failed(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    return record


def usage_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """The error of a command line refused before anything ran: argparse's usage text of the
    command, then `<prog> <command>: error: <message>`, on stderr only, and no log line."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"usage: {Path(sys.argv[0]).name} {command} [-h] --secret-id ID"), (
        lines
    )
    prefix = f"{Path(sys.argv[0]).name} {command}: error: "
    [error] = [line for line in lines if line.startswith(prefix)]
    assert lines[-1] == error
    for line in lines:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    return error.removeprefix(prefix)


def test_refresh_prints_the_result_as_json(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)

    code = cli.main(
        ["refresh", "--secret-id", arn, "--ecr-region", "eu-central-1", "--ecr-region",
         "us-east-1", "--registry-id", ACCOUNT_ID]
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


def test_refresh_with_endpoint_types(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    arn = harness.create_secret()
    argv = [
        "refresh",
        "--secret-id",
        arn,
        "--endpoint-type",
        "ipv4",
        "--endpoint-type",
        "dualstack",
    ]
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["registry_hosts"] == [
        f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com",
        f"{ACCOUNT_ID}.dkr-ecr.{REGION}.on.aws",
    ]


def test_a_laptop_in_another_time_zone_writes_utc(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI on a machine whose local time is UTC-03:30: `expires_at` (document and output) is
    the token's expiry in UTC, to the second, with a `Z`; so are the log lines' timestamps."""
    arn = harness.create_secret()
    with local_time(harness.monkeypatch):
        assert cli.main(["refresh", "--secret-id", arn]) == 0
        captured = capsys.readouterr()

    [expiry] = harness.issued.expiries
    expected = expiry.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert harness.document(arn)["expires_at"] == expected
    assert json.loads(captured.out)["expires_at"] == expected
    for line in captured.err.splitlines():
        logged = datetime.strptime(json.loads(line)["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        assert abs(logged.replace(tzinfo=UTC) - datetime.now(UTC)) < timedelta(minutes=5)


# ---- --region: the same in both commands; an ARN names its own region ------------------------


def test_refresh_of_a_secret_by_arn_works_in_the_arns_region(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """No region configured at all: the ARN's region is where the secret is read and written, and
    the default ECR region (as the function's own region is for the Lambda)."""
    harness.monkeypatch.delenv("AWS_REGION")
    harness.monkeypatch.delenv("AWS_DEFAULT_REGION")
    secrets = boto3.client("secretsmanager", region_name=OTHER_REGION)
    arn = secrets.create_secret(Name="elsewhere", SecretString=json.dumps(SEED_DOCUMENT))["ARN"]

    assert cli.main(["refresh", "--secret-id", arn]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["registry_hosts"] == [f"{ACCOUNT_ID}.dkr.ecr.{OTHER_REGION}.amazonaws.com"]
    document = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert document["team"] == "platform"
    assert document["registry"] == result["registry_hosts"][0]


def test_refresh_by_arn_while_configured_for_another_region(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS_REGION is eu-central-1: the ARN still decides where the secret is; ECR regions are
    --ecr-region's."""
    secrets = boto3.client("secretsmanager", region_name=OTHER_REGION)
    arn = secrets.create_secret(Name="elsewhere", SecretString=json.dumps(SEED_DOCUMENT))["ARN"]

    assert cli.main(["refresh", "--secret-id", arn, "--ecr-region", "us-east-1"]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["secret_arn"] == arn
    assert result["registry_hosts"] == [f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"]


@pytest.mark.parametrize("command", ["refresh", "repair"])
def test_a_secret_by_name_with_no_region_anywhere_says_where_to_set_one(
    harness: Harness, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    harness.monkeypatch.delenv("AWS_REGION")
    harness.monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws.reset_clients()
    assert cli.main([command, "--secret-id", "by-name"]) == 2
    message = usage_error(capsys, command)
    assert "no region: give the secret's ARN, pass --region, or set one" in message
    assert "AWS_REGION, AWS_DEFAULT_REGION or the profile's region" in message


def test_aws_region_alone_is_the_environments_region(harness: Harness) -> None:
    """As for the AWS CLI v2 (botocore itself reads only AWS_DEFAULT_REGION)."""
    harness.monkeypatch.setenv("AWS_REGION", OTHER_REGION)
    harness.monkeypatch.delenv("AWS_DEFAULT_REGION")
    aws.reset_clients()
    secrets = boto3.client("secretsmanager", region_name=OTHER_REGION)
    secrets.create_secret(Name="elsewhere", SecretString=json.dumps(SEED_DOCUMENT))
    assert cli.main(["repair", "--secret-id", "elsewhere", "--dry-run"]) == 0


@pytest.mark.parametrize("command", ["refresh", "repair"])
def test_a_region_that_contradicts_the_arn_is_an_error(
    harness: Harness, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    arn = f"arn:aws:secretsmanager:{OTHER_REGION}:{ACCOUNT_ID}:secret:elsewhere-AbCdEf"
    assert cli.main([command, "--secret-id", arn, "--region", "eu-central-1"]) == 2
    message = usage_error(capsys, command)
    assert f"--region eu-central-1 is not the region of the secret's ARN ({OTHER_REGION})" in (
        message
    )


@pytest.mark.parametrize("command", ["refresh", "repair"])
def test_region_means_the_region_of_a_secret_given_by_name_in_both_commands(
    harness: Harness, command: str
) -> None:
    """AWS_REGION is eu-central-1; --region us-west-2 finds the secret there, for both."""
    secrets = boto3.client("secretsmanager", region_name=OTHER_REGION)
    secrets.create_secret(Name="elsewhere", SecretString=json.dumps(SEED_DOCUMENT))
    argv = [command, "--secret-id", "elsewhere", "--region", OTHER_REGION]
    assert cli.main(argv + (["--dry-run"] if command == "repair" else [])) == 0


def test_region_is_given_once_and_ecr_regions_have_their_own_flag(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["refresh", "--secret-id", "x", "--region", "eu-central-1", "--region", "us-east-1"]
    assert cli.main(argv) == 2
    message = usage_error(capsys, "refresh")
    assert "--region is given once" in message
    assert "--ecr-region" in message


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["repair", "--secret-id", "x", "--region", "US-EAST-1"], "--region: 'US-EAST-1'"),
        (["repair", "--secret-id", "x", "--region", "mars"], "--region: 'mars'"),
        (["refresh", "--secret-id", "x", "--region", "eu_central-1"], "--region: 'eu_central-1'"),
    ],
)
def test_region_is_validated_before_any_call(
    harness: Harness, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    calls: list[str] = []
    on_function_calls("before-call", lambda model, **_: calls.append(model.name))
    assert cli.main(argv) == 2
    assert words in usage_error(capsys, argv[0])
    assert calls == []  # never reached AWS (an invalid region name made botocore send HTML)


def test_a_configured_region_that_is_not_one_is_named(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    harness.monkeypatch.setenv("AWS_REGION", "US-EAST-1")
    harness.monkeypatch.setenv("AWS_DEFAULT_REGION", "US-EAST-1")
    aws.reset_clients()
    assert cli.main(["repair", "--secret-id", "x"]) == 2
    message = usage_error(capsys, "repair")
    assert "'US-EAST-1'" in message
    assert "AWS_REGION" in message


# ---- errors name the CLI's flags; a wrong command line gets usage text, a run a log line -------


@pytest.mark.parametrize(
    ("argv", "flag", "words"),
    [
        (["--ecr-region", "mars"], "--ecr-region", "'mars'"),
        (["--registry-id", "12345678901"], "--registry-id", "12-digit"),
        (["--endpoint-type", "ipv6"], "--endpoint-type", "'ipv6'"),
        (["--endpoint-type", "fips"], "--endpoint-type", "fips is not offered in eu-central-1"),
        (["--probe-image", "docker.io/nginx:1"], "--probe-image", "not an ECR image"),
        (
            ["--probe-image", f"{ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/app:1"],
            "--ecr-region",
            "us-west-2",
        ),
        (["--probe-image", "public.ecr.aws/team/app:1"], "--ecr-public", "ECR Public"),
        (["--log-level", "LOUD"], "--log-level", "'LOUD'"),
    ],
)
def test_errors_name_the_flags_not_the_lambdas_variables(
    harness: Harness, capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, words: str
) -> None:
    assert cli.main(["refresh", "--secret-id", "x", *argv]) == 2
    message = usage_error(capsys, "refresh")
    assert flag in message
    assert words in message
    assert [name for name in LAMBDA_VARIABLES if name in message] == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["refresh"], "the following arguments are required: --secret-id"),
        (["repair", "--dry-run"], "the following arguments are required: --secret-id"),
        (["refresh", "--secret-id", "x", "--timeout", "1"], "argument --timeout: '1' is not a"),
        (["refresh", "--secret-id", "x", "--ecr-regions", "eu-west-1"], "unrecognized arguments"),
        (["repair", "--secret-id", "x", "--ecr-region", "eu-west-1"], "unrecognized arguments"),
        (["refresh", "--secret-id", "x", "--ecr-region", "mars"], "--ecr-region: 'mars'"),
        (["refresh", "--secret-id", "x", "--registry-id", "1"], "12-digit"),
        (["refresh", "--secret-id", "x", "--log-format", "yaml"], "invalid choice: 'yaml'"),
    ],
)
def test_a_wrong_command_line_gets_usage_text_and_exit_status_2(
    harness: Harness,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    argv: list[str],
    words: str,
) -> None:
    """Nothing ran: no "run failed" log line, whatever the log format; argparse's usage of the
    command and the error instead."""
    calls: list[str] = []
    on_function_calls("before-call", lambda model, **_: calls.append(model.name))
    assert cli.main(argv) == 2
    assert words in usage_error(capsys, argv[0])
    assert [r for r in caplog.records if getattr(r, "event", None) == "run_failed"] == []
    assert calls == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["refresh", "--secret-id", "missing"], "does not exist in eu-central-1"),
        (["repair", "--secret-id", "missing"], "does not exist"),
    ],
)
def test_a_failed_run_ends_in_one_json_log_line_on_stderr(
    harness: Harness, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert cli.main([*argv, "--log-format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    *_, last = captured.err.splitlines()
    line = json.loads(last)
    assert line["level"] == "ERROR"
    assert line["event"] == "run_failed"
    assert line["exit_code"] == 1
    assert words in line["message"]
    assert all(json.loads(other) for other in captured.err.splitlines())  # JSON, every line


def test_a_missing_secret_is_the_first_thing_refresh_says(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not "secret read ... first_version: true" and fetched tokens, then the error: the secret
    is missing, said first and only."""
    assert cli.main(["refresh", "--secret-id", "does-not-exist"]) == 1
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1
    assert "secret does-not-exist does not exist in eu-central-1" in said[0]


def module_command(
    *args: str, env: dict[str, str] | None = None, stderr: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """`python -m ecr_token_rotator ...` as a user runs it: a process of its own, where nothing
    else handles the log records; no credentials, no AWS configuration."""
    return subprocess.run(
        [sys.executable, "-m", "ecr_token_rotator", *args],
        stdout=subprocess.PIPE, stderr=stderr, text=True, check=False, cwd="lambda_src",
        env=env or {
            "PATH": "/usr/bin:/bin", "AWS_REGION": "eu-central-1", "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        },
    )  # fmt: skip


def test_the_installed_command_prints_usage_errors_json_logs_and_help() -> None:
    refused = module_command("refresh", "--secret-id", "x", "--ecr-region", "mars")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith("usage: python -m ecr_token_rotator refresh [-h] --secret-id")
    last = refused.stderr.splitlines()[-1]
    assert last.startswith("python -m ecr_token_rotator refresh: error: --ecr-region: 'mars' is")

    # A run that started (and failed for want of credentials): one JSON line, stderr not a TTY.
    failed = module_command("repair", "--secret-id", "x")
    assert failed.returncode == 1
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    record = json.loads(line)
    assert (record["event"], record["error_type"], record["exit_code"]) == (
        "run_failed",
        "SecretError",
        1,
    )
    assert "Unable to locate credentials" in record["message"]

    helped = module_command("refresh", "--help")
    assert helped.returncode == 0
    assert "--log-level LEVEL" in helped.stdout
    assert "DEBUG, INFO (default), WARNING or ERROR" in " ".join(helped.stdout.split())


def on_a_terminal(*args: str) -> str:
    """What the command writes to stderr when stderr is a terminal (a pseudo-terminal here)."""
    controller, terminal = pty.openpty()
    try:
        process = module_command(*args, stderr=terminal)
    finally:
        os.close(terminal)
    written = b""
    with contextlib.suppress(OSError):  # EIO: the terminal's other end is closed
        while chunk := os.read(controller, 65536):
            written += chunk
    os.close(controller)
    assert process.stdout == ""
    return written.decode().replace("\r\n", "\n")


def test_on_a_terminal_logs_are_text_unless_json_is_asked_for() -> None:
    text = on_a_terminal("repair", "--secret-id", "x")
    [line] = text.splitlines()
    assert line.startswith("ERROR run failed: ListSecretVersionIds on x failed before reaching AWS")
    assert "Unable to locate credentials" in line
    assert line.endswith("exit_code=1]")
    assert " [error_type=SecretError " in line
    assert " waiting_for=secretsmanager:ListSecretVersionIds " in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)

    [line] = on_a_terminal("repair", "--secret-id", "x", "--log-format", "json").splitlines()
    assert json.loads(line)["event"] == "run_failed"


def test_text_logs_read_as_lines_for_a_person(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    argv = ["refresh", "--secret-id", arn, "--ecr-region", "eu-central-1,us-east-1"]
    assert cli.main([*argv, "--log-format", "text"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["secret_arn"] == arn  # the result stays JSON
    # INFO says what happened; each step is a DEBUG line.
    [line] = captured.err.splitlines()
    assert line.startswith(f"INFO secret published  [secret_arn={arn} ")
    assert "event=" not in captured.err

    assert cli.main([*argv, "--log-format", "text", "--log-level", "DEBUG"]) == 0
    lines = capsys.readouterr().err.splitlines()
    steps = [line.split("  [")[0] for line in lines]
    assert steps[:2] == ["DEBUG secret read", "DEBUG ECR tokens fetched"]
    assert steps[-1] == "INFO secret published"
    assert f" [secret_id={arn} " in lines[0]
    assert "first_version=false" in lines[0]
    assert "regions=eu-central-1,us-east-1" in lines[1]


# ---- list flags: repeated, comma-separated, or both -------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--ecr-region", "eu-central-1,us-east-1,us-west-2"],
        ["--ecr-region", "eu-central-1", "--ecr-region", "us-east-1,us-west-2"],
        ["--ecr-region", "eu-central-1", "--ecr-region", "us-east-1", "--ecr-region", "us-west-2"],
        ["--ecr-region", " eu-central-1, us-east-1,,us-west-2 ,"],  # as ECR_REGIONS takes it
    ],
    ids=["comma-separated", "both", "repeated", "blanks"],
)
def test_ecr_regions_repeated_or_comma_separated(
    harness: Harness, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    arn = harness.create_secret()
    assert cli.main(["refresh", "--secret-id", arn, *argv]) == 0
    assert json.loads(capsys.readouterr().out)["registry_hosts"] == [
        f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com"
        for region in ("eu-central-1", "us-east-1", "us-west-2")
    ]


def test_every_list_flag_takes_a_comma_separated_list(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret()
    other = "210987654321"
    images = [f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/app:{tag}" for tag in (1, 2)]
    harness.monkeypatch.setattr(cli, "HttpsTransport", lambda **_: harness.stub.transport())
    argv = [
        "refresh", "--secret-id", arn,
        "--registry-id", f"{ACCOUNT_ID},{other}",
        "--endpoint-type", "ipv4,dualstack",
        "--probe-image", ",".join(images),
    ]  # fmt: skip
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["registry_hosts"] == [
        f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com",
        f"{ACCOUNT_ID}.dkr-ecr.{REGION}.on.aws",
        f"{other}.dkr.ecr.{REGION}.amazonaws.com",
        f"{other}.dkr-ecr.{REGION}.on.aws",
    ]
    assert [path for _, path, _ in harness.stub.state.requests] == [
        "/v2/app/manifests/1",
        "/v2/app/manifests/2",
    ]


def help_of(capsys: pytest.CaptureFixture[str], *command: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--help"], prog="ecr-token-rotator")
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_synopsis_says_how_lists_are_given(capsys: pytest.CaptureFixture[str]) -> None:
    usage = help_of(capsys, "refresh")
    for flag, item in (
        ("--ecr-region", "REGION"),
        ("--registry-id", "ACCOUNT"),
        ("--endpoint-type", "TYPE"),
        ("--probe-image", "IMAGE"),
    ):
        assert f"[{flag} {item}[,{item}...]]" in usage, flag
    assert not re.search(r"\[--[a-z-]+ [A-Z]+ \.\.\.\]", usage)  # not several values after one flag
    text = " ".join(usage.split())
    assert "List flags take one value or a comma-separated list, and may be repeated" in text
    assert (
        "--ecr-region eu-west-1,eu-central-1 is --ecr-region eu-west-1 --ecr-region eu-central-1"
        in (text)
    )


def test_help_writes_durations_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    helps = [help_of(capsys), help_of(capsys, "refresh"), help_of(capsys, "repair")]
    assert "also remove AWSPENDING younger than 15 minutes" in " ".join(helps[2].split())
    for text in helps:
        assert not re.search(r"\d+:\d\d:\d\d", text), text


def test_the_venv_has_the_command() -> None:
    """`make venv` installs the package (editable), so the command a README shows exists."""
    command = Path(sys.executable).parent / "ecr-token-rotator"
    if not command.exists():
        pytest.skip(f"{command} is absent: this interpreter is not the project's .venv")
    process = subprocess.run([command, "--help"], capture_output=True, text=True, check=True)
    assert process.stdout.startswith("usage: ecr-token-rotator")


# ---- where the CLI runs: network and credential advice ----------------------------------------


@pytest.fixture
def unreachable(harness: Harness) -> None:
    """Every AWS request fails to connect (as with no route), through botocore's retries."""
    skip_retry_sleeps(harness.monkeypatch)

    def refuse(request: object, **_: object) -> None:
        raise EndpointConnectionError(endpoint_url=getattr(request, "url", "?"))

    on_function_calls("before-send", refuse)


def test_a_laptop_is_told_to_check_its_own_connection(
    harness: Harness, caplog: pytest.LogCaptureFixture, unreachable: None
) -> None:
    assert cli.main(["repair", "--secret-id", "x"]) == 1
    message = run_failed(caplog).getMessage()
    assert "cannot reach Secrets Manager for ListSecretVersionIds on x in eu-central-1" in message
    assert "this machine's connection to https://secretsmanager.eu-central-1.amazonaws.com" in (
        message
    )
    assert "VPC" not in message


def test_the_lambda_is_told_to_check_its_vpc_path(
    harness: Harness, unreachable: None, caplog: pytest.LogCaptureFixture
) -> None:
    harness.monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "ecr-token-rotator")
    harness.configure(SECRET_ID="x", ECR_REGIONS="us-east-1")
    with pytest.raises(Exception, match="cannot reach") as raised:
        harness.invoke()
    message = str(raised.value)
    assert "com.amazonaws.eu-central-1.secretsmanager" in message
    assert "VPC mode" in message
    assert "this machine" not in message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_endpoint_url_that_nothing_answers_is_named(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    harness.monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    skip_retry_sleeps(harness.monkeypatch)
    aws.reset_clients()

    assert cli.main(["repair", "--secret-id", "x", "--timeout", "20"]) == 1

    message = run_failed(caplog).getMessage()
    assert f"{url} comes from AWS_ENDPOINT_URL: check that the server there is running" in message


def test_missing_credentials_get_advice(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        harness.monkeypatch.delenv(name)
    harness.monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role lookup
    aws.reset_clients()

    assert cli.main(["repair", "--secret-id", "x"]) == 1

    message = run_failed(caplog).getMessage()
    assert "Unable to locate credentials" in message
    assert "set AWS_PROFILE" in message
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in message


@pytest.fixture
def plain_moto() -> Iterator[str]:
    """A moto server as a user starts it: ECR tokens that expired in 2015, nothing patched."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_a_plain_moto_servers_2015_token_is_explained(
    plain_moto: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", plain_moto)
    aws.reset_clients()
    boto3.client("secretsmanager", endpoint_url=plain_moto).create_secret(Name="s")

    assert cli.main(["refresh", "--secret-id", "s"]) == 1

    message = run_failed(caplog).getMessage()
    assert "expires at 2015-01-01T00:00:00Z" in message
    assert f"{plain_moto} (from AWS_ENDPOINT_URL) answered with a token that had already" in message
    assert "check the clock" not in message
    assert "moto" in message
    assert "`make moto` starts a moto server whose ECR issues fresh tokens" in message


def test_a_short_token_from_aws_itself_gets_no_moto_hint(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.issued.lifetime = timedelta(minutes=10)
    harness.create_secret()
    assert cli.main(["refresh", "--secret-id", "ecr-pull-credential"]) == 1
    message = run_failed(caplog).getMessage()
    assert "check the clock" in message
    assert "moto" not in message


# ---- repair -----------------------------------------------------------------------------------


def pending_rotation(harness: Harness, age_seconds: int) -> tuple[str, str, RotationService]:
    """A secret whose rotation stopped after createSecret, `age_seconds` ago."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    token = service.start(arn)
    service.run(arn, token, harness.invoke, steps=("createSecret",))
    service.age_version(arn, token, age_seconds)
    return arn, token, service


def test_repair_dry_run_then_repair(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    arn, token, service = pending_rotation(harness, 3600)
    capsys.readouterr()

    assert cli.main(["repair", "--secret-id", arn, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "secret_id": arn,
        "dry_run": True,
        "stale_pending_version_ids": [token],
        "recent_pending_version_ids": [],
        "removed": False,
    }
    assert cli.main(["repair", "--secret-id", arn]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "secret_id": arn,
        "stale_pending_version_ids": [token],
        "removed": True,
    }
    service.start(arn)  # Secrets Manager accepts a new rotation again


def test_a_pending_label_ten_minutes_old_is_left_alone_without_force(
    harness: Harness, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A fixed age inside the documented 15-minute window (not one derived from the constant):
    refused without --force, shown by a dry run without --force, removed with --force."""
    arn, token, service = pending_rotation(harness, 10 * 60)
    capsys.readouterr()

    assert cli.main(["repair", "--secret-id", arn, "--dry-run"]) == 0
    dry_run = json.loads(capsys.readouterr().out)
    assert dry_run["stale_pending_version_ids"] == []
    assert dry_run["recent_pending_version_ids"] == [token]

    assert cli.main(["repair", "--secret-id", arn]) == 1
    assert "younger than 15 minutes, so a rotation may still be running" in (
        run_failed(caplog).getMessage()
    )
    assert harness.snapshot(arn).version_stages[token] == ["AWSPENDING"]

    assert cli.main(["repair", "--secret-id", arn, "--force", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["stale_pending_version_ids"] == [token]
    assert cli.main(["repair", "--secret-id", arn, "--force"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] is True
    service.start(arn)


def test_a_pending_label_twenty_minutes_old_is_stale(
    harness: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, token, _ = pending_rotation(harness, 20 * 60)
    capsys.readouterr()
    assert cli.main(["repair", "--secret-id", arn]) == 0
    assert json.loads(capsys.readouterr().out)["stale_pending_version_ids"] == [token]


def test_python_dash_m_entry_point_shows_help() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "ecr_token_rotator", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd="lambda_src",
    )
    assert process.stdout.startswith("usage: python -m ecr_token_rotator")
    assert "refresh" in process.stdout
    assert "repair" in process.stdout


def test_the_docs_synopsis_is_the_commands_own(capsys: pytest.CaptureFixture[str]) -> None:
    """Every option of each command's usage, as argparse writes it, is in the docs' synopsis."""
    repo = Path(__file__).resolve().parents[2]
    docs = [repo / "README.md", *sorted(repo.glob("docs/**/*.md"))]
    blocks = [
        " ".join(block.split())
        for path in docs
        for block in re.findall(r"^```sh\n(.*?)^```", path.read_text(), re.DOTALL | re.MULTILINE)
        if "ecr-token-rotator refresh --secret-id ID" in block
    ]
    assert len(blocks) == 1, "one synopsis of the CLI in the docs"
    for command in ("refresh", "repair"):
        usage = " ".join(help_of(capsys, command).split("\n\n")[0].split())
        options = re.findall(r"\[--.*?\]+(?= |$)|--secret-id ID", usage)
        assert len(options) >= 6, usage
        for option in options:
            assert option in blocks[0], option

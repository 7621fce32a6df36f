"""No log line (at DEBUG, from any logger that runs in Lambda), exception, return value or CLI
output ever contains a token, password or docker `auth` value: every success and failure path
is run and its whole output searched for the secret material it handled."""

from __future__ import annotations

import logging

import pytest

from ecr_token_rotator import cli
from ecr_token_rotator.errors import SecretError
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.ecr_public import stubbed_ecr_public
from tests.support.failures import (
    DEFAULT_POLICY,
    FAILURES,
    HOST,
    SEED_DOCUMENT,
    SEED_MATERIAL,
    Failure,
)
from tests.support.faults import fail_calls
from tests.support.redaction import (
    as_text,
    exception_texts,
    leaks,
    record_texts,
    reset_capture,
)
from tests.support.secrets_manager_model import RotationService


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def check(
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    *outputs: str,
    error: BaseException | None = None,
    extra: list[str] | None = None,
) -> None:
    captured = capsys.readouterr()
    texts = [*record_texts(caplog.records), *exception_texts(error), *outputs]
    texts += [captured.out, captured.err]
    material = [*harness.issued.secret_material(), *SEED_MATERIAL, *(extra or [])]
    assert leaks(texts, material) == []
    assert caplog.records, "nothing was logged: the search would prove nothing"


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_failures_reveal_nothing(
    harness: Harness,
    failure: Failure,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    failure.setup(harness, arn)
    if failure.name != "bad log level":
        harness.configure(LOG_LEVEL="DEBUG")

    reset_capture(caplog)
    with pytest.raises(failure.error) as raised:
        harness.invoke()

    check(harness, caplog, capsys, error=raised.value)


def test_probe_failure_with_a_freshly_issued_token_reveals_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG", PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 403

    reset_capture(caplog)
    with pytest.raises(Exception, match="HTTP 403") as raised:
        harness.invoke()

    assert harness.issued.passwords, "a token was issued, so there is something to leak"
    check(harness, caplog, capsys, error=raised.value)


def test_a_refresh_reveals_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(
        SECRET_ID=arn,
        LOG_LEVEL="DEBUG",
        ECR_REGIONS="eu-central-1,us-east-1",
        ECR_REGISTRY_IDS=f"{ACCOUNT_ID},210987654321",
        PROBE_IMAGES=f"{HOST}/team/app:1.0",
    )

    reset_capture(caplog)
    result = harness.invoke()

    check(harness, caplog, capsys, as_text(result))


def test_every_endpoint_and_ecr_public_reveal_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dual-stack and FIPS hosts, ECR Public's token and the registry token its probe obtains."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(
        SECRET_ID=arn,
        LOG_LEVEL="DEBUG",
        ECR_REGIONS="us-east-1",
        ECR_ENDPOINT_TYPES="ipv4,dualstack,fips,dualstack-fips",
        ECR_PUBLIC="true",
        PROBE_IMAGES=f"{ACCOUNT_ID}.dkr-ecr-fips.us-east-1.on.aws/team/app:1,"
        "ecr-public.aws.com/team/app:1",
    )
    with stubbed_ecr_public(DEFAULT_POLICY, harness.issued) as public:
        public.issue()
        reset_capture(caplog)
        result = harness.invoke()

    assert harness.stub.state.bearer_tokens, "a registry token was issued: something to leak"
    check(harness, caplog, capsys, as_text(result), extra=harness.stub.state.bearer_tokens)


def test_a_rotation_reveals_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn)
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG", PROBE_IMAGES=f"{HOST}/team/app:1.0")

    token = service.start(arn)
    reset_capture(caplog)
    results = service.run(arn, token, harness.invoke)

    check(harness, caplog, capsys, *map(as_text, results))


def test_the_cli_reveals_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)

    reset_capture(caplog)
    assert cli.main(["refresh", "--secret-id", arn, "--log-level", "DEBUG"]) == 0
    assert cli.main(["repair", "--secret-id", arn, "--dry-run", "--log-level", "DEBUG"]) == 0
    harness.configure(SECRET_ID=arn)
    assert cli.main(["refresh", "--secret-id", "missing", "--log-level", "DEBUG"]) == 1

    check(harness, caplog, capsys)


def test_a_retry_that_publishes_the_failed_runs_version_reveals_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG", PROBE_IMAGES=f"{HOST}/team/app:1.0")
    fail_calls("UpdateSecretVersionStage", 1)

    reset_capture(caplog)
    with pytest.raises(SecretError) as raised:
        harness.invoke()
    harness.age_unpublished_version(arn)  # Lambda retries a minute later
    retried = harness.invoke()

    assert retried["published"] is True
    assert [r.event for r in caplog.records if r.event == "version_reused"]  # type: ignore[attr-defined]
    check(harness, caplog, capsys, as_text(retried), error=raised.value)


def test_superseded_runs_and_a_failed_clean_up_reveal_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn, schedule="rate(4 hours)")
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG", PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.issue_tokens_at(hours=-8)
    token = service.start(arn)

    reset_capture(caplog)
    results = service.run(arn, token, harness.invoke, steps=("createSecret", "testSecret"))
    harness.issue_tokens_at(hours=0)
    fail_calls("UpdateSecretVersionStage", 2)  # the removal of AWSPENDING after the publication
    with pytest.raises(SecretError) as raised:  # a pending credential too old: fresh tokens
        service.run(arn, token, harness.invoke, steps=("finishSecret",))
    results += service.run(arn, token, harness.invoke, steps=("finishSecret",))
    harness.issue_tokens_at(hours=-1)
    results.append(harness.invoke({}))  # older tokens than AWSCURRENT's: superseded

    assert results[-1]["published"] is False
    logged = {getattr(r, "event", None) for r in caplog.records}
    assert {"pending_too_old", "rotation_superseded", "publish_superseded"} <= logged
    check(harness, caplog, capsys, *map(as_text, results), error=raised.value)

"""Native rotation: the four steps, their idempotency, the staging checks, and `repair`."""

from __future__ import annotations

import json
import logging

import pytest

from ecr_token_rotator.errors import ConfigError, ProbeError, RotationStateError
from ecr_token_rotator.repair import ROTATION_IN_PROGRESS_WINDOW, repair_pending
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import HOST, SEED_DOCUMENT
from tests.support.secrets_manager_model import PreviousRotationIncomplete, RotationService


@pytest.fixture
def service(harness: Harness) -> RotationService:
    return RotationService(ACCOUNT_ID, REGION)


@pytest.fixture
def secret(harness: Harness, service: RotationService) -> str:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    return arn


def test_a_full_rotation_makes_the_new_version_current(
    harness: Harness, service: RotationService, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = harness.snapshot(secret).current_version_id
    token = service.start(secret)

    results = service.run(secret, token, harness.invoke)

    after = harness.snapshot(secret)
    assert after.current_version_id == token
    assert after.version_stages[previous] == ["AWSPREVIOUS"]
    assert sorted(after.version_stages[token]) == ["AWSCURRENT", "AWSPENDING"]
    document = harness.document(secret)
    assert document["password"] == harness.issued.passwords[-1]
    assert document["team"] == "platform"
    assert [r["step"] for r in results] == [
        "createSecret",
        "setSecret",
        "testSecret",
        "finishSecret",
    ]
    assert [r["published"] for r in results] == [False, False, False, True]
    assert all(r["version_id"] == token for r in results)
    # Exactly one metric line: for the step that published the credential.
    assert [
        json.loads(line)["RefreshSuccess"] for line in capsys.readouterr().out.splitlines()
    ] == [1]


def test_first_rotation_of_a_secret_without_a_value(
    harness: Harness, service: RotationService
) -> None:
    arn = harness.create_secret()
    service.enable(arn)
    harness.configure(SECRET_ID=arn)

    service.run(arn, service.start(arn), harness.invoke)

    assert harness.document(arn)["registry"] == HOST


def test_every_step_is_idempotent(harness: Harness, service: RotationService, secret: str) -> None:
    token = service.start(secret)
    invoke_twice = lambda event: [harness.invoke(event), harness.invoke(event)]  # noqa: E731

    service.run(secret, token, invoke_twice)

    after = harness.snapshot(secret)
    assert after.current_version_id == token
    assert len(after.version_stages) == 2  # the seed version and one new version
    assert len(harness.issued.passwords) == 1  # the second createSecret fetched nothing


def test_a_retry_with_the_same_token_completes_a_half_done_rotation(
    harness: Harness, service: RotationService, secret: str
) -> None:
    harness.configure(SECRET_ID=secret, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 403
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret"))
    with pytest.raises(ProbeError):
        service.run(secret, token, harness.invoke, steps=("testSecret",))
    pending_value = harness.document(secret, VersionId=token, VersionStage="AWSPENDING")

    del harness.stub.state.statuses["team/app"]  # pull rights granted; Secrets Manager retries
    service.run(secret, token, harness.invoke)

    assert harness.snapshot(secret).current_version_id == token
    assert harness.document(secret) == pending_value  # createSecret kept the first attempt's value


def test_a_retried_finish_whose_label_move_succeeded_still_reports_success(
    harness: Harness, service: RotationService, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = harness.snapshot(secret).current_version_id
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret"))
    # The first finishSecret moved AWSCURRENT, then its answer was lost.
    harness.secrets().update_secret_version_stage(
        SecretId=secret,
        VersionStage="AWSCURRENT",
        MoveToVersionId=token,
        RemoveFromVersionId=previous,
    )
    before = harness.snapshot(secret)
    capsys.readouterr()

    [result] = service.run(secret, token, harness.invoke, steps=("finishSecret",))

    assert result["published"] is True
    assert harness.snapshot(secret) == before
    [metric] = capsys.readouterr().out.splitlines()
    assert json.loads(metric)["RefreshSuccess"] == 1


def test_a_finish_for_an_older_current_version_reports_nothing(
    harness: Harness, service: RotationService, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWSCURRENT without AWSPENDING: not this rotation's finish, so no success to report."""
    current = str(harness.snapshot(secret).current_version_id)
    capsys.readouterr()
    [result] = service.run(secret, current, harness.invoke, steps=("finishSecret",))
    assert result["published"] is False
    assert capsys.readouterr().out == ""


def test_test_secret_probes_with_the_pending_credential(
    harness: Harness, service: RotationService, secret: str
) -> None:
    harness.configure(SECRET_ID=secret, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "testSecret"))

    pending = harness.document(secret, VersionId=token, VersionStage="AWSPENDING")
    auth = json.loads(pending["dockerconfigjson"])["auths"][HOST]["auth"]
    assert harness.stub.state.requests == [(HOST, "/v2/team/app/manifests/1.0", auth)]
    assert harness.snapshot(secret).current_version_id != token


@pytest.mark.parametrize("step", ["createSecret", "setSecret", "testSecret", "finishSecret"])
def test_a_version_that_is_not_staged_for_rotation_is_refused(
    harness: Harness, service: RotationService, secret: str, step: str
) -> None:
    with pytest.raises(RotationStateError, match="no stage for rotation"):
        harness.invoke(service.event(secret, "5b0b6bd4-1b0e-4f5e-9a43-2d0c4f2a8e11", step))


def test_a_version_without_awspending_is_refused(
    harness: Harness, service: RotationService, secret: str
) -> None:
    previous = harness.snapshot(secret).current_version_id
    service.run(secret, service.start(secret), harness.invoke)  # previous is now AWSPREVIOUS
    with pytest.raises(RotationStateError, match="not labelled AWSPENDING"):
        harness.invoke(service.event(secret, str(previous), "createSecret"))


def test_test_secret_before_create_secret_is_refused(
    harness: Harness, service: RotationService, secret: str
) -> None:
    with pytest.raises(RotationStateError, match="createSecret did not complete"):
        service.run(secret, service.start(secret), harness.invoke, steps=("testSecret",))


def test_rotation_must_be_enabled(harness: Harness, service: RotationService) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    with pytest.raises(RotationStateError, match="does not have rotation enabled"):
        service.run(arn, service.start(arn), harness.invoke)


def test_the_function_rotates_only_its_own_secret(
    harness: Harness, service: RotationService, secret: str
) -> None:
    other = harness.create_secret(name="another-secret", value=SEED_DOCUMENT)
    service.enable(other)
    before = harness.snapshot(other)
    with pytest.raises(RotationStateError, match="configured for"):
        service.run(other, service.start(other), harness.invoke, steps=("createSecret",))
    assert harness.snapshot(other).current_version_id == before.current_version_id


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ({"Step": "createSecret", "SecretId": "s"}, "lacks ClientRequestToken"),
        ({"Step": "rotate", "SecretId": "s", "ClientRequestToken": "t"}, "unknown rotation step"),
        ([], "unsupported event"),
    ],
)
def test_malformed_rotation_events(
    harness: Harness, secret: str, event: object, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        harness.invoke(event)


def test_a_stale_pending_is_reported_with_the_repair_command(
    harness: Harness, service: RotationService, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    stale = service.start(secret)
    service.run(secret, stale, harness.invoke, steps=("createSecret",))  # then abandoned
    with pytest.raises(PreviousRotationIncomplete):
        service.start(secret)  # what AWS does to every later rotation

    # A retry of another token (e.g. a rotation started before the stale one) sees it.
    harness.secrets().put_secret_value(
        SecretId=secret,
        ClientRequestToken="0d8e7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b",
        SecretString=json.dumps(SEED_DOCUMENT),
        VersionStages=["AWSPENDING", "AWSCURRENT"],
    )
    service.run(
        secret, "0d8e7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b", harness.invoke, steps=("setSecret",)
    )

    [warning] = [r for r in caplog.records if getattr(r, "event", None) == "stale_pending"]
    assert warning.levelno == logging.WARNING
    assert stale in warning.stale_version_ids  # type: ignore[attr-defined]
    assert warning.fix == f"python -m ecr_token_rotator repair --secret-id {secret}"  # type: ignore[attr-defined]


def test_a_failed_step_logs_how_to_unblock_rotation(
    harness: Harness, service: RotationService, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RotationStateError):
        service.run(secret, service.start(secret), harness.invoke, steps=("testSecret",))
    [failed] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert failed.fix_if_rotation_stays_stuck.endswith(f"repair --secret-id {secret}")  # type: ignore[attr-defined]


class TestRepair:
    def abandoned_rotation(self, harness: Harness, service: RotationService, secret: str) -> str:
        token = service.start(secret)
        service.run(secret, token, harness.invoke, steps=("createSecret",))
        service.age_version(secret, token, int(ROTATION_IN_PROGRESS_WINDOW.total_seconds()) + 60)
        return token

    def test_removes_only_the_stale_awspending(
        self, harness: Harness, service: RotationService, secret: str
    ) -> None:
        before = harness.snapshot(secret)
        stale = self.abandoned_rotation(harness, service, secret)

        result = repair_pending(secret, REGION)

        assert result == {
            "secret_id": secret,
            "stale_pending_version_ids": [stale],
            "removed": True,
        }
        after = harness.snapshot(secret)
        assert after.current_version_id == before.current_version_id
        assert after.current_value == before.current_value
        assert after.version_stages.get(stale, []) == []
        service.run(secret, service.start(secret), harness.invoke)  # rotations work again
        assert harness.document(secret)["password"] == harness.issued.passwords[-1]

    def test_dry_run_changes_nothing(
        self, harness: Harness, service: RotationService, secret: str
    ) -> None:
        stale = self.abandoned_rotation(harness, service, secret)
        before = harness.snapshot(secret)
        result = repair_pending(secret, REGION, dry_run=True)
        assert result["stale_pending_version_ids"] == [stale]
        assert result["removed"] is False
        assert harness.snapshot(secret) == before

    def test_a_young_awspending_is_left_alone_unless_forced(
        self, harness: Harness, service: RotationService, secret: str
    ) -> None:
        token = service.start(secret)
        service.run(secret, token, harness.invoke, steps=("createSecret",))
        before = harness.snapshot(secret)

        with pytest.raises(RotationStateError, match="may still be running"):
            repair_pending(secret, REGION)
        assert harness.snapshot(secret) == before

        assert repair_pending(secret, REGION, force=True)["stale_pending_version_ids"] == [token]
        assert "AWSPENDING" not in harness.snapshot(secret).version_stages.get(token, [])

    def test_awspending_on_the_current_version_is_a_finished_rotation(
        self, harness: Harness, service: RotationService, secret: str
    ) -> None:
        token = service.start(secret)
        service.run(secret, token, harness.invoke)
        before = harness.snapshot(secret)
        assert repair_pending(secret, REGION)["stale_pending_version_ids"] == []
        assert harness.snapshot(secret) == before

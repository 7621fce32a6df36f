"""Native rotation: the four steps, their idempotency, the staging checks, and `repair`."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from moto.secretsmanager.models import secretsmanager_backends

from ecr_token_rotator import secret_store
from ecr_token_rotator.deadline import Deadline
from ecr_token_rotator.errors import ConfigError, ProbeError, RotationStateError, SecretError
from ecr_token_rotator.repair import ROTATION_IN_PROGRESS_WINDOW, repair_pending
from ecr_token_rotator.rotation import lifetime_needed, rotation_horizon
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import HOST, SEED_DOCUMENT
from tests.support.faults import fail_calls
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
    # AWSPENDING on no version: a later write that moves AWSCURRENT cannot leave it stale.
    assert after.version_stages[token] == ["AWSCURRENT"]
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
    # The steps that read AWSCURRENT report what it holds; the one that published, a success.
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m.get("RefreshSuccess") for m in metrics] == [None, 1]  # createSecret, finishSecret
    assert metrics[0]["TokenSecondsToExpiry"] == 0  # the seed holds no usable credential
    assert 11 * 3600 < metrics[1]["TokenSecondsToExpiry"] <= 12 * 3600


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
    # The first finishSecret moved AWSCURRENT, then the invocation died.
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
    after = harness.snapshot(secret)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )
    assert after.version_stages[token] == ["AWSCURRENT"]  # the step ends as it would have
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
    with pytest.raises(RotationStateError, match="has no staging label"):
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

        result = repair_pending(secret, REGION, Deadline.within(60))

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
        result = repair_pending(secret, REGION, Deadline.within(60), dry_run=True)
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
            repair_pending(secret, REGION, Deadline.within(60))
        assert harness.snapshot(secret) == before

        assert repair_pending(secret, REGION, Deadline.within(60), force=True)[
            "stale_pending_version_ids"
        ] == [token]
        assert "AWSPENDING" not in harness.snapshot(secret).version_stages.get(token, [])

    def test_awspending_on_the_current_version_is_a_finished_rotation(
        self, harness: Harness, service: RotationService, secret: str
    ) -> None:
        token = service.start(secret)
        service.run(secret, token, harness.invoke)
        before = harness.snapshot(secret)
        assert (
            repair_pending(secret, REGION, Deadline.within(60))["stale_pending_version_ids"] == []
        )
        assert harness.snapshot(secret) == before


# ---- rotations that cannot get stuck ---------------------------------------------------------


def rewrite_pending(arn: str, token: str, **changes: str) -> None:
    """Change the stored value of a version in place, as time would (moto's backend)."""
    version = secretsmanager_backends[ACCOUNT_ID][REGION].secrets[arn].versions[token]
    document = json.loads(version["secret_string"])
    version["secret_string"] = json.dumps({**document, **changes})


def soon(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("step", ["createSecret", "testSecret", "finishSecret"])
def test_a_pending_version_that_can_no_longer_succeed_loses_awspending(
    harness: Harness,
    service: RotationService,
    secret: str,
    step: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Secrets Manager retries a failed step with the same token for hours; once the pending
    token has less than an hour left, no retry can pass testSecret. The step removes AWSPENDING
    and fails saying so: the next rotation starts clean instead of being refused."""
    before = harness.snapshot(secret)
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret",))
    rewrite_pending(secret, token, expires_at=soon(30))

    with pytest.raises(RotationStateError) as raised:
        service.run(secret, token, harness.invoke, steps=(step,))

    message = str(raised.value)
    assert "less than 1 hour from now: too soon to publish" in message
    assert "AWSPENDING was removed" in message
    after = harness.snapshot(secret)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )
    assert token not in after.version_stages  # no label left
    [abandoned] = [r for r in caplog.records if getattr(r, "event", None) == "pending_abandoned"]
    assert abandoned.version_id == token  # type: ignore[attr-defined]

    # Secrets Manager's retries with the same token fail cleanly and change nothing...
    for retried in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        with pytest.raises(RotationStateError, match="has no staging label"):
            service.run(secret, token, harness.invoke, steps=(retried,))
    assert harness.snapshot(secret) == after
    # ...and the next rotation is accepted and completes.
    fresh = service.start(secret)
    service.run(secret, fresh, harness.invoke)
    assert harness.snapshot(secret).current_version_id == fresh
    assert harness.document(secret)["password"] == harness.issued.passwords[-1]


def test_an_unusable_pending_value_is_abandoned(
    harness: Harness, service: RotationService, secret: str
) -> None:
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret",))
    rewrite_pending(secret, token, dockerconfigjson="{}")

    with pytest.raises(RotationStateError, match="malformed expires_at or dockerconfigjson"):
        service.run(secret, token, harness.invoke, steps=("testSecret",))

    assert token not in harness.snapshot(secret).version_stages
    service.run(secret, service.start(secret), harness.invoke)


def test_a_token_reused_for_another_value_is_refused_as_aws_does(
    harness: Harness, service: RotationService, secret: str
) -> None:
    """PutSecretValue never changes a version: the same ClientRequestToken with different data is
    refused (ResourceExistsException), also once the version has lost every label."""
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret",))
    harness.secrets().update_secret_version_stage(
        SecretId=secret, VersionStage="AWSPENDING", RemoveFromVersionId=token
    )
    with pytest.raises(ClientError, match="ResourceExistsException"):
        harness.secrets().put_secret_value(
            SecretId=secret,
            ClientRequestToken=token,
            SecretString="{}",
            VersionStages=["AWSPENDING"],
        )

    with pytest.raises(SecretError) as raised:
        secret_store.write_version(
            secret,
            REGION,
            "{}",
            Deadline.within(60),
            stages=("AWSPENDING",),
            client_request_token=token,
        )
    assert "already holds a different value" in str(raised.value)


def test_a_change_of_other_keys_after_create_secret_is_merged_not_reverted(
    harness: Harness, service: RotationService, secret: str
) -> None:
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret"))
    harness.secrets().put_secret_value(
        SecretId=secret, SecretString=json.dumps({**harness.document(secret), "team": "payments"})
    )

    [result] = service.run(secret, token, harness.invoke, steps=("finishSecret",))

    document = harness.document(secret)
    assert document["team"] == "payments"
    pending = harness.document(secret, VersionId=token)
    assert document["password"] == pending["password"]  # the rotation's credential
    assert result["published"] is True
    assert result["version_id"] == harness.snapshot(secret).current_version_id != token
    assert token not in harness.snapshot(secret).version_stages  # superseded, no label left
    service.start(secret)


def test_a_manual_refresh_during_a_rotation_reverts_nothing(
    harness: Harness, service: RotationService, secret: str
) -> None:
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret"))
    harness.secrets().put_secret_value(
        SecretId=secret, SecretString=json.dumps({**harness.document(secret), "team": "payments"})
    )
    harness.invoke({})  # a manual refresh: merges into the other tool's value
    assert harness.document(secret)["team"] == "payments"

    service.run(secret, token, harness.invoke, steps=("testSecret", "finishSecret"))

    assert harness.document(secret)["team"] == "payments"
    service.run(secret, service.start(secret), harness.invoke)  # nothing left stale


def test_the_first_value_is_probed_before_it_is_written(
    harness: Harness, service: RotationService
) -> None:
    """The first PutSecretValue of a secret attaches AWSCURRENT by itself: createSecret's pending
    version is current at once, testSecret never runs on it, so createSecret probes it."""
    arn = harness.create_secret()
    service.enable(arn)
    harness.configure(SECRET_ID=arn, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 403
    token = service.start(arn)

    with pytest.raises(ProbeError, match="HTTP 403"):
        service.run(arn, token, harness.invoke, steps=("createSecret",))
    assert harness.snapshot(arn).current_version_id is None  # nothing was written

    del harness.stub.state.statuses["team/app"]
    [created] = service.run(arn, token, harness.invoke, steps=("createSecret",))
    assert len(harness.stub.state.requests) == 2  # both createSecret attempts probed
    assert harness.snapshot(arn).version_stages[token] == ["AWSCURRENT", "AWSPENDING"]
    assert created["published"] is False
    results = service.run(
        arn, token, harness.invoke, steps=("setSecret", "testSecret", "finishSecret")
    )
    assert [r["published"] for r in results] == [False, False, True]
    service.start(arn)


def test_a_rotation_event_without_a_secret_id_names_the_configured_secret(
    harness: Harness, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ConfigError, match="lacks SecretId"):
        harness.invoke({"Step": "createSecret", "ClientRequestToken": "t"})
    [failed] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert failed.fix_if_rotation_stays_stuck == (  # type: ignore[attr-defined]
        f"python -m ecr_token_rotator repair --secret-id {secret}"
    )


# ---- publishing only moves forward ---------------------------------------------------------


def test_a_refresh_during_a_rotation_is_not_reverted_by_its_finish(
    harness: Harness, service: RotationService, secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """createSecret stores T1; a refresh then publishes a fresher T2; finishSecret must not move
    AWSCURRENT back to T1: it reports the rotation superseded and removes AWSPENDING."""
    service.enable(secret, schedule="rate(4 hours)")
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret"))
    harness.issue_tokens_at(hours=1)
    refreshed = harness.invoke({})  # T2: expires an hour after T1
    capsys.readouterr()

    [finished] = service.run(secret, token, harness.invoke, steps=("finishSecret",))

    after = harness.snapshot(secret)
    assert after.current_version_id == refreshed["version_id"]
    assert harness.document(secret)["password"] == harness.issued.passwords[-1]  # T2
    assert finished["published"] is False
    assert finished["version_id"] == refreshed["version_id"]
    assert finished["expires_at"] == harness.document(secret)["expires_at"]
    assert "AWSPENDING" not in after.version_stages.get(token, [])
    [metric] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "RefreshSuccess" not in metric  # nothing was published
    assert metric["TokenSecondsToExpiry"] > 12 * 3600  # what AWSCURRENT holds: T2
    service.start(secret)  # nothing left behind


def test_a_pending_credential_too_old_for_the_next_rotation_is_replaced_by_fresh_tokens(
    harness: Harness, service: RotationService, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    """testSecret failed once; Secrets Manager reattempts the rotation with the same token hours
    later. The pending token still passes testSecret (4 hours left), but would expire before the
    next rotation, 4 hours later within its 1-hour window, could replace it: finishSecret fetches,
    probes and publishes fresh tokens through the compare-and-swap instead."""
    service.enable(secret, schedule="rate(4 hours)")
    harness.configure(SECRET_ID=secret, PROBE_IMAGES=f"{HOST}/team/app:1.0")
    harness.issue_tokens_at(hours=-8)  # createSecret ran 8 hours ago: its token has 4 hours left
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret"))
    pending = harness.document(secret, VersionId=token)
    harness.issue_tokens_at(hours=0)

    results = service.run(
        secret, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret")
    )
    [finished] = service.run(secret, token, harness.invoke, steps=("finishSecret",))

    assert [r["published"] for r in results] == [False, False, False]
    document = harness.document(secret)
    assert document["password"] == harness.issued.passwords[-1] != pending["password"]
    assert finished["published"] is True
    assert finished["version_id"] == harness.snapshot(secret).current_version_id != token
    assert document["team"] == "platform"
    # The fresh credential was probed before it was published.
    fresh_auth = json.loads(document["dockerconfigjson"])["auths"][HOST]["auth"]
    assert harness.stub.state.requests[-1] == (HOST, "/v2/team/app/manifests/1.0", fresh_auth)
    assert token not in harness.snapshot(secret).version_stages  # AWSPENDING removed
    [too_old] = [r for r in caplog.records if getattr(r, "event", None) == "pending_too_old"]
    assert too_old.needed_hours == 5  # type: ignore[attr-defined]
    service.start(secret)


def test_a_retried_finish_after_fresh_tokens_were_published_writes_nothing_more(
    harness: Harness, service: RotationService, secret: str
) -> None:
    """The step that published fresh tokens failed removing AWSPENDING; Secrets Manager's retry
    finds a credential in AWSCURRENT that lasts and only ends the rotation."""
    service.enable(secret, schedule="rate(4 hours)")
    harness.issue_tokens_at(hours=-8)
    token = service.start(secret)
    service.run(secret, token, harness.invoke, steps=("createSecret", "setSecret", "testSecret"))
    harness.issue_tokens_at(hours=0)
    removals = fail_calls(
        "UpdateSecretVersionStage", 2
    )  # the move succeeds, removing AWSPENDING fails
    with pytest.raises(SecretError):
        service.run(secret, token, harness.invoke, steps=("finishSecret",))
    published = harness.snapshot(secret)
    assert "AWSPENDING" in published.version_stages[token]  # still blocking
    issued = len(harness.issued.passwords)

    [finished] = service.run(secret, token, harness.invoke, steps=("finishSecret",))

    assert removals.failed == [2]
    assert finished["published"] is False  # the earlier attempt published
    after = harness.snapshot(secret)
    assert (after.current_version_id, after.current_value) == (
        published.current_version_id,
        published.current_value,
    )
    assert token not in after.version_stages
    assert len(harness.issued.passwords) == issued  # no token fetched, no version written
    service.start(secret)


def test_a_refresh_removes_awspending_from_the_version_it_replaces(
    harness: Harness, service: RotationService, secret: str
) -> None:
    service.run(secret, service.start(secret), harness.invoke)
    rotated = harness.leave_pending_on_current(secret)

    result = harness.invoke({})

    after = harness.snapshot(secret)
    assert after.current_version_id == result["version_id"] != rotated
    assert after.version_stages[rotated] == ["AWSPREVIOUS"]  # AWSPENDING went with AWSCURRENT
    service.start(secret)  # Secrets Manager accepts the next rotation


def test_a_failed_removal_of_awspending_after_publishing_is_a_warning(
    harness: Harness,
    service: RotationService,
    secret: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """AWSCURRENT moved: the run is a success (a failure would be retried and write yet another
    version); the warning says how to remove the label that now blocks rotations."""
    service.run(secret, service.start(secret), harness.invoke)
    rotated = harness.leave_pending_on_current(secret)
    capsys.readouterr()
    failures = fail_calls("UpdateSecretVersionStage", 2)

    result = harness.invoke({})

    assert failures.failed == [2]
    assert result["published"] is True
    assert harness.snapshot(secret).current_version_id == result["version_id"]
    [warning] = [r for r in caplog.records if getattr(r, "event", None) == "pending_cleanup_failed"]
    assert warning.levelno == logging.WARNING
    assert warning.version_id == rotated  # type: ignore[attr-defined]
    assert warning.fix == f"python -m ecr_token_rotator repair --secret-id {secret}"  # type: ignore[attr-defined]
    assert json.loads(capsys.readouterr().out)["RefreshSuccess"] == 1


@pytest.mark.parametrize(
    ("rules", "needed"),
    [
        ({"ScheduleExpression": "rate(4 hours)"}, timedelta(hours=5)),
        ({"ScheduleExpression": "rate(8 hours)"}, timedelta(hours=9)),
        ({"ScheduleExpression": "rate(1 hour)"}, timedelta(hours=2)),
        ({"ScheduleExpression": "rate(6 hours)", "Duration": "3h"}, timedelta(hours=9)),
        ({"ScheduleExpression": "rate(1 day)"}, timedelta(hours=11)),
        ({"ScheduleExpression": "cron(0 4/6 * * ? *)"}, timedelta(hours=11)),
        ({"AutomaticallyAfterDays": 1}, timedelta(hours=11)),
        ({"AutomaticallyAfterDays": 0}, timedelta(hours=11)),
        ({}, timedelta(hours=11)),
    ],
)
def test_the_lifetime_a_published_rotation_needs(
    rules: dict[str, object], needed: timedelta
) -> None:
    """The schedule's interval plus its window (AWS: an hour for a rate in hours without a
    Duration), at most what fresh tokens less an hour give; unknown schedules ask for that."""
    assert lifetime_needed(rules) == needed


def test_rotation_horizons_as_aws_documents_them() -> None:
    assert rotation_horizon({"ScheduleExpression": "rate(2 days)"}) == timedelta(days=3)
    assert rotation_horizon({"ScheduleExpression": "rate(1 day)", "Duration": "4h"}) == timedelta(
        hours=28
    )
    assert rotation_horizon({"AutomaticallyAfterDays": 2, "Duration": "2h"}) == timedelta(hours=50)
    assert rotation_horizon({"ScheduleExpression": "cron(0 8 * * ? *)"}) is None

"""Scheduled/manual refresh against moto: what is written, what is kept, what is returned."""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from ecr_token_rotator import aws
from ecr_token_rotator.document import MAX_REGISTRY_HOSTS, MAX_SECRET_VALUE_BYTES
from ecr_token_rotator.errors import (
    ConfigError,
    PublishConflictError,
    SecretError,
    SecretTooLargeError,
)
from ecr_token_rotator.publish import MAX_PUBLISH_ATTEMPTS, WRITE_LABEL
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.fault.checks import version_ids
from tests.support.failures import SEED_DOCUMENT, SEED_MATERIAL
from tests.support.faults import Once, fail_calls, inject_error, on_function_calls, once
from tests.support.redaction import exception_texts, leaks, record_texts, reset_capture

HOST = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"


def test_first_run_writes_the_first_version_of_an_empty_secret(harness: Harness) -> None:
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)

    result = harness.invoke()

    document = harness.document(arn)
    password = harness.issued.passwords[-1]
    assert document["registry"] == HOST
    assert document["username"] == "AWS"
    assert document["password"] == password
    auths = json.loads(document["dockerconfigjson"])["auths"]
    assert auths == {HOST: {"auth": base64.b64encode(f"AWS:{password}".encode()).decode()}}
    expires_at = datetime.fromisoformat(document["expires_at"])
    assert timedelta(hours=11) < expires_at - datetime.now(UTC) <= timedelta(hours=12)
    assert result == {
        "mode": "schedule",
        "secret_arn": arn,
        "version_id": harness.snapshot(arn).current_version_id,
        "published": True,
        "expires_at": document["expires_at"],
        "registry_hosts": [HOST],
    }


def test_keys_other_tools_wrote_are_kept_exactly(harness: Harness) -> None:
    existing = {
        "registry": "old.example",
        "username": "AWS",
        "password": "stale",
        "team": "platform",
        "nested": {"a": [1, 2.5, None, True], "b": "ü"},
    }
    arn = harness.create_secret(value=existing)
    harness.configure(SECRET_ID="ecr-pull-credential")

    harness.invoke()

    document = harness.document(arn)
    assert document["team"] == "platform"
    assert document["nested"] == existing["nested"]
    assert document["password"] == harness.issued.passwords[-1]
    assert list(document)[:3] == ["registry", "username", "password"]


def test_every_region_and_registry_gets_a_host_regions_outer(harness: Harness) -> None:
    arn = harness.create_secret()
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="eu-central-1,us-east-1",
        ECR_REGISTRY_IDS="123456789012,210987654321",
    )

    result = harness.invoke()

    expected_hosts = [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        "210987654321.dkr.ecr.eu-central-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "210987654321.dkr.ecr.us-east-1.amazonaws.com",
    ]
    assert result["registry_hosts"] == expected_hosts
    document = harness.document(arn)
    auths = json.loads(document["dockerconfigjson"])["auths"]
    assert list(auths) == expected_hosts
    # One token per region: both registries of a region share it, the regions differ.
    assert auths[expected_hosts[0]]["auth"] == auths[expected_hosts[1]]["auth"]
    assert auths[expected_hosts[0]]["auth"] != auths[expected_hosts[2]]["auth"]
    assert document["registry"] == expected_hosts[0]
    login = f"{document['username']}:{document['password']}"
    assert auths[expected_hosts[0]]["auth"] == base64.b64encode(login.encode()).decode()
    assert len(harness.issued.passwords) == 2


def test_each_run_writes_one_new_current_version(harness: Harness) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)
    before = harness.snapshot(arn)

    first = harness.invoke()
    second = harness.invoke()

    after = harness.snapshot(arn)
    assert first["version_id"] != second["version_id"]
    assert after.current_version_id == second["version_id"]
    assert after.version_stages[first["version_id"]] == ["AWSPREVIOUS"]
    assert before.current_version_id not in (first["version_id"], second["version_id"])


def test_probe_images_are_pulled_with_the_new_credential(harness: Harness) -> None:
    arn = harness.create_secret()
    image = f"{HOST}/team/app:1.2.3"
    harness.configure(SECRET_ID=arn, PROBE_IMAGES=image)

    harness.invoke()

    password = harness.issued.passwords[-1]
    auth = base64.b64encode(f"AWS:{password}".encode()).decode()
    assert harness.stub.state.requests == [(HOST, "/v2/team/app/manifests/1.2.3", auth)]


@pytest.mark.parametrize("event", [{}, {"source": "aws.events", "detail-type": "Scheduled Event"}])
def test_schedule_and_manual_events_refresh(harness: Harness, event: dict[str, str]) -> None:
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)
    assert harness.invoke(event)["mode"] == "schedule"


def test_the_new_version_carries_the_functions_label_which_leaves_the_older_one(
    harness: Harness,
) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    seed = harness.snapshot(arn).current_version_id
    harness.configure(SECRET_ID=arn)

    first = harness.invoke()["version_id"]
    second = harness.invoke()["version_id"]

    stages = harness.snapshot(arn).version_stages
    assert stages[second] == sorted(["AWSCURRENT", WRITE_LABEL])
    assert stages[first] == ["AWSPREVIOUS"]
    assert seed not in stages  # no label left: deprecated, Secrets Manager deletes it


def test_another_tools_write_leaves_the_functions_label_where_it_was(harness: Harness) -> None:
    """AWS moves only AWSCURRENT and AWSPREVIOUS when another tool's PutSecretValue becomes
    current; the function's own label stays on the version it wrote (the model's fix of moto,
    which replaces every label of the demoted version with AWSPREVIOUS)."""
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)
    written = harness.invoke()["version_id"]

    other = harness.secrets().put_secret_value(SecretId=arn, SecretString='{"team": "other"}')

    stages = harness.snapshot(arn).version_stages
    assert stages[other["VersionId"]] == ["AWSCURRENT"]
    assert stages[written] == sorted(["AWSPREVIOUS", WRITE_LABEL])


def test_another_writers_version_landing_mid_run_is_not_reverted(harness: Harness) -> None:
    """The other writer's PutSecretValue lands after the function read the secret: the
    function's move of AWSCURRENT is refused, and it merges into the other writer's value."""
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)

    def other_writer(**_: object) -> None:
        document = harness.document(arn)
        harness.secrets().put_secret_value(
            SecretId=arn, SecretString=json.dumps({**document, "team": "payments"})
        )

    fired = once(other_writer)
    on_function_calls("after-call.secrets-manager.PutSecretValue", fired)

    result = harness.invoke()

    assert fired.calls == 2  # a second PutSecretValue: the merge into the other writer's value
    document = harness.document(arn)
    assert document["team"] == "payments"
    assert document["password"] == harness.issued.passwords[-1]
    assert harness.snapshot(arn).current_version_id == result["version_id"]


def test_a_secret_without_a_value_is_told_apart_by_what_aws_does_not_its_wording(
    harness: Harness,
) -> None:
    """AWS answers ResourceNotFoundException for a secret without a value; its message is not an
    interface. The run writes the first version whatever the message says."""
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)
    inject_error(
        "secretsmanager",
        REGION,
        "GetSecretValue",
        "ResourceNotFoundException",
        message="Something else entirely",
    )

    result = harness.invoke()

    assert harness.snapshot(arn).current_version_id == result["version_id"]
    assert harness.document(arn)["password"] == harness.issued.passwords[-1]


@pytest.mark.parametrize(
    ("regions", "accounts"),
    [("eu-central-1,us-east-1", 5), ("eu-central-1,us-east-1,ap-southeast-2", 4)],
    ids=["10 hosts", "12 hosts (the documented bound)"],
)
def test_hosts_with_real_sized_passwords_are_written(
    harness: Harness, regions: str, accounts: int
) -> None:
    harness.issued.password_length = 3_200
    arn = harness.create_secret(value={"team": "platform"})
    ids = ",".join(f"{100000000000 + n}" for n in range(accounts))
    harness.configure(SECRET_ID=arn, ECR_REGIONS=regions, ECR_REGISTRY_IDS=ids)

    result = harness.invoke()

    hosts = len(regions.split(",")) * accounts
    assert len(result["registry_hosts"]) == hosts <= MAX_REGISTRY_HOSTS
    value = harness.secrets().get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) <= MAX_SECRET_VALUE_BYTES
    assert len(json.loads(json.loads(value)["dockerconfigjson"])["auths"]) == hosts


def test_too_many_hosts_fail_before_anything_is_fetched(harness: Harness) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    ids = ",".join(f"{100000000000 + n}" for n in range(5))
    harness.configure(
        SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2", ECR_REGISTRY_IDS=ids
    )
    before = harness.snapshot(arn)

    with pytest.raises(ConfigError) as raised:
        harness.invoke()

    message = str(raised.value)
    assert "15 registry hosts" in message
    assert f"more than the {MAX_REGISTRY_HOSTS} one secret value holds" in message
    assert harness.issued.passwords == []  # no token was even requested
    assert harness.snapshot(arn) == before


def test_other_keys_that_leave_no_room_fail_the_size_check_and_write_nothing(
    harness: Harness,
) -> None:
    """Within the host bound, the size is still measured before the write."""
    harness.issued.password_length = 3_200
    arn = harness.create_secret(value={"team": "platform", "notes": "n" * 20_000})
    ids = ",".join(f"{100000000000 + n}" for n in range(4))
    harness.configure(
        SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2", ECR_REGISTRY_IDS=ids
    )
    before = harness.snapshot(arn)

    with pytest.raises(SecretTooLargeError) as raised:
        harness.invoke()

    message = str(raised.value)
    assert f"limit of {MAX_SECRET_VALUE_BYTES:,} bytes" in message
    assert "12 registry host(s)" in message
    assert re.search(r"would be \d{2},\d{3} bytes", message)
    assert '"notes" (20,011 bytes)' in message  # the key that takes the room, named
    assert harness.snapshot(arn) == before
    listing = harness.secrets().list_secret_version_ids(SecretId=arn, IncludeDeprecated=True)
    assert [v["VersionId"] for v in listing["Versions"]] == [before.current_version_id]


def test_a_secret_that_keeps_changing_ends_the_run_cleanly_and_reverts_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another writer lands a version after every one of the function's writes: each move of
    AWSCURRENT is refused, the run gives up after MAX_PUBLISH_ATTEMPTS and says so; the next
    run publishes into the other writer's last value."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, LOG_LEVEL="DEBUG")
    writes: list[str] = []

    def other_writer(**_: object) -> None:
        writes.append(f"write {len(writes) + 1}")
        harness.secrets().put_secret_value(
            SecretId=arn, SecretString=json.dumps({**SEED_DOCUMENT, "team": writes[-1]})
        )

    on_function_calls("after-call.secrets-manager.PutSecretValue", other_writer)
    reset_capture(caplog)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(PublishConflictError) as raised:
        harness.invoke()

    assert len(writes) == MAX_PUBLISH_ATTEMPTS
    assert f"changed {MAX_PUBLISH_ATTEMPTS} times" in str(raised.value)
    assert harness.document(arn) == {**SEED_DOCUMENT, "team": writes[-1]}
    conflicts = [r for r in caplog.records if getattr(r, "event", None) == "publish_conflict"]
    assert len(conflicts) == MAX_PUBLISH_ATTEMPTS
    texts = [*record_texts(caplog.records), *exception_texts(raised.value)]
    texts.append(capsys.readouterr().out)
    assert leaks(texts, [*harness.issued.secret_material(), *SEED_MATERIAL]) == []

    aws.reset_clients()  # the other writer stops
    result = harness.invoke()
    assert harness.snapshot(arn).current_version_id == result["version_id"]
    assert harness.document(arn)["team"] == writes[-1]


# ---- publishing only moves forward ---------------------------------------------------------


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.event  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name.startswith("ecr_token_rotator") and hasattr(r, "event")
    ]


def test_a_credential_older_than_awscurrents_is_not_published(
    harness: Harness, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWSCURRENT holds a credential for the same hosts that expires later (a run whose tokens
    were fetched later published it first): the run writes nothing, moves nothing, and ends
    superseded, which is not a failure."""
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)
    harness.issue_tokens_at(hours=1)
    newer = harness.invoke()
    before, versions_before = harness.snapshot(arn), version_ids(harness, arn)
    harness.issue_tokens_at(hours=0)
    reset_capture(caplog)
    capsys.readouterr()

    result = harness.invoke()

    assert result["published"] is False
    assert result["version_id"] == newer["version_id"]
    assert result["expires_at"] == newer["expires_at"]  # what AWSCURRENT holds
    assert harness.snapshot(arn) == before
    assert version_ids(harness, arn) == versions_before  # nothing written
    assert "publish_superseded" in events(caplog)
    assert "secret_published" not in events(caplog)
    [metric] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "RefreshSuccess" not in metric
    assert metric["TokenSecondsToExpiry"] > 12 * 3600


def test_other_registry_hosts_are_a_configuration_change_and_are_published(
    harness: Harness,
) -> None:
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(SECRET_ID=arn)
    harness.issue_tokens_at(hours=1)
    harness.invoke()
    harness.issue_tokens_at(hours=0)
    harness.configure(SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1")

    result = harness.invoke()

    assert result["published"] is True
    assert len(json.loads(harness.document(arn)["dockerconfigjson"])["auths"]) == 2


# ---- a version written once, published once ------------------------------------------------


def fail_the_move_once(harness: Harness, arn: str, *, retried_after: int = 60) -> str:
    """A run that writes its version and fails moving AWSCURRENT (an error botocore does not
    retry), and the `retried_after` seconds until Lambda's retry; returns the version it left
    under the function's label."""
    failures = fail_calls("UpdateSecretVersionStage", 1)
    with pytest.raises(SecretError, match="InternalServiceError"):
        harness.invoke()
    assert failures.failed == [1]
    aws.reset_clients()
    written = harness.secrets().get_secret_value(SecretId=arn, VersionStage=WRITE_LABEL)
    assert "AWSCURRENT" not in written["VersionStages"]
    return harness.age_unpublished_version(arn, retried_after)


def test_a_retry_publishes_the_version_the_failed_run_wrote(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Lambda retries a failed event: the retry moves AWSCURRENT to the version the failed run
    wrote, instead of writing another (versions pile up for 24 hours at least)."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    versions_before = version_ids(harness, arn)
    written = fail_the_move_once(harness, arn)
    failed_run_password = harness.issued.passwords[-1]

    result = harness.invoke()

    assert result["published"] is True
    assert result["version_id"] == written
    assert harness.snapshot(arn).current_version_id == written
    assert version_ids(harness, arn) - versions_before == {written}
    assert harness.document(arn)["password"] == failed_run_password
    assert len(harness.issued.passwords) == 2  # the retry fetched (and probed) fresh tokens...
    assert "version_reused" in events(caplog)  # ...and published the earlier version


def test_a_retry_writes_anew_when_another_tool_changed_the_secret_meanwhile(
    harness: Harness,
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    written = fail_the_move_once(harness, arn)
    harness.secrets().put_secret_value(
        SecretId=arn, SecretString=json.dumps({**SEED_DOCUMENT, "team": "payments"})
    )

    result = harness.invoke()

    assert result["published"] is True
    assert result["version_id"] != written  # the earlier version would revert "team"
    assert harness.document(arn)["team"] == "payments"
    assert harness.document(arn)["password"] == harness.issued.passwords[-1]


def test_a_retry_writes_anew_when_the_unpublished_version_is_over_an_hour_older(
    harness: Harness,
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    harness.issue_tokens_at(hours=-2)
    written = fail_the_move_once(harness, arn)
    harness.issue_tokens_at(hours=0)

    result = harness.invoke()

    assert result["version_id"] != written
    assert harness.document(arn)["password"] == harness.issued.passwords[-1]


def test_a_version_another_run_may_still_be_publishing_is_not_taken_over(
    harness: Harness,
) -> None:
    """A version written seconds ago and not yet AWSCURRENT may be a concurrent run's, between
    its write and its move: another run does not publish it (both would report it published)."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    written = fail_the_move_once(harness, arn, retried_after=5)

    result = harness.invoke()  # another invocation: it did not write that version itself

    assert result["published"] is True
    assert result["version_id"] != written
    assert harness.document(arn)["password"] == harness.issued.passwords[-1]


# ---- a missing secret is reported first ----------------------------------------------------


def test_a_missing_secret_is_reported_first_as_missing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """GetSecretValue answers ResourceNotFoundException for a missing secret and for a secret
    without a value alike: DescribeSecret tells them apart before anything is logged as read."""
    harness.configure(SECRET_ID="does-not-exist")
    reset_capture(caplog)

    with pytest.raises(SecretError) as raised:
        harness.invoke()

    assert "secret does-not-exist does not exist in eu-central-1" in str(raised.value)
    assert events(caplog) == ["run_failed"]
    [failed] = [r for r in caplog.records if getattr(r, "event", None) == "run_failed"]
    assert failed.waiting_for == "secretsmanager:DescribeSecret"  # type: ignore[attr-defined]


def test_a_secret_without_a_value_gets_its_first_one_after_describing_it(
    harness: Harness,
) -> None:
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)
    described = inject_nothing_but_count("DescribeSecret")

    result = harness.invoke()

    assert described.calls == 1
    assert result["published"] is True
    assert harness.snapshot(arn).current_version_id == result["version_id"]


def inject_nothing_but_count(operation: str) -> Once:
    counter = once(lambda **_: None)
    on_function_calls(f"before-call.secrets-manager.{operation}", counter)
    return counter


# ---- other writers' members, byte for byte -------------------------------------------------


def test_another_tools_non_ascii_value_is_kept_byte_for_byte_and_fits(harness: Harness) -> None:
    """12,000 non-ASCII characters another tool stored as such: re-escaped as \\uXXXX they would
    not fit in a secret value any more, and every refresh would fail the size check."""
    notes = "äöü検証済みα" * 1_500  # 12,000 characters, 30,000 bytes of UTF-8
    assert len(notes) == 12_000
    assert len(json.dumps({"notes": notes}).encode()) > MAX_SECRET_VALUE_BYTES
    stored = '{"team": "platform", "notes": "' + notes + '", "limits": [1.50, 2e3]}'
    arn = harness.create_secret(value=stored)
    harness.configure(SECRET_ID=arn)

    harness.invoke()

    value = harness.secrets().get_secret_value(SecretId=arn)["SecretString"]
    assert value.startswith(stored[:-1] + ", ")  # every member of the other tool, as written
    assert len(value.encode()) < MAX_SECRET_VALUE_BYTES
    assert json.loads(value)["password"] == harness.issued.passwords[-1]

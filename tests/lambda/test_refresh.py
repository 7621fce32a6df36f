"""Scheduled/manual refresh against moto: what is written, what is kept, what is returned."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ACCOUNT_ID, REGION, Harness

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
    assert auths == {
        HOST: {
            "username": "AWS",
            "password": password,
            "auth": base64.b64encode(f"AWS:{password}".encode()).decode(),
        }
    }
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
    assert auths[expected_hosts[0]]["password"] == auths[expected_hosts[1]]["password"]
    assert auths[expected_hosts[0]]["password"] != auths[expected_hosts[2]]["password"]
    assert document["registry"] == expected_hosts[0]
    assert document["password"] == auths[expected_hosts[0]]["password"]
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

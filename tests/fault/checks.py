"""Assertions shared by the fault tests: what a complete secret document is, and the "unchanged
or fully updated, never partial" invariant."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ecr_token_rotator import aws
from ecr_token_rotator.credentials import MINIMUM_TOKEN_LIFETIME
from ecr_token_rotator.document import read_published_credential
from tests.conftest import Harness, SecretSnapshot
from tests.support.failures import SEED_DOCUMENT

# botocore's event names use the service id, not the client name.
EVENT_SERVICE = {"ecr": "ecr", "secretsmanager": "secrets-manager"}
OTHER_TOOLS_KEYS = {key: SEED_DOCUMENT[key] for key in ("team",)}


def assert_complete(document: dict[str, Any], issued: list[str]) -> None:
    """A document kubelet can use: every owned field, consistent, fresh, from an issued token."""
    published = read_published_credential(document, "the secret's AWSCURRENT value")
    auths = json.loads(document["dockerconfigjson"])["auths"]
    login = auths[document["registry"]]
    assert (document["username"], document["password"]) == (login["username"], login["password"])
    assert all(entry["password"] in issued for entry in auths.values())
    assert published.expires_at - datetime.now(UTC) > MINIMUM_TOKEN_LIFETIME


def version_ids(harness: Harness, secret_id: str) -> set[str]:
    """Every version of the secret, labelled or not."""
    listing = harness.secrets().list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)
    return {version["VersionId"] for version in listing["Versions"]}


def unchanged_or_fully_updated(
    harness: Harness, secret_id: str, before: SecretSnapshot, versions_before: set[str]
) -> str:
    """'unchanged', or 'updated' when exactly one new complete version became AWSCURRENT."""
    after = harness.snapshot(secret_id)
    added = version_ids(harness, secret_id) - versions_before
    if after == before:
        assert added == set()
        return "unchanged"
    assert len(added) == 1, f"more than one new version: {added}"
    assert after.current_version_id in added
    assert before.current_version_id is not None
    assert after.version_stages[before.current_version_id] == ["AWSPREVIOUS"]
    assert after.current_value is not None
    document = json.loads(after.current_value)
    assert_complete(document, harness.issued.passwords)
    assert {key: document[key] for key in OTHER_TOOLS_KEYS} == OTHER_TOOLS_KEYS
    return "updated"


def after_call(service: str, region: str, operation: str, action: Callable[[], None]) -> None:
    """Run `action` once, right after the function's `operation` call got its answer."""
    fired: list[bool] = []

    def hook(**_: Any) -> None:
        if not fired:
            fired.append(True)
            action()

    events = aws.client(service, region).meta.events  # type: ignore[call-overload]
    events.register(f"after-call.{EVENT_SERVICE[service]}.{operation}", hook)

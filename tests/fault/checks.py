"""Assertions shared by the fault tests: what a complete secret document is, and the "unchanged
or fully updated, never partial" invariant."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ecr_token_rotator.credentials import MINIMUM_TOKEN_LIFETIME
from ecr_token_rotator.document import read_credential
from ecr_token_rotator.publish import WRITE_LABEL
from tests.conftest import Harness, SecretSnapshot
from tests.support.failures import SEED_DOCUMENT
from tests.support.faults import EVENT_SERVICE, on_function_calls

OTHER_TOOLS_KEYS = {key: SEED_DOCUMENT[key] for key in ("team",)}


def logins(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Host -> (username, password), as kubelet decodes each entry's `auth`."""
    auths = json.loads(document["dockerconfigjson"])["auths"]
    decoded = {host: base64.b64decode(entry["auth"]).decode() for host, entry in auths.items()}
    return {host: tuple(login.split(":", 1)) for host, login in decoded.items()}  # type: ignore[misc]


def assert_complete(document: dict[str, Any], issued: list[str]) -> None:
    """A document kubelet can use: every owned field, consistent, fresh, from an issued token."""
    credential = read_credential(document, "the secret's AWSCURRENT value")
    hosts = logins(document)
    assert (document["username"], document["password"]) == hosts[document["registry"]]
    assert all(password in issued for _, password in hosts.values())
    assert credential.expires_at - datetime.now(UTC) > MINIMUM_TOKEN_LIFETIME


def version_ids(harness: Harness, secret_id: str) -> set[str]:
    """Every version of the secret, labelled or not."""
    listing = harness.secrets().list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)
    return {version["VersionId"] for version in listing["Versions"]}


def unchanged_or_fully_updated(
    harness: Harness, secret_id: str, before: SecretSnapshot, versions_before: set[str]
) -> str:
    """'unchanged' when AWSCURRENT is the same version with the same value (a version the run
    wrote but did not publish may exist, under the function's own label only), or 'updated'
    when exactly one new complete version became AWSCURRENT."""
    after = harness.snapshot(secret_id)
    added = version_ids(harness, secret_id) - versions_before
    assert len(added) <= 1, f"more than one new version: {added}"
    if (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    ):
        for version in added:
            assert after.version_stages.get(version, []) in ([], [WRITE_LABEL])
        return "unchanged"
    assert after.current_version_id in added
    assert before.current_version_id is not None
    assert after.version_stages[before.current_version_id] == ["AWSPREVIOUS"]
    assert after.current_value is not None
    document = json.loads(after.current_value)
    assert_complete(document, harness.issued.passwords)
    assert {key: document[key] for key in OTHER_TOOLS_KEYS} == OTHER_TOOLS_KEYS
    return "updated"


def _once(action: Callable[[], None]) -> Callable[..., None]:
    fired: list[bool] = []

    def hook(**_: Any) -> None:
        if not fired:
            fired.append(True)
            action()

    return hook


def after_call(service: str, region: str, operation: str, action: Callable[[], None]) -> None:
    """Run `action` once, right after the function's `operation` call got its answer."""
    event = f"after-call.{EVENT_SERVICE[service]}.{operation}"
    on_function_calls(event, _once(action), region=region)


def before_call(service: str, region: str, operation: str, action: Callable[[], None]) -> None:
    """Run `action` once, right before the function's `operation` call is sent."""
    event = f"before-call.{EVENT_SERVICE[service]}.{operation}"
    on_function_calls(event, _once(action), region=region)

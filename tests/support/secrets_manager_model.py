"""Secrets Manager's versions and native rotation, as AWS documents them, on top of moto.

Moto's RotateSecret runs no rotation function without Docker, and moto differs from AWS's API
reference in ways that matter here; the tests model AWS:

- When RotateSecret starts a rotation, AWS creates the new version id (the `ClientRequestToken`)
  labelled AWSPENDING, without a value, then calls the function's four steps with it. If
  AWSPENDING is still on a version that is not AWSCURRENT, AWS refuses the new rotation
  ("a previous rotation isn't complete") and never calls the function; moto does not refuse.
  (`RotationService` does this.)

`faithful_versions` fixes the rest:

- UpdateSecretVersionStage: moving AWSCURRENT changes what GetSecretValue returns by default on
  AWS; moto keeps returning the old version, and fails when no version had AWSCURRENT yet (AWS
  attaches the label). AWS refuses a move whose RemoveFromVersionId does not hold the label, or
  that omits it while another version holds the label (InvalidParameterException); moto does too.
- PutSecretValue: "if this operation creates the first version for the secret, then Secrets
  Manager automatically attaches the staging label AWSCURRENT to it", whatever VersionStages
  says. Moto does so only while the secret has no version at all, not when the only version is
  RotateSecret's AWSPENDING placeholder without a value. And "if a version with this value
  [ClientRequestToken] already exists and that version's SecretString and SecretBinary values
  are different from those in the request, then the request fails because you can't modify a
  secret version" (ResourceExistsException); moto lets any version labelled AWSPENDING be
  overwritten.
- PutSecretValue with AWSCURRENT among its stages (another tool's write): AWS moves AWSCURRENT
  to the new version and AWSPREVIOUS to the version it came from; every other label of that
  version stays where it is. Moto replaces all of that version's labels with AWSPREVIOUS, which
  would drop the function's own label (publish.WRITE_LABEL) from under a running publish.
- PutSecretValue: a secret value holds at most 65,536 bytes ("Length of a secret: 65,536 bytes",
  Secrets Manager's quotas; the API reference's SecretString "Maximum length of 65536"): AWS
  refuses a longer one (ValidationException, as for every constraint of the API reference); moto
  stores it. The model counts the UTF-8 bytes, the stricter reading.
- DescribeSecret reports the rotation schedule (RotationRules: ScheduleExpression, Duration) set
  with RotateSecret; moto reports AutomaticallyAfterDays only (`RotationService.enable` sets it).
- DescribeSecret's VersionIdsToStages lists "the versions of the secret that have staging labels
  attached" (versions without labels are deprecated); moto lists every version.
- ListSecretVersionIds reports each version's creation time on AWS; moto reports "now", and
  fails with HTTP 500 on a missing secret.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.secretsmanager.exceptions import (
    ResourceExistsException,
    SecretNotFoundException,
    ValidationException,
)
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
MAX_SECRET_VALUE_BYTES = 65_536  # Secrets Manager's quota: "Length of a secret: 65,536 bytes"


# Where the model keeps a secret's rotation schedule (moto has no field for it).
SCHEDULE_ATTRIBUTE = "_model_rotation_schedule"


class PreviousRotationIncomplete(Exception):
    """What AWS answers RotateSecret while a stale AWSPENDING exists."""


def _has_value(version: dict[str, Any]) -> bool:
    return "secret_string" in version or "secret_binary" in version


@contextmanager
def faithful_versions() -> Iterator[None]:
    original = SecretsManagerBackend.update_secret_version_stage
    original_list = SecretsManagerBackend.list_secret_version_ids
    original_put = SecretsManagerBackend.put_secret_value
    original_stages = FakeSecret._form_version_ids_to_stages
    original_reset = FakeSecret.reset_default_version
    original_to_dict = FakeSecret.to_dict

    def to_dict(self: FakeSecret) -> dict[str, Any]:
        described = original_to_dict(self)
        schedule = getattr(self, SCHEDULE_ATTRIBUTE, None)
        if schedule and "RotationRules" in described:
            described["RotationRules"] = {**described["RotationRules"], **schedule}
        return described

    def reset_default_version(
        self: FakeSecret, secret_version: dict[str, Any], version_id: str
    ) -> None:
        previous = self.versions.get(self.default_version_id) if self.default_version_id else None
        kept = [s for s in previous["version_stages"] if s != "AWSCURRENT"] if previous else []
        original_reset(self, secret_version, version_id)
        if previous is not None:
            previous["version_stages"] = ["AWSPREVIOUS", *(s for s in kept if s != "AWSPREVIOUS")]

    def put_secret_value(  # noqa: PLR0917 - moto's signature
        self: SecretsManagerBackend,
        secret_id: str,
        secret_string: str,
        secret_binary: str,
        client_request_token: str,
        version_stages: list[str],
    ) -> str:
        if secret_string is not None and len(secret_string.encode()) > MAX_SECRET_VALUE_BYTES:
            raise ValidationException(
                "1 validation error detected: Value at 'secretString' failed to satisfy "
                "constraint: Member must have length less than or equal to "
                f"{MAX_SECRET_VALUE_BYTES}"
            )
        if self._is_valid_identifier(secret_id):
            secret = self.secrets[secret_id]
            existing = secret.versions.get(client_request_token)
            if existing is not None and _has_value(existing):
                if (existing.get("secret_string"), existing.get("secret_binary")) != (
                    secret_string,
                    secret_binary,
                ):
                    raise ResourceExistsException(
                        f"You can't use ClientRequestToken {client_request_token} because that "
                        f"value is already in use for a version of secret {secret.arn}."
                    )
            elif not any(_has_value(v) for v in secret.versions.values()):
                version_stages = [*version_stages, "AWSCURRENT"]  # the first version
        return original_put(
            self, secret_id, secret_string, secret_binary, client_request_token, version_stages
        )

    def labelled_versions_only(self: FakeSecret) -> dict[str, Any]:
        return {key: stages for key, stages in original_stages(self).items() if stages}

    def list_secret_version_ids(self: SecretsManagerBackend, secret_id: str) -> str:
        if not self._is_valid_identifier(secret_id):  # moto fails with a KeyError (HTTP 500)
            raise SecretNotFoundException
        listing = json.loads(original_list(self, secret_id))
        versions = self.secrets[secret_id].versions
        for version in listing["Versions"]:
            version["CreatedDate"] = versions[version["VersionId"]]["createdate"]
        return json.dumps(listing)

    def update_secret_version_stage(
        self: SecretsManagerBackend,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str,
        move_to_version_id: str,
    ) -> tuple[str, str]:
        secret = self.secrets[secret_id]
        moving_current = version_stage == "AWSCURRENT" and move_to_version_id
        if moving_current and not any(
            "AWSCURRENT" in v["version_stages"] for v in secret.versions.values()
        ):
            # First rotation of a secret without a value: nothing to remove AWSCURRENT from
            # (moto fails here; AWS attaches the label).
            secret.versions[move_to_version_id]["version_stages"].append("AWSCURRENT")
            result: tuple[str, str] = (secret.arn, secret.name)
        else:
            result = original(
                self, secret_id, version_stage, remove_from_version_id, move_to_version_id
            )
        if moving_current:
            secret.default_version_id = move_to_version_id
        return result

    with ExitStack() as patches:
        for owner, name, replacement in (
            (SecretsManagerBackend, "update_secret_version_stage", update_secret_version_stage),
            (SecretsManagerBackend, "list_secret_version_ids", list_secret_version_ids),
            (SecretsManagerBackend, "put_secret_value", put_secret_value),
            (FakeSecret, "_form_version_ids_to_stages", labelled_versions_only),
            (FakeSecret, "reset_default_version", reset_default_version),
            (FakeSecret, "to_dict", to_dict),
        ):
            patches.enter_context(mock.patch.object(owner, name, replacement))
        yield


class RotationService:
    """Starts rotations and calls the function's steps the way Secrets Manager does."""

    def __init__(self, account_id: str, region: str) -> None:
        self._backend = secretsmanager_backends[account_id][region]

    def _secret(self, secret_id: str) -> Any:
        return self._backend.secrets[secret_id]

    def enable(
        self, secret_id: str, schedule: str | None = None, duration: str | None = None
    ) -> None:
        """Rotation on, with the RotationRules RotateSecret sets (e.g. "rate(4 hours)", "2h")."""
        secret = self._secret(secret_id)
        secret.rotation_requested = True  # moto only reports RotationEnabled once this is set
        secret.rotation_enabled = True
        secret.rotation_lambda_arn = (
            f"arn:aws:lambda:{secret.region}:{secret.account_id}:function:ecr-token-rotator"
        )
        rules = {"ScheduleExpression": schedule, "Duration": duration}
        setattr(secret, SCHEDULE_ATTRIBUTE, {k: v for k, v in rules.items() if v})

    def start(self, secret_id: str) -> str:
        """RotateSecret: refuse on a stale AWSPENDING, else stage a new empty AWSPENDING version."""
        secret = self._secret(secret_id)
        for version in secret.versions.values():
            stages = version["version_stages"]
            if "AWSPENDING" in stages and "AWSCURRENT" not in stages:
                raise PreviousRotationIncomplete(
                    "A previous rotation isn't complete. That rotation will be reattempted."
                )
        for version in secret.versions.values():  # a completed rotation leaves it on AWSCURRENT
            if "AWSPENDING" in version["version_stages"]:
                version["version_stages"].remove("AWSPENDING")
        token = str(uuid.uuid4())
        secret.versions[token] = {
            "version_id": token,
            "version_stages": ["AWSPENDING"],
            "createdate": int(time.time()),
        }
        return token

    def event(self, secret_arn: str, token: str, step: str) -> dict[str, str]:
        return {"SecretId": secret_arn, "ClientRequestToken": token, "Step": step}

    def run(
        self,
        secret_arn: str,
        token: str,
        invoke: Callable[[dict[str, str]], Any],
        steps: tuple[str, ...] = STEPS,
    ) -> list[Any]:
        return [invoke(self.event(secret_arn, token, step)) for step in steps]

    def age_version(self, secret_id: str, version_id: str, seconds: int) -> None:
        """Pretend a version was created `seconds` earlier (for repair's in-progress window)."""
        age_version(self._backend, secret_id, version_id, seconds)


def age_version(
    backend: SecretsManagerBackend, secret_id: str, version_id: str, seconds: int
) -> None:
    """Pretend a version was created `seconds` earlier than it was."""
    backend.secrets[secret_id].versions[version_id]["createdate"] -= seconds

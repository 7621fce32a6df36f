"""Secrets Manager I/O: read a version, write a version, move staging labels.

Every AWS error becomes a `RotatorError` that names the secret and, for AccessDenied, the IAM
action the role lacks. Values are never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .document import parse_document, serialize_document
from .errors import PermissionDeniedError, RotatorError, SecretError

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_secretsmanager.type_defs import DescribeSecretResponseTypeDef

logger = logging.getLogger(__name__)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"


@dataclass(frozen=True)
class StoredDocument:
    """A version's document; `version_id` is None when the stage has no value yet."""

    arn: str | None
    version_id: str | None
    document: dict[str, Any] = field(repr=False)


def _kms_action(action: str) -> str:
    return "kms:Decrypt" if action == "GetSecretValue" else "kms:GenerateDataKey and kms:Decrypt"


def translate_error(  # noqa: PLR0911 - one return per family of AWS errors reads best
    error: ClientError | BotoCoreError, action: str, secret_id: str
) -> RotatorError:
    """Turn a failed Secrets Manager call into an error that says what to do."""
    if isinstance(error, aws.NETWORK_ERRORS):
        return SecretError(
            f"cannot reach Secrets Manager for {action} on {secret_id} ({type(error).__name__}); "
            "check the network path (NAT or a secretsmanager VPC endpoint in VPC mode)"
        )
    if isinstance(error, BotoCoreError):  # credentials missing, invalid parameters
        return SecretError(f"{action} on {secret_id} failed before reaching AWS: {error}")
    code = aws.error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    if aws.is_access_denied(error):
        if "kms" in message.lower():
            return PermissionDeniedError(
                f"{action} on {secret_id} failed because the role may not use the secret's KMS "
                f"key: grant {_kms_action(action)} on that key (AWS said: {message})"
            )
        return PermissionDeniedError(
            f"Secrets Manager denied secretsmanager:{action} on {secret_id}: grant it to the "
            "function's role for this secret's ARN"
        )
    if code in {"DecryptionFailure", "EncryptionFailure"}:
        return SecretError(
            f"{action} on {secret_id} failed with {code}: KMS could not "
            f"{'decrypt' if code == 'DecryptionFailure' else 'encrypt'} with the secret's key; "
            f"check that the key is enabled and that the role has {_kms_action(action)} on it"
        )
    if code == "ResourceNotFoundException":
        return SecretError(
            f"secret {secret_id} does not exist (or is in another region/account): create it "
            "first or fix SECRET_ID"
        )
    return SecretError(f"{action} on {secret_id} failed with {code}: {message}")


def _is_missing_value(error: ClientError) -> bool:
    # AWS answers ResourceNotFoundException both for a missing secret and for a stage without a
    # value ("can't find the specified secret value for staging label: AWSCURRENT"); only the
    # message tells them apart without an extra DescribeSecret call (and permission).
    return aws.error_code(error) == "ResourceNotFoundException" and "secret value" in str(
        error.response.get("Error", {}).get("Message", "")
    )


def _client(region: str) -> SecretsManagerClient:
    return aws.client("secretsmanager", region)


def read_document(
    secret_id: str, region: str, *, pending_version: str | None = None
) -> StoredDocument:
    """Read and parse AWSCURRENT, or the AWSPENDING `pending_version`; no value reads as empty."""
    where = (
        f"secret {secret_id} ({f'AWSPENDING {pending_version}' if pending_version else CURRENT})"
    )
    request: dict[str, str] = {"SecretId": secret_id}  # no stage given: AWSCURRENT
    if pending_version:
        request.update(VersionId=pending_version, VersionStage=PENDING)
    try:
        response = _client(region).get_secret_value(**request)
    except ClientError as e:
        if _is_missing_value(e):
            return StoredDocument(arn=None, version_id=None, document={})
        raise translate_error(e, "GetSecretValue", secret_id) from e
    except BotoCoreError as e:
        raise translate_error(e, "GetSecretValue", secret_id) from e
    secret_string = response.get("SecretString")
    if secret_string is None:
        raise SecretError(
            f"{where} holds a binary value (SecretBinary) and no SecretString; the function "
            "only updates a JSON object: store a JSON string or use a new secret"
        )
    return StoredDocument(
        arn=response["ARN"],
        version_id=response["VersionId"],
        document=parse_document(secret_string, where),
    )


def write_document(
    secret_id: str,
    region: str,
    document: dict[str, Any],
    *,
    client_request_token: str | None = None,
    stages: tuple[str, ...] = (CURRENT,),
) -> tuple[str, str]:
    """Write a new version with PutSecretValue and return the secret's ARN and the version id.

    Without `client_request_token` botocore generates one per call and reuses it across its own
    retries, so a retried write cannot create two versions, and no token is ever reused for a
    different value (Secrets Manager rejects that).
    """
    request: dict[str, Any] = {
        "SecretId": secret_id,
        "SecretString": serialize_document(document),
        "VersionStages": list(stages),
    }
    if client_request_token:
        request["ClientRequestToken"] = client_request_token
    try:
        response = _client(region).put_secret_value(**request)
    except (ClientError, BotoCoreError) as e:
        raise translate_error(e, "PutSecretValue", secret_id) from e
    return response["ARN"], response["VersionId"]


def describe(secret_id: str, region: str) -> DescribeSecretResponseTypeDef:
    try:
        return _client(region).describe_secret(SecretId=secret_id)
    except (ClientError, BotoCoreError) as e:
        raise translate_error(e, "DescribeSecret", secret_id) from e


def move_stage(
    secret_id: str,
    region: str,
    stage: str,
    *,
    move_to: str | None = None,
    remove_from: str | None = None,
) -> None:
    request: dict[str, str] = {"SecretId": secret_id, "VersionStage": stage}
    if move_to:
        request["MoveToVersionId"] = move_to
    if remove_from:
        request["RemoveFromVersionId"] = remove_from
    try:
        _client(region).update_secret_version_stage(**request)
    except (ClientError, BotoCoreError) as e:
        raise translate_error(e, "UpdateSecretVersionStage", secret_id) from e


def list_versions(secret_id: str, region: str) -> list[dict[str, Any]]:
    """Every labelled version with its stages and creation time (for `repair`)."""
    versions: list[dict[str, Any]] = []
    try:
        page = _client(region).list_secret_version_ids(SecretId=secret_id)
        versions.extend(dict(version) for version in page.get("Versions", []))
        while page.get("NextToken"):  # ListSecretVersionIds has no boto3 paginator
            page = _client(region).list_secret_version_ids(
                SecretId=secret_id, NextToken=page["NextToken"]
            )
            versions.extend(dict(version) for version in page.get("Versions", []))
    except (ClientError, BotoCoreError) as e:
        raise translate_error(e, "ListSecretVersionIds", secret_id) from e
    return versions

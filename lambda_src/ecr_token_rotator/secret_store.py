"""Secrets Manager I/O: read a version, write a version, move staging labels.

Every AWS error becomes a `RotatorError` that names the secret, the step that failed and, for
AccessDenied, the IAM action the role lacks. Values are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .document import EMPTY_DOCUMENT, Document, parse_document
from .errors import PermissionDeniedError, RotatorError, SecretError, UnusableValueError

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_secretsmanager.type_defs import DescribeSecretResponseTypeDef

    from .deadline import Deadline

logger = logging.getLogger(__name__)

T = TypeVar("T")

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"
PREVIOUS = "AWSPREVIOUS"


class StoredDocument(NamedTuple):
    """A version's document; `version_id` is None when there is no value (yet)."""

    arn: str | None
    version_id: str | None
    document: Document
    stages: tuple[str, ...] = ()  # the version's staging labels when it was read
    created_at: datetime | None = None  # when Secrets Manager created the version

    def __repr__(self) -> str:
        return (
            f"StoredDocument(arn={self.arn!r}, version_id={self.version_id!r}, "
            f"stages={self.stages!r}, created_at={self.created_at!r})"
        )


class WrittenVersion(NamedTuple):
    arn: str
    version_id: str
    stages: tuple[str, ...]  # the labels AWS reports on the new version


class LabelMoveRefused(SecretError):
    """UpdateSecretVersionStage was refused: the label is not where the request said it was."""


def _refused_on_a_replica(error: ClientError) -> bool:
    """Secrets Manager refuses writes to a replica: "Operation not permitted on a replica secret.
    Call must be made in primary secret's region." (InvalidParameterException, as moto and AWS's
    own samples see it; matched on the message, whatever the code)."""
    return aws.error_code(error) in {
        "InvalidParameterException",
        "InvalidRequestException",
    } and "replica secret" in aws.error_message(error)


def _replica_error(action: str, secret_id: str, region: str) -> SecretError:
    return SecretError(
        f"{action} on {secret_id} was refused: that secret is a replica (in {region}), and "
        "Secrets Manager writes only to a primary secret, which replicates every new version to "
        "its replicas. Give the function the primary's ARN (SECRET_ID; the module's secret_arn): "
        f"aws secretsmanager describe-secret --secret-id {secret_id} --region {region} shows its "
        "PrimaryRegion"
    )


def _kms_action(action: str) -> str:
    return "kms:Decrypt" if action == "GetSecretValue" else "kms:GenerateDataKey and kms:Decrypt"


def translate_error(  # noqa: PLR0911 - one return per family of AWS errors reads best
    error: ClientError | BotoCoreError, action: str, secret_id: str, region: str, deadline: Deadline
) -> RotatorError:
    """Turn a failed Secrets Manager call into an error that says what to do."""
    if isinstance(error, aws.NETWORK_ERRORS):
        call = f" for {action} on {secret_id}"
        return SecretError(
            aws.unreachable(aws.SECRETS_MANAGER, region, error, deadline.policy, call)
        )
    if isinstance(error, BotoCoreError):  # credentials missing, invalid parameters
        return SecretError(
            f"{action} on {secret_id} failed before reaching AWS: {aws.not_sent(error)}"
        )
    code = aws.error_code(error)
    message = aws.error_message(error)
    if aws.is_access_denied(error):
        if "kms" in message.lower():
            kms_action = _kms_action(action)
            return PermissionDeniedError(
                f"{action} on {secret_id} failed because the role may not use the secret's KMS "
                f"key: grant {kms_action} on that key (AWS said: {message})",
                action=kms_action,
            )
        return PermissionDeniedError(
            f"Secrets Manager denied secretsmanager:{action} on {secret_id}: grant it to the "
            "function's role for this secret's ARN",
            action=f"secretsmanager:{action}",
        )
    rejected = aws.rejected_credentials(error)
    if rejected:
        return SecretError(f"{action} on {secret_id} was refused: {rejected}")
    if code in {"DecryptionFailure", "EncryptionFailure"}:
        return SecretError(
            f"{action} on {secret_id} failed with {code}: KMS could not "
            f"{'decrypt' if code == 'DecryptionFailure' else 'encrypt'} with the secret's key; "
            f"check that the key is enabled and that the role has {_kms_action(action)} on it"
        )
    if _refused_on_a_replica(error):
        return _replica_error(action, secret_id, region)
    if code == "ResourceNotFoundException":
        return SecretError(
            f"secret {secret_id} does not exist in {region} (or is in another account): create "
            "it first, or give its ARN"
        )
    if code == "ResourceExistsException":
        return SecretError(
            f"{action} on {secret_id} was refused: that version id already holds a different "
            f"value, and Secrets Manager never changes a version (AWS said: {message})"
        )
    return SecretError(f"{action} on {secret_id} failed with {code}: {message}")


def _client(region: str, deadline: Deadline) -> SecretsManagerClient:
    return aws.client("secretsmanager", region, deadline.policy)


def _call(
    region: str,
    deadline: Deadline,
    action: str,
    operation: Callable[..., T],
    /,
    **request: Any,  # noqa: ANN401 - the operation's own parameters
) -> T:
    """`operation(**request)`, a Secrets Manager call named by its IAM `action`, within the
    deadline (aws.call)."""
    step = f"secretsmanager:{action}"
    return aws.call(deadline, aws.SECRETS_MANAGER, region, step, partial(operation, **request))


def _failed(
    error: ClientError | BotoCoreError,
    action: str,
    secret_id: str,
    region: str,
    deadline: Deadline,
) -> RotatorError:
    translated = translate_error(error, action, secret_id, region, deadline)
    translated.step = f"secretsmanager:{action}"
    return translated


def read_version(
    secret_id: str,
    region: str,
    deadline: Deadline,
    *,
    version_id: str | None = None,
    stage: str | None = None,
) -> StoredDocument:
    """Read and parse AWSCURRENT, or the version `version_id`, or the one labelled `stage`.

    A version without a value (or a label on no version) reads as an empty document with
    `version_id` None. AWS answers ResourceNotFoundException both for that and for a missing
    secret (its message is not an interface): `describe` tells them apart where it matters.
    """
    label = stage or CURRENT
    where = f"secret {secret_id} ({f'version {version_id}' if version_id else label})"
    request: dict[str, str] = {"SecretId": secret_id}  # no version given: AWSCURRENT
    if version_id:
        request["VersionId"] = version_id
    if stage:
        request["VersionStage"] = stage
    try:
        response = _call(
            region,
            deadline,
            "GetSecretValue",
            _client(region, deadline).get_secret_value,
            **request,
        )
    except ClientError as e:
        if aws.error_code(e) == "ResourceNotFoundException":
            return StoredDocument(arn=None, version_id=None, document=EMPTY_DOCUMENT)
        raise _failed(e, "GetSecretValue", secret_id, region, deadline) from e
    except BotoCoreError as e:
        raise _failed(e, "GetSecretValue", secret_id, region, deadline) from e
    secret_string = response.get("SecretString")
    if secret_string is None:
        raise UnusableValueError(
            f"{where} holds a binary value (SecretBinary) and no SecretString; the function "
            "only updates a JSON object: store a JSON string or use a new secret"
        )
    return StoredDocument(
        arn=response["ARN"],
        version_id=response["VersionId"],
        document=parse_document(secret_string, where),
        stages=tuple(response.get("VersionStages", ())),
        created_at=response.get("CreatedDate"),
    )


def write_version(
    secret_id: str,
    region: str,
    secret_string: str,
    deadline: Deadline,
    *,
    stages: tuple[str, ...],
    client_request_token: str | None = None,
) -> WrittenVersion:
    """Write a new version with PutSecretValue under `stages`.

    Without `client_request_token` botocore generates one per call and reuses it across its own
    retries, so a retried write cannot create two versions, and no token is ever reused for a
    different value (Secrets Manager refuses that).
    """
    request: dict[str, Any] = {
        "SecretId": secret_id,
        "SecretString": secret_string,
        "VersionStages": list(stages),
    }
    if client_request_token:
        request["ClientRequestToken"] = client_request_token
    try:
        response = _call(
            region,
            deadline,
            "PutSecretValue",
            _client(region, deadline).put_secret_value,
            **request,
        )
    except (ClientError, BotoCoreError) as e:
        raise _failed(e, "PutSecretValue", secret_id, region, deadline) from e
    return WrittenVersion(
        arn=response["ARN"],
        version_id=response["VersionId"],
        stages=tuple(response.get("VersionStages", ())),
    )


def describe(secret_id: str, region: str, deadline: Deadline) -> DescribeSecretResponseTypeDef:
    try:
        return _call(
            region,
            deadline,
            "DescribeSecret",
            _client(region, deadline).describe_secret,
            SecretId=secret_id,
        )
    except (ClientError, BotoCoreError) as e:
        raise _failed(e, "DescribeSecret", secret_id, region, deadline) from e


def move_label(
    secret_id: str,
    region: str,
    label: str,
    deadline: Deadline,
    *,
    move_to: str | None = None,
    remove_from: str | None = None,
) -> None:
    """UpdateSecretVersionStage. AWS refuses (LabelMoveRefused) when `label` is attached to a
    version other than `remove_from`: that makes moving AWSCURRENT a compare-and-swap."""
    request: dict[str, str] = {"SecretId": secret_id, "VersionStage": label}
    if move_to:
        request["MoveToVersionId"] = move_to
    if remove_from:
        request["RemoveFromVersionId"] = remove_from
    try:
        _call(
            region,
            deadline,
            "UpdateSecretVersionStage",
            _client(region, deadline).update_secret_version_stage,
            **request,
        )
    except ClientError as e:
        if aws.error_code(e) == "InvalidParameterException" and not _refused_on_a_replica(e):
            refused = LabelMoveRefused(
                f"Secrets Manager refused to move {label} of {secret_id} "
                f"{f'from version {remove_from} ' if remove_from else ''}"
                f"{f'to version {move_to}' if move_to else ''}: {aws.error_message(e)}"
            )
            refused.step = "secretsmanager:UpdateSecretVersionStage"
            raise refused from e
        raise _failed(e, "UpdateSecretVersionStage", secret_id, region, deadline) from e
    except BotoCoreError as e:
        raise _failed(e, "UpdateSecretVersionStage", secret_id, region, deadline) from e


def remove_label(
    secret_id: str, region: str, label: str, version_id: str, deadline: Deadline
) -> bool:
    """Remove `label` from `version_id`; False when it was not there (nothing to do)."""
    try:
        move_label(secret_id, region, label, deadline, remove_from=version_id)
    except LabelMoveRefused:
        return False
    return True


def list_versions(secret_id: str, region: str, deadline: Deadline) -> list[dict[str, Any]]:
    """Every labelled version with its stages and creation time (for `repair`)."""
    versions: list[dict[str, Any]] = []
    request: dict[str, Any] = {"SecretId": secret_id}
    try:
        while True:  # ListSecretVersionIds has no boto3 paginator
            page = _call(
                region,
                deadline,
                "ListSecretVersionIds",
                _client(region, deadline).list_secret_version_ids,
                **request,
            )
            versions.extend(dict(version) for version in page.get("Versions", []))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except (ClientError, BotoCoreError) as e:
        raise _failed(e, "ListSecretVersionIds", secret_id, region, deadline) from e
    return versions

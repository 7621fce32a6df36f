"""The steps every credential goes through, whichever trigger asked for it.

A scheduled refresh runs them in one invocation; native rotation runs them across its four steps
(rotation.py). Both call these functions, so both compose, verify and publish the same way:

1. `read_and_fetch`: read the secret while every region's token (and ECR Public's) is fetched
   (they are independent). A refresh reads the version under the function's own label first
   (`read_state`): normally that is AWSCURRENT too, so one call serves; when it is not, the
   version an earlier, failed attempt wrote and never published is at hand (`reusable`).
2. `compose`: merge the credential's five keys into the document read, keeping every other member
   as it was written, and check the size Secrets Manager allows, before anything is written.
3. `verify`: check the credential as kubelet will read it, its remaining lifetime, and pull the
   probe images with it.
4. `publish`: a compare-and-swap on AWSCURRENT, so that another writer's version is never
   reverted. The new version is written under the function's own label (WRITE_LABEL, which moves
   with each write, so older versions still lose every label and age out), then AWSCURRENT is
   moved to it with UpdateSecretVersionStage(RemoveFromVersionId=<the version read>), which AWS
   refuses when AWSCURRENT has moved since. On refusal: read again, merge the same credential into
   what is there now, and try again, a bounded number of times. The secret's first value needs no
   move: AWS makes the first version AWSCURRENT by itself.

Publishing only moves forward: AWSCURRENT never moves to a credential that expires earlier than
the one it holds for the same hosts (a refresh that published while a rotation was under way, a
concurrent run that won the race). Such a run ends "superseded": nothing is written, nothing
moves, and it is not a failure. A version written by an earlier attempt that failed after its
write (Lambda's retry of the event, the apply-time loop, a retried rotation step) is published as
it is instead of writing another, while it serves as well as fresh tokens would.

A version that loses AWSCURRENT while it still carries AWSPENDING (where a finished rotation, of
AWS's templates or of older versions of the function, left it) loses AWSPENDING too, on every path
that moved AWSCURRENT away from it: Secrets Manager refuses every rotation while AWSPENDING sits on
a version that is not AWSCURRENT. Once AWSCURRENT has moved, a failure of that clean-up is logged
(`pending_cleanup_failed`, with the repair command), not raised: the credential is published.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from . import ecr, secret_store
from .config import ENVIRONMENT_NAMES, ImageRef, SettingNames
from .credentials import MINIMUM_TOKEN_LIFETIME, RegistryCredential, format_timestamp
from .deadline import Deadline
from .document import (
    Credential,
    Document,
    check_size,
    merge_document,
    read_credential,
    serialize_document,
)
from .endpoints import HostPlan
from .errors import REPAIR_HINT, PublishConflictError, RotatorError, UnusableValueError
from .messages import duration
from .result import RunRecord
from .secret_store import CURRENT, PENDING, LabelMoveRefused, StoredDocument

if TYPE_CHECKING:
    from .probe import RegistryTransport

logger = logging.getLogger(__name__)

# The function's own staging label: on the version it wrote last.
WRITE_LABEL = "ECRTOKENROTATOR"
MAX_PUBLISH_ATTEMPTS = 3
# A credential in AWSCURRENT that expires no more than this before the run's own was fetched by a
# concurrent run at about the same time: publishing the run's own would change nothing for users.
CONCURRENT_REFRESH_TOLERANCE = timedelta(minutes=5)
# A version written by an earlier attempt is published instead of a new one while its credential
# expires no more than this before the freshly fetched one: it then still lasts 11 of a token's 12
# hours, longer than the longest schedule (8 hours) plus ESO's refresh, and it spares a version.
REUSE_TOLERANCE = timedelta(hours=1)
# A run moves AWSCURRENT right after its write, in one AWS call whose attempts and timeouts
# botocore bounds (24 s at most, deadline.py). A version another invocation wrote longer ago than
# this and that is still not AWSCURRENT will not be published by its writer any more: publishing
# it is no race with a run still at work. (Lambda retries a failed event a minute later.)
SETTLED_AFTER = timedelta(seconds=30)


class CredentialExpiringError(UnusableValueError):
    """A credential with less than MINIMUM_TOKEN_LIFETIME left: not worth publishing."""


class SecretState(NamedTuple):
    """What a run read before publishing."""

    current: StoredDocument  # AWSCURRENT (version_id None: the secret has no value yet)
    # The version under WRITE_LABEL when it is not AWSCURRENT: written by an earlier attempt and
    # never published (or left behind by another tool's write since).
    unpublished: StoredDocument | None = None


def read_state(
    secret_id: str,
    region: str,
    deadline: Deadline,
    *,
    by_own_label: bool,
    record: RunRecord,
) -> SecretState:
    """AWSCURRENT, and with `by_own_label` (a refresh) the version under WRITE_LABEL.

    GetSecretValue by the label answers with the version's staging labels: when AWSCURRENT is
    among them (the normal case) that one call serves. Otherwise AWSCURRENT is read too, and when
    neither exists DescribeSecret tells a secret without a value (the function writes its first
    one) from a missing secret, which AWS answers alike (ResourceNotFoundException) for
    GetSecretValue: so a missing secret is reported first, as such. (Rotation runs have described
    the secret already.)
    """
    labelled: StoredDocument | None = None
    if by_own_label:
        try:
            labelled = secret_store.read_version(secret_id, region, deadline, stage=WRITE_LABEL)
        except UnusableValueError:
            labelled = None  # not a document of the function's: no version to reuse
        if labelled is not None and CURRENT in labelled.stages:
            record.saw(labelled)
            return SecretState(labelled)
    try:
        current = secret_store.read_version(secret_id, region, deadline)
    except UnusableValueError:
        record.saw_unusable()
        raise
    unpublished = labelled if labelled is not None and labelled.version_id is not None else None
    if by_own_label and current.version_id is None and unpublished is None:
        secret_store.describe(secret_id, region, deadline)  # raises when the secret is missing
    record.saw(current)
    return SecretState(current, unpublished)


def read_and_fetch(
    secret_id: str,
    region: str,
    ecr_regions: Sequence[str],
    hosts: HostPlan,
    *,
    now: datetime,
    deadline: Deadline,
    record: RunRecord,
    by_own_label: bool = True,
) -> tuple[SecretState, list[RegistryCredential]]:
    """The secret (read on this thread, see `read_state`) while every ECR region's token, and ECR
    Public's when it is on, is fetched. Both end (or are abandoned at the deadline: deadline.py)
    before this returns or raises, whatever fails; the secret's problem comes first."""
    fetching = ecr.start_fetching(ecr_regions, hosts, now, deadline)
    try:
        state = read_state(secret_id, region, deadline, by_own_label=by_own_label, record=record)
    except RotatorError as read_error:
        try:
            fetching.result()
        except RotatorError as fetch_error:  # the secret's problem comes first
            raise read_error from fetch_error
        raise
    # Logged while the tokens may still be on their way.
    logger.debug(
        "secret read",
        extra={
            "event": "secret_read",
            "secret_id": secret_id,
            "current_version_id": state.current.version_id,
            "first_version": state.current.version_id is None,
            "unpublished_version_id": state.unpublished and state.unpublished.version_id,
        },
    )
    credentials = fetching.result()
    ecr.log_fetched(credentials)
    return state, credentials


def compose(document: Document, credential: Credential, secret: str) -> str:
    """The value to write for `document` (a merge of `credential`), within Secrets Manager's
    limit."""
    serialized = serialize_document(document)
    check_size(document, serialized, credential, secret)
    return serialized


def verify(
    credential: Credential,
    where: str,
    now: datetime,
    deadline: Deadline,
    *,
    images: Sequence[ImageRef] = (),
    transport: RegistryTransport | None = None,
    user_agent: str = "",
    names: SettingNames = ENVIRONMENT_NAMES,
) -> Credential:
    """Check the credential as kubelet will read it, its lifetime, and pull the probe images."""
    checked = read_credential(credential.keys, where)
    if checked.expires_at - now < MINIMUM_TOKEN_LIFETIME:
        raise CredentialExpiringError(
            f"{where} expires at {format_timestamp(checked.expires_at)}, less than "
            f"{duration(MINIMUM_TOKEN_LIFETIME)} from now: too soon to publish"
        )
    if images:
        from .probe import probe_images  # noqa: PLC0415 - runs only when probe images are set

        if transport is None:
            raise ValueError("probe images need a registry transport")
        probe_images(images, checked.auths, transport, deadline, user_agent, names=names)
    return checked


class Prepared(NamedTuple):
    """A version already written with a credential (rotation's AWSPENDING, or a version an earlier
    attempt wrote), publishable as is while its document is still what a fresh merge would give."""

    version_id: str
    document: Document

    def __repr__(self) -> str:
        return f"Prepared(version_id={self.version_id!r})"


class Publication(NamedTuple):
    secret_arn: str
    version_id: str  # now AWSCURRENT
    replaced_version_id: str | None  # the AWSCURRENT it replaced (None: the first value, or none)
    attempts: int
    expires_at: datetime  # of the credential AWSCURRENT holds now
    # AWSCURRENT already held a credential as fresh or fresher: nothing of this run became
    # AWSCURRENT (a version it wrote keeps only the function's label, which the next write moves).
    superseded: bool = False


def held_credential(current: StoredDocument, credential: Credential) -> Credential | None:
    """The credential AWSCURRENT holds for the same hosts as `credential` (None: another set of
    hosts, which is a configuration change, or no usable credential)."""
    if current.version_id is None:
        return None
    try:
        held = read_credential(current.document.values, "AWSCURRENT")
    except UnusableValueError:
        return None
    return held if held.auths.keys() == credential.auths.keys() else None


def _whole_seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)  # the resolution of the stored `expires_at`


def _as_fresh(current: StoredDocument, credential: Credential) -> Credential | None:
    """The credential AWSCURRENT holds when it is about as fresh as `credential` (same hosts)."""
    held = held_credential(current, credential)
    if held is not None and held.expires_at >= credential.expires_at - CONCURRENT_REFRESH_TOLERANCE:
        return held
    return None


def _stated_expiry(current: StoredDocument) -> datetime | None:
    """The `expires_at` AWSCURRENT states, unchecked (a cheap first look)."""
    stated = current.document.values.get("expires_at")
    try:
        return datetime.fromisoformat(stated) if isinstance(stated, str) else None
    except ValueError:
        return None


def _fresher(current: StoredDocument, credential: Credential) -> Credential | None:
    """The credential AWSCURRENT holds when it expires later than `credential` (same hosts)."""
    own = _whole_seconds(credential.expires_at)
    stated = _stated_expiry(current)
    if stated is None or stated.tzinfo is None or stated <= own:
        return None  # the usual case, decided without checking AWSCURRENT's whole credential
    held = held_credential(current, credential)
    return held if held is not None and held.expires_at > own else None


def _settled(version: StoredDocument, record: RunRecord, now: datetime) -> bool:
    """Has the writer of `version` finished with it (an earlier attempt of this invocation, or
    another invocation longer than SETTLED_AFTER ago)?"""
    if version.version_id in record.written:
        return True
    return version.created_at is not None and now - version.created_at >= SETTLED_AFTER


def reusable(
    state: SecretState, fresh: Credential, record: RunRecord, now: datetime
) -> tuple[Credential, Prepared] | None:
    """The version under WRITE_LABEL that an earlier attempt wrote and never published, when
    publishing it as it is serves as well as `fresh` (just fetched and verified): its writer is
    done with it (not a concurrent run between its write and its move), the same hosts, tokens no
    more than REUSE_TOLERANCE older, fresher than what AWSCURRENT holds, and a document that is
    exactly a fresh merge into AWSCURRENT's (so no other writer's member is lost). Its credential
    was probed before it was written."""
    unpublished = state.unpublished
    if (
        unpublished is None
        or unpublished.version_id is None
        or not _settled(unpublished, record, now)
    ):
        return None
    try:
        written = read_credential(unpublished.document.values, "the unpublished version")
    except UnusableValueError:
        return None
    held = held_credential(state.current, written)
    if (
        written.auths.keys() != fresh.auths.keys()
        or written.expires_at < fresh.expires_at - REUSE_TOLERANCE
        or (held is not None and held.expires_at >= written.expires_at)
        or merge_document(state.current.document, written).texts != unpublished.document.texts
    ):
        return None
    return written, Prepared(unpublished.version_id, unpublished.document)


def publish(
    secret_id: str,
    region: str,
    credential: Credential,
    current: StoredDocument,
    deadline: Deadline,
    *,
    prepared: Prepared | None = None,
    record: RunRecord | None = None,
) -> Publication:
    """Make `credential`, merged into whatever AWSCURRENT holds, the secret's AWSCURRENT, unless
    AWSCURRENT already holds a fresher credential for the same hosts (then: superseded)."""
    record = record or RunRecord()
    for attempt in range(1, MAX_PUBLISH_ATTEMPTS + 1):
        secret_arn = current.arn or secret_id
        document = merge_document(current.document, credential)
        if current.version_id is not None and document.texts == current.document.texts:
            # AWSCURRENT already holds exactly this (a retried rotation step published it).
            return Publication(secret_arn, current.version_id, None, attempt, credential.expires_at)
        fresher = _fresher(current, credential)
        if fresher is not None:
            # Checked before writing: a run that cannot move AWSCURRENT forward writes nothing.
            _log_superseded(secret_arn, current, credential, fresher, why="fresher")
            return Publication(
                secret_arn, str(current.version_id), None, attempt, fresher.expires_at, True
            )
        if prepared is not None and document.texts == prepared.document.texts:
            version_id = prepared.version_id
        else:
            serialized = compose(document, credential, secret_id)
            written = secret_store.write_version(
                secret_id, region, serialized, deadline, stages=(WRITE_LABEL,)
            )
            secret_arn, version_id = written.arn, written.version_id
            record.written.add(version_id)
            _log_written(secret_arn, version_id, credential)
            if CURRENT in written.stages:  # the secret's first value: AWS made it current
                record.published(secret_arn, credential)
                return Publication(secret_arn, version_id, None, attempt, credential.expires_at)
        try:
            secret_store.move_label(
                secret_id,
                region,
                CURRENT,
                deadline,
                move_to=version_id,
                remove_from=current.version_id,
            )
        except LabelMoveRefused as refusal:
            latest = secret_store.read_version(secret_id, region, deadline)
            record.saw(latest)
            if latest.version_id == version_id:  # an earlier attempt of this call moved it
                record.published(secret_arn, credential)
                _remove_leftover_pending(secret_id, region, current, deadline)
                return Publication(
                    secret_arn, version_id, current.version_id, attempt, credential.expires_at
                )
            if latest.version_id == current.version_id:  # refused for another reason
                raise
            held = _as_fresh(latest, credential)
            if held is not None:
                _log_superseded(
                    secret_arn,
                    latest,
                    credential,
                    held,
                    why="concurrent",
                    unpublished_version_id=version_id,
                )
                _remove_leftover_pending(secret_id, region, current, deadline)
                return Publication(
                    secret_arn, str(latest.version_id), None, attempt, held.expires_at, True
                )
            logger.warning(
                "AWSCURRENT moved while publishing: merging into the new value and trying again",
                extra={
                    "event": "publish_conflict",
                    "secret_arn": secret_arn,
                    "attempt": attempt,
                    "expected_version_id": current.version_id,
                    "found_version_id": latest.version_id,
                    "unpublished_version_id": version_id,
                    "reason": str(refusal),
                },
            )
            current = latest
            continue
        record.published(secret_arn, credential)
        _remove_leftover_pending(secret_id, region, current, deadline)
        return Publication(
            secret_arn, version_id, current.version_id, attempt, credential.expires_at
        )
    raise PublishConflictError(
        f"AWSCURRENT of {secret_id} changed {MAX_PUBLISH_ATTEMPTS} times while this run was "
        "publishing (another writer updates the secret at the same time); nothing of this run "
        "became current and the next run tries again"
    )


def _remove_leftover_pending(
    secret_id: str, region: str, replaced: StoredDocument, deadline: Deadline
) -> None:
    """AWSPENDING off the version AWSCURRENT just left, where a finished rotation left it.

    AWSCURRENT has moved: the credential is published whatever happens here, so a failure is
    logged with the command that removes the label later, not raised (a failed run would be
    retried and write yet another version).
    """
    if replaced.version_id is None or PENDING not in replaced.stages:
        return
    try:
        secret_store.remove_label(secret_id, region, PENDING, replaced.version_id, deadline)
    except RotatorError as error:
        logger.warning(
            "published, but AWSPENDING could not be removed from the version AWSCURRENT left: "
            "Secrets Manager refuses rotations until it is",
            extra={
                "event": "pending_cleanup_failed",
                "secret_arn": replaced.arn or secret_id,
                "version_id": replaced.version_id,
                "reason": str(error),
                "fix": REPAIR_HINT.format(secret=replaced.arn or secret_id),
            },
        )


def _log_superseded(
    secret_arn: str,
    current: StoredDocument,
    credential: Credential,
    held: Credential,
    *,
    why: str,
    unpublished_version_id: str | None = None,
) -> None:
    message = (
        "AWSCURRENT already holds a credential that expires later: nothing to publish"
        if why == "fresher"
        else "a concurrent run published a credential as fresh: nothing to publish"
    )
    logger.info(
        message,
        extra={
            "event": "publish_superseded",
            "secret_arn": secret_arn,
            "current_version_id": current.version_id,
            "current_expires_at": format_timestamp(held.expires_at),
            "own_expires_at": format_timestamp(credential.expires_at),
            "unpublished_version_id": unpublished_version_id,
        },
    )


def _log_written(secret_arn: str, version_id: str, credential: Credential) -> None:
    # DEBUG: `secret_published` (or a failure) follows and names the version at INFO.
    if not logger.isEnabledFor(logging.DEBUG):  # spare building the fields
        return
    logger.debug(
        "new version written, not yet AWSCURRENT",
        extra={
            "event": "secret_written",
            "secret_arn": secret_arn,
            "version_id": version_id,
            "registry_hosts": list(credential.registry_hosts),
            "expires_at": format_timestamp(credential.expires_at),
        },
    )

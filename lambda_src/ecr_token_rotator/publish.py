"""The steps every credential goes through, whichever trigger asked for it.

A scheduled refresh runs them in one invocation; native rotation runs them across its four steps
(rotation.py). Both call these functions, so both compose, verify and publish the same way:

1. `read_and_fetch`: read AWSCURRENT while every region's token (and ECR Public's) is fetched
   (they are independent).
2. `compose`: merge the credential's five keys into the document read, keeping every other key,
   and check the size Secrets Manager allows, before anything is written.
3. `verify`: check the credential as kubelet will read it, its remaining lifetime, and pull the
   probe images with it.
4. `publish`: a compare-and-swap on AWSCURRENT, so that another writer's version is never
   reverted. The new version is written under the function's own label (WRITE_LABEL, which moves
   with each write, so older versions still lose every label and age out), then AWSCURRENT is
   moved to it with UpdateSecretVersionStage(RemoveFromVersionId=<the version read>), which AWS
   refuses when AWSCURRENT has moved since. On refusal: read again, merge the same credential into
   what is there now, and try again, a bounded number of times. If what is there now already
   holds a credential for the same hosts about as fresh as this run's (a concurrent run of the
   function won the race), there is nothing left to publish: the run ends without a new
   AWSCURRENT. The secret's first value needs no move: AWS makes the first version AWSCURRENT by
   itself. A version that loses AWSCURRENT while it still carries AWSPENDING (where a finished
   rotation of an older version of the function left it) loses AWSPENDING too: Secrets Manager
   refuses every rotation while AWSPENDING sits on a version that is not AWSCURRENT.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from . import ecr, secret_store
from .config import ENVIRONMENT_NAMES, ImageRef, SettingNames
from .credentials import MINIMUM_TOKEN_LIFETIME, RegistryCredential, format_timestamp
from .deadline import Deadline
from .document import (
    Credential,
    check_size,
    merge_document,
    read_credential,
    serialize_document,
)
from .endpoints import HostPlan
from .errors import PublishConflictError, RotatorError, UnusableValueError
from .messages import duration
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


class CredentialExpiringError(UnusableValueError):
    """A credential with less than MINIMUM_TOKEN_LIFETIME left: not worth publishing."""


# Threads for the token requests, kept for the next (warm) invocation: starting one takes up to a
# millisecond while other threads hold the GIL, as long as the rest of a refresh's own work.
_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
POOL_THREADS = 16


def _shared_pool() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - the process-wide pool is the point
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="ecr-token")
        return _pool


def read_and_fetch(
    secret_id: str,
    region: str,
    ecr_regions: Sequence[str],
    hosts: HostPlan,
    *,
    now: datetime,
    deadline: Deadline,
) -> tuple[StoredDocument, list[RegistryCredential]]:
    """AWSCURRENT of the secret (read on this thread) while every ECR region's token, and ECR
    Public's when it is on, is fetched (on the pool's). Both finish before this returns or
    raises, whatever fails."""
    fetching = ecr.start_fetching(ecr_regions, hosts, now, deadline, _shared_pool())
    try:
        current = secret_store.read_version(secret_id, region, deadline)
    except RotatorError as read_error:
        try:
            fetching.result()
        except RotatorError as fetch_error:  # the secret's problem comes first
            raise read_error from fetch_error
        raise
    # Logged while the tokens may still be on their way.
    logger.info(
        "secret read",
        extra={
            "event": "secret_read",
            "secret_id": secret_id,
            "current_version_id": current.version_id,
            "first_version": current.version_id is None,
        },
    )
    credentials = fetching.result()
    ecr.log_fetched(credentials)
    return current, credentials


def compose(existing: dict[str, Any], credential: Credential, secret: str) -> str:
    """The value to write: `existing` with the credential's keys, within Secrets Manager's limit."""
    serialized = serialize_document(merge_document(existing, credential))
    check_size(serialized, credential, secret)
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
    """A version already written with this credential (rotation's AWSPENDING), publishable as is
    while its document is still what a fresh merge would give."""

    version_id: str
    document: dict[str, Any]

    def __repr__(self) -> str:
        return f"Prepared(version_id={self.version_id!r})"


class Publication(NamedTuple):
    secret_arn: str
    version_id: str  # now AWSCURRENT
    replaced_version_id: str | None  # the AWSCURRENT it replaced (None: the first value)
    attempts: int
    # AWSCURRENT already held a credential as fresh, published by a concurrent run: this run's
    # version was left unpublished (its label moves away with the next write).
    superseded: bool = False


def _as_fresh(document: dict[str, Any], credential: Credential) -> bool:
    """Does `document` hold a credential for the same hosts, about as fresh as `credential`?"""
    try:
        held = read_credential(document, "AWSCURRENT")
    except UnusableValueError:
        return False
    return (
        set(held.auths) == set(credential.auths)
        and held.expires_at >= credential.expires_at - CONCURRENT_REFRESH_TOLERANCE
    )


def publish(
    secret_id: str,
    region: str,
    credential: Credential,
    current: StoredDocument,
    deadline: Deadline,
    *,
    prepared: Prepared | None = None,
) -> Publication:
    """Make `credential`, merged into whatever AWSCURRENT holds, the secret's AWSCURRENT."""
    for attempt in range(1, MAX_PUBLISH_ATTEMPTS + 1):
        secret_arn = current.arn or secret_id
        document = merge_document(current.document, credential)
        if current.version_id is not None and document == current.document:
            # AWSCURRENT already holds exactly this (a retried rotation step published it).
            return Publication(secret_arn, current.version_id, None, attempt)
        if prepared is not None and document == prepared.document:
            version_id = prepared.version_id
        else:
            serialized = compose(current.document, credential, secret_id)
            written = secret_store.write_version(
                secret_id, region, serialized, deadline, stages=(WRITE_LABEL,)
            )
            secret_arn, version_id = written.arn, written.version_id
            _log_written(secret_arn, version_id, credential)
            if CURRENT in written.stages:  # the secret's first value: AWS made it current
                return Publication(secret_arn, version_id, None, attempt)
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
            if latest.version_id == version_id:  # an earlier attempt of this call moved it
                return Publication(secret_arn, version_id, current.version_id, attempt)
            if latest.version_id == current.version_id:  # refused for another reason
                raise
            if latest.version_id is not None and _as_fresh(latest.document, credential):
                logger.info(
                    "a concurrent refresh published a credential as fresh: nothing to publish",
                    extra={
                        "event": "publish_superseded",
                        "secret_arn": secret_arn,
                        "current_version_id": latest.version_id,
                        "unpublished_version_id": version_id,
                    },
                )
                return Publication(secret_arn, latest.version_id, None, attempt, superseded=True)
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
        if PENDING in current.stages and current.version_id is not None:
            secret_store.remove_label(secret_id, region, PENDING, current.version_id, deadline)
        return Publication(secret_arn, version_id, current.version_id, attempt)
    raise PublishConflictError(
        f"AWSCURRENT of {secret_id} changed {MAX_PUBLISH_ATTEMPTS} times while this run was "
        "publishing (another writer updates the secret at the same time); nothing of this run "
        "became current and the next run tries again"
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

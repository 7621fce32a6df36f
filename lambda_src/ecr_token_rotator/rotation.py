"""Secrets Manager native rotation: the four steps of the rotation protocol.

Secrets Manager calls the function once per step with the same `ClientRequestToken` (the id of
the new version, which it has already labelled AWSPENDING), and retries a failed step with that
same token. Each step is therefore idempotent: it checks what an earlier attempt already did. The
steps use the same composition, verification and publication as a scheduled refresh (publish.py):

- createSecret: read AWSCURRENT while the tokens are fetched, merge, check the size, and write the
  result as the AWSPENDING version (skipped if it has a value). When the secret has no value yet,
  AWS makes that first version AWSCURRENT at once, so it is verified and probed before it is
  written.
- setSecret:    nothing to do; ECR tokens are valid the moment ECR issues them.
- testSecret:   verify the pending credential as kubelet will read it, its lifetime, and run the
  pull probe.
- finishSecret: publish the pending credential with the compare-and-swap of a scheduled refresh:
  AWSCURRENT moves to the pending version while the keys other tools keep in AWSCURRENT are still
  those createSecret merged with. If another writer changed them since, the pending document is
  out of date and a version id cannot be given another value, so a fresh merge of the pending
  credential into AWSCURRENT is published as a version of its own. Either way AWSPENDING is then
  removed, so that no later write can leave it on a version that is not AWSCURRENT.

Rotations heal themselves: a pending version that can no longer succeed (its credential expires
within the hour, or its value is unusable) loses its AWSPENDING label and the step fails saying
so. Secrets Manager would otherwise refuse every later rotation while AWSPENDING stays; now the
next scheduled rotation starts clean, and Secrets Manager's retries with the same token fail
cleanly (the version has no label left). A rotation abandoned half-way by Secrets Manager itself
can still leave AWSPENDING behind; the CLI command `repair` removes it (see repair.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from . import secret_store
from .config import Settings, region_of_secret
from .credentials import format_timestamp
from .deadline import Deadline
from .document import Credential, credential_from_entries, read_credential, registry_entries
from .errors import REPAIR_HINT, RotationStateError, UnusableValueError
from .events import RotationEvent
from .publish import Prepared, compose, publish, read_and_fetch, verify
from .result import RunResult
from .secret_store import CURRENT, PENDING, StoredDocument

if TYPE_CHECKING:
    from collections.abc import Callable

    from .probe import RegistryTransport

logger = logging.getLogger(__name__)


class StepContext(NamedTuple):
    settings: Settings
    event: RotationEvent
    secret_arn: str
    region: str
    versions: Mapping[str, list[str]]  # version id -> staging labels
    transport: RegistryTransport | None
    deadline: Deadline
    user_agent: str
    now: datetime

    @property
    def where(self) -> str:
        return f"secret {self.secret_arn} (AWSPENDING {self.event.token})"

    def result(
        self,
        credential: Credential | None = None,
        *,
        version_id: str | None = None,
        published: bool = False,
    ) -> RunResult:
        return RunResult(
            mode="rotation",
            secret_arn=self.secret_arn,
            version_id=version_id or self.event.token,
            step=self.event.step,
            expires_at=credential.expires_at if credential else None,
            registry_hosts=credential.registry_hosts if credential else (),
            published=published,
        )


def _drop_pending(ctx: StepContext) -> None:
    secret_store.remove_label(ctx.secret_arn, ctx.region, PENDING, ctx.event.token, ctx.deadline)


def _abandon(ctx: StepContext, reason: UnusableValueError) -> RotationStateError:
    """Remove AWSPENDING from a version that can no longer succeed; return the error to raise."""
    _drop_pending(ctx)
    logger.warning(
        "pending version abandoned: it can no longer succeed",
        extra={
            "event": "pending_abandoned",
            "secret_arn": ctx.secret_arn,
            "version_id": ctx.event.token,
            "reason": str(reason),
        },
    )
    return RotationStateError(
        f"{reason}; this rotation can no longer succeed, so AWSPENDING was removed from version "
        f"{ctx.event.token}: the next scheduled rotation starts clean (to rotate now: "
        f"aws secretsmanager rotate-secret --secret-id {ctx.secret_arn})"
    )


def _pending(ctx: StepContext) -> tuple[StoredDocument, Credential] | None:
    """The pending version and its credential; None while it has no value.

    A value that can no longer be published (unusable, or expiring within the hour) is abandoned.
    """
    try:
        pending = secret_store.read_version(
            ctx.secret_arn, ctx.region, ctx.deadline, version_id=ctx.event.token
        )
        if pending.version_id is None:
            return None
        credential = verify(
            read_credential(pending.document, ctx.where), ctx.where, ctx.now, ctx.deadline
        )
    except UnusableValueError as e:
        raise _abandon(ctx, e) from e
    return pending, credential


def _require_pending(ctx: StepContext) -> tuple[StoredDocument, Credential]:
    found = _pending(ctx)
    if found is None:
        raise RotationStateError(
            f"version {ctx.event.token} of {ctx.secret_arn} has no value: createSecret did not "
            "complete; Secrets Manager will retry the rotation"
        )
    return found


def run_create_secret(ctx: StepContext) -> RunResult:
    if _pending(ctx) is not None:
        logger.info(
            "pending version already has a value; nothing to create",
            extra={"event": "create_skipped", "secret_arn": ctx.secret_arn},
        )
        return ctx.result()
    settings = ctx.settings
    current, region_credentials = read_and_fetch(
        ctx.secret_arn,
        ctx.region,
        settings.regions,
        settings.hosts,
        now=ctx.now,
        deadline=ctx.deadline,
    )
    credential = credential_from_entries(
        registry_entries(region_credentials, settings.registry_ids, settings.hosts)
    )
    serialized = compose(current.document, credential, ctx.secret_arn)
    first_value = current.version_id is None
    # The secret's first version becomes AWSCURRENT as it is written (AWS attaches the label by
    # itself), before testSecret could probe it: so probe it now.
    verify(
        credential,
        ctx.where,
        ctx.now,
        ctx.deadline,
        images=settings.probe_images if first_value else (),
        transport=ctx.transport,
        user_agent=ctx.user_agent,
        names=settings.names,
    )
    written = secret_store.write_version(
        ctx.secret_arn,
        ctx.region,
        serialized,
        ctx.deadline,
        stages=(PENDING,),
        client_request_token=ctx.event.token,
    )
    logger.info(
        "pending version written",
        extra={
            "event": "pending_written",
            "secret_arn": ctx.secret_arn,
            "version_id": ctx.event.token,
            "registry_hosts": list(credential.registry_hosts),
            "expires_at": format_timestamp(credential.expires_at),
            "already_current": CURRENT in written.stages,
        },
    )
    return ctx.result(credential)


def run_set_secret(ctx: StepContext) -> RunResult:
    logger.info(
        "nothing to set: an ECR token is valid as soon as ECR issues it",
        extra={"event": "set_skipped", "secret_arn": ctx.secret_arn},
    )
    return ctx.result()


def run_test_secret(ctx: StepContext) -> RunResult:
    _, credential = _require_pending(ctx)
    verify(
        credential,
        ctx.where,
        ctx.now,
        ctx.deadline,
        images=ctx.settings.probe_images,
        transport=ctx.transport,
        user_agent=ctx.user_agent,
        names=ctx.settings.names,
    )
    logger.info(
        "pending version tested",
        extra={"event": "pending_tested", "secret_arn": ctx.secret_arn},
    )
    return ctx.result(credential)


def run_finish_secret(ctx: StepContext) -> RunResult:
    pending, credential = _require_pending(ctx)
    current = secret_store.read_version(ctx.secret_arn, ctx.region, ctx.deadline)
    publication = publish(
        ctx.secret_arn,
        ctx.region,
        credential,
        current,
        ctx.deadline,
        prepared=Prepared(ctx.event.token, pending.document),
    )
    # The rotation ends with AWSPENDING on no version (one of the two states AWS allows): a later
    # write that moves AWSCURRENT (a refresh, another tool) then cannot leave it stale.
    _drop_pending(ctx)
    if publication.version_id != ctx.event.token:
        # The keys of other tools changed after createSecret, so a fresh merge was published
        # instead (or a concurrent refresh already had).
        logger.info(
            "the secret changed since createSecret: published a fresh merge of the pending "
            "credential instead of the pending version",
            extra={
                "event": "pending_superseded",
                "secret_arn": ctx.secret_arn,
                "version_id": ctx.event.token,
                "published_version_id": publication.version_id,
            },
        )
    # Also on a retry whose first attempt published but lost the answer: the metric of this
    # rotation has not been emitted yet.
    logger.info(
        "rotation finished",
        extra={
            "event": "rotation_finished",
            "secret_arn": ctx.secret_arn,
            "version_id": publication.version_id,
            "previous_version_id": publication.replaced_version_id,
        },
    )
    return ctx.result(
        credential, version_id=publication.version_id, published=not publication.superseded
    )


STEPS: dict[str, Callable[[StepContext], RunResult]] = {
    "createSecret": run_create_secret,
    "setSecret": run_set_secret,
    "testSecret": run_test_secret,
    "finishSecret": run_finish_secret,
}


def _check_own_secret(settings: Settings, metadata: Mapping[str, Any], requested: str) -> None:
    """The function rotates the one secret it is configured (and permitted) for."""
    if settings.secret_id not in (metadata.get("ARN"), metadata.get("Name")):
        raise RotationStateError(
            f"asked to rotate {requested}, but this function is configured for "
            f"{settings.secret_id} ({settings.names.secret_id}); point the secret's rotation at "
            "its own function"
        )


def stale_pending_versions(versions: Mapping[str, list[str]], token: str) -> list[str]:
    """Versions other than `token` that hold AWSPENDING without AWSCURRENT."""
    return [
        version
        for version, stages in versions.items()
        if version != token and PENDING in stages and CURRENT not in stages
    ]


def rotate(
    event: RotationEvent,
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str = "",
    now: datetime | None = None,
) -> RunResult:
    region = region_of_secret(event.secret_id, settings.home_region)
    metadata = secret_store.describe(event.secret_id, region, deadline)
    _check_own_secret(settings, metadata, event.secret_id)
    secret_arn = metadata["ARN"]
    if not metadata.get("RotationEnabled"):
        raise RotationStateError(f"secret {secret_arn} does not have rotation enabled")
    versions = metadata.get("VersionIdsToStages", {})
    stale = stale_pending_versions(versions, event.token)
    if stale:
        logger.warning(
            "stale AWSPENDING found: Secrets Manager refuses new rotations until it is removed",
            extra={
                "event": "stale_pending",
                "secret_arn": secret_arn,
                "stale_version_ids": stale,
                "fix": REPAIR_HINT.format(secret=secret_arn),
            },
        )
    stages = versions.get(event.token)
    if not stages:
        raise RotationStateError(
            f"version {event.token} of {secret_arn} has no staging label: its rotation was "
            "abandoned (a pending version that can no longer succeed loses AWSPENDING) or never "
            "started by RotateSecret; the next rotation starts with a new version"
        )
    ctx = StepContext(
        settings=settings,
        event=event,
        secret_arn=secret_arn,
        region=region,
        versions=versions,
        transport=transport,
        deadline=deadline,
        user_agent=user_agent,
        now=now or datetime.now(UTC),
    )
    # AWSCURRENT and AWSPENDING together on this version: finishSecret moved the label (or it was
    # the secret's first value), and Secrets Manager is retrying finishSecret; run it to report.
    retried_finish = event.step == "finishSecret" and PENDING in stages
    if CURRENT in stages and not retried_finish:
        logger.info(
            "version is already AWSCURRENT; nothing to do",
            extra={"event": "already_current", "secret_arn": secret_arn, "step": event.step},
        )
        return ctx.result()
    if PENDING not in stages:
        raise RotationStateError(
            f"version {event.token} of {secret_arn} is not labelled AWSPENDING; "
            "it cannot be rotated"
        )
    logger.info(
        "rotation step started",
        extra={"event": "step_started", "secret_arn": secret_arn, "step": event.step},
    )
    return STEPS[event.step](ctx)

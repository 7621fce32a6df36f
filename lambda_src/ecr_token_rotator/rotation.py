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
  credential into AWSCURRENT is published as a version of its own. Publishing only moves forward:
  when AWSCURRENT already holds a credential for the same hosts that expires later (a refresh ran
  since createSecret), nothing is published and the step reports `published: false`. A pending
  credential too old to last until the next rotation can replace it (the schedule's interval plus
  its window, from the secret's RotationRules: a rotation retried hours after createSecret) is not
  published either: finishSecret fetches, verifies and probes fresh tokens and publishes them
  through the same compare-and-swap, as a refresh does (a version's value cannot change under
  its token, so they go into a version of their own); when that fails, the step fails and
  Secrets Manager retries it. Whatever happened, AWSPENDING is then removed, so that no later
  write can leave it on a version that is not AWSCURRENT.

Rotations heal themselves: a pending version that can no longer succeed (its credential expires
within the hour, or its value is unusable) loses its AWSPENDING label and the step fails saying
so. Secrets Manager would otherwise refuse every later rotation while AWSPENDING stays; now the
next scheduled rotation starts clean, and Secrets Manager's retries with the same token fail
cleanly (the version has no label left). A rotation abandoned half-way by Secrets Manager itself
can still leave AWSPENDING behind; the CLI command `repair` removes it (see repair.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from . import secret_store
from .config import Settings, region_of_secret
from .credentials import TOKEN_LIFETIME, format_timestamp
from .deadline import Deadline
from .document import (
    Credential,
    credential_from_entries,
    merge_document,
    read_credential,
    registry_entries,
)
from .errors import REPAIR_HINT, RotationStateError, RotatorError, UnusableValueError
from .events import RotationEvent
from .publish import (
    REUSE_TOLERANCE,
    Prepared,
    Publication,
    compose,
    held_credential,
    publish,
    read_and_fetch,
    read_state,
    verify,
)
from .refresh import publish_fresh_credential
from .result import RunRecord, RunResult
from .secret_store import CURRENT, PENDING, StoredDocument

if TYPE_CHECKING:
    from collections.abc import Callable

    from .probe import RegistryTransport

logger = logging.getLogger(__name__)


# Secrets Manager's rate expressions (rate(4 hours), rate(1 day)) and window durations (3h).
_RATE = re.compile(r"rate\((?P<count>[1-9][0-9]*) (?P<unit>hours?|days?)\)\Z")
_DURATION = re.compile(r"(?P<hours>[1-9][0-9]*)h\Z")
ONE_HOUR = timedelta(hours=1)
ONE_DAY = timedelta(days=1)


def _window(rules: Mapping[str, Any]) -> timedelta | None:
    match = _DURATION.match(str(rules.get("Duration") or ""))
    return timedelta(hours=int(match["hours"])) if match else None


def rotation_horizon(rules: Mapping[str, Any]) -> timedelta | None:
    """The longest time from one rotation until the next one can have finished: the interval plus
    the window (None: not known, for a cron() schedule or no rules).

    AWS documents the default windows: for a rate in hours the window closes after one hour; for a
    rate in days (and AutomaticallyAfterDays) at the end of the UTC day, a whole day at most.
    """
    expression = rules.get("ScheduleExpression")
    if isinstance(expression, str) and expression:
        match = _RATE.match(expression.strip())
        if match is None:
            return None  # cron(): its gaps vary
        count, in_days = int(match["count"]), match["unit"].startswith("day")
        interval = count * (ONE_DAY if in_days else ONE_HOUR)
        return interval + (_window(rules) or (ONE_DAY if in_days else ONE_HOUR))
    days = rules.get("AutomaticallyAfterDays")
    if isinstance(days, int) and days > 0:
        return days * ONE_DAY + (_window(rules) or ONE_DAY)
    return None


def lifetime_needed(rules: Mapping[str, Any]) -> timedelta:
    """How long a credential finishSecret publishes must still last: until the next rotation can
    replace it. A token lasts 12 hours from its fetch, so no credential lasts longer than fresh
    tokens less REUSE_TOLERANCE; that is also the need when the schedule is not known (a
    conservative choice: only a credential about as fresh as a new fetch passes)."""
    most = TOKEN_LIFETIME - REUSE_TOLERANCE
    horizon = rotation_horizon(rules)
    return most if horizon is None else min(horizon, most)


class StepContext(NamedTuple):
    settings: Settings
    event: RotationEvent
    secret_arn: str
    region: str
    versions: Mapping[str, list[str]]  # version id -> staging labels
    rules: Mapping[str, Any]  # the secret's RotationRules (DescribeSecret)
    transport: RegistryTransport | None
    deadline: Deadline
    user_agent: str
    now: datetime
    record: RunRecord

    @property
    def where(self) -> str:
        return f"secret {self.secret_arn} (AWSPENDING {self.event.token})"

    def result(
        self,
        credential: Credential | None = None,
        *,
        version_id: str | None = None,
        published: bool = False,
        expires_at: datetime | None = None,
    ) -> RunResult:
        return RunResult(
            mode="rotation",
            secret_arn=self.secret_arn,
            version_id=version_id or self.event.token,
            step=self.event.step,
            expires_at=expires_at or (credential.expires_at if credential else None),
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
            read_credential(pending.document.values, ctx.where), ctx.where, ctx.now, ctx.deadline
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
    state, region_credentials = read_and_fetch(
        ctx.secret_arn,
        ctx.region,
        settings.regions,
        settings.hosts,
        now=ctx.now,
        deadline=ctx.deadline,
        record=ctx.record,
        by_own_label=False,
    )
    current = state.current
    credential = credential_from_entries(
        registry_entries(region_credentials, settings.registry_ids, settings.hosts)
    )
    serialized = compose(merge_document(current.document, credential), credential, ctx.secret_arn)
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
    needed = lifetime_needed(ctx.rules)
    current = read_state(
        ctx.secret_arn, ctx.region, ctx.deadline, by_own_label=False, record=ctx.record
    ).current
    if credential.expires_at - ctx.now >= needed:
        publication = publish(
            ctx.secret_arn,
            ctx.region,
            credential,
            current,
            ctx.deadline,
            prepared=Prepared(ctx.event.token, pending.document),
            record=ctx.record,
        )
    else:
        publication, credential = _publish_instead_of_old_pending(ctx, current, credential, needed)
    _end_rotation(ctx, publication)
    if publication.superseded:
        logger.info(
            "AWSCURRENT already holds a fresher credential: the pending version was not published",
            extra={
                "event": "rotation_superseded",
                "secret_arn": ctx.secret_arn,
                "version_id": ctx.event.token,
                "current_version_id": publication.version_id,
            },
        )
    elif publication.version_id != ctx.event.token:
        # The keys of other tools changed after createSecret, or the pending credential was too
        # old: another version was published instead (or a concurrent refresh already had).
        logger.info(
            "published another version instead of the pending one",
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
            "published": not publication.superseded,
        },
    )
    return ctx.result(
        credential,
        version_id=publication.version_id,
        published=not publication.superseded,
        expires_at=publication.expires_at,
    )


def _publish_instead_of_old_pending(
    ctx: StepContext, current: StoredDocument, pending: Credential, needed: timedelta
) -> tuple[Publication, Credential]:
    """The pending credential would expire before the next rotation can replace it: publish fresh
    tokens instead, unless AWSCURRENT already holds a credential that lasts (a refresh, or an
    earlier attempt of this step, published one)."""
    held = held_credential(current, pending)
    if held is not None and held.expires_at - ctx.now >= needed:
        superseded = Publication(
            current.arn or ctx.secret_arn, str(current.version_id), None, 0, held.expires_at, True
        )
        return superseded, held
    logger.info(
        "pending credential too old to last until the next rotation: publishing fresh tokens",
        extra={
            "event": "pending_too_old",
            "secret_arn": ctx.secret_arn,
            "version_id": ctx.event.token,
            "expires_at": format_timestamp(pending.expires_at),
            "needed_hours": needed.total_seconds() / 3600,
        },
    )
    return publish_fresh_credential(
        ctx.secret_arn,
        ctx.region,
        ctx.settings,
        ctx.transport,
        ctx.deadline,
        user_agent=ctx.user_agent,
        now=ctx.now,
        record=ctx.record,
    )


def _end_rotation(ctx: StepContext, publication: Publication) -> None:
    """The rotation ends with AWSPENDING on no version (one of the two states AWS allows), so that
    a later write that moves AWSCURRENT (a refresh, another tool) cannot leave it stale.

    Beside AWSCURRENT, AWSPENDING is a state AWS allows, so failing to remove it only logs. On a
    version that is not AWSCURRENT it would block every rotation: the step then fails, and
    Secrets Manager's retry of finishSecret finds the credential published and removes it.
    """
    if publication.version_id != ctx.event.token:
        _drop_pending(ctx)
        return
    try:
        _drop_pending(ctx)
    except RotatorError as error:
        logger.warning(
            "rotation published, but AWSPENDING could not be removed from its version",
            extra={
                "event": "pending_cleanup_failed",
                "secret_arn": ctx.secret_arn,
                "version_id": ctx.event.token,
                "reason": str(error),
                "fix": REPAIR_HINT.format(secret=ctx.secret_arn),
            },
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
    record: RunRecord | None = None,
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
        rules=metadata.get("RotationRules", {}),
        transport=transport,
        deadline=deadline,
        user_agent=user_agent,
        now=now or datetime.now(UTC),
        record=record or RunRecord(),
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

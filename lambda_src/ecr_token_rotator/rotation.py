"""Secrets Manager native rotation: the four steps of the rotation protocol.

Secrets Manager calls the function once per step with the same `ClientRequestToken` (the id of
the new version, which it has already labelled AWSPENDING), and retries a failed step with that
same token. Each step is therefore idempotent: it checks what an earlier attempt already did.

- createSecret: write the new document as the AWSPENDING version (skipped if it has a value).
- setSecret:    nothing to do; ECR tokens are valid the moment ECR issues them.
- testSecret:   check the pending document as kubelet will read it, and run the pull probe.
- finishSecret: move AWSCURRENT to the new version (AWSPREVIOUS follows automatically).

If a rotation is abandoned half-way, AWSPENDING stays on a version that is not AWSCURRENT and
Secrets Manager refuses every later RotateSecret without calling the function; the CLI command
`repair` removes that label (see repair.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import secret_store
from .config import Config, region_of_secret
from .credentials import MINIMUM_TOKEN_LIFETIME, format_timestamp
from .document import read_published_credential
from .errors import ConfigError, RotationStateError
from .probe import RegistryTransport, probe_images
from .refresh import compose_document
from .result import RunResult
from .secret_store import CURRENT, PENDING

logger = logging.getLogger(__name__)

REPAIR_HINT = "python -m ecr_token_rotator repair --secret-id {secret}"


@dataclass(frozen=True)
class RotationEvent:
    secret_id: str
    token: str
    step: str


def parse_rotation_event(event: object) -> RotationEvent | None:
    """A rotation event has `Step`, `SecretId` and `ClientRequestToken`; anything else is None.

    EventBridge scheduled events and a manual `{}` are not rotation events.
    """
    if not isinstance(event, Mapping):
        raise ConfigError(f"unsupported event of type {type(event).__name__}: expected an object")
    if "Step" not in event:
        return None
    fields = {key: event.get(key) for key in ("Step", "SecretId", "ClientRequestToken")}
    missing = [key for key, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise ConfigError(f"rotation event lacks {', '.join(missing)}")
    if fields["Step"] not in STEPS:
        raise ConfigError(
            f"unknown rotation step {fields['Step']!r}; expected one of {', '.join(STEPS)}"
        )
    return RotationEvent(
        secret_id=str(fields["SecretId"]),
        token=str(fields["ClientRequestToken"]),
        step=str(fields["Step"]),
    )


@dataclass(frozen=True)
class StepContext:
    config: Config
    event: RotationEvent
    secret_arn: str
    region: str
    versions: Mapping[str, list[str]]  # version id -> staging labels
    transport: RegistryTransport
    now: datetime

    def pending(self) -> secret_store.StoredDocument:
        return secret_store.read_document(
            self.secret_arn, self.region, pending_version=self.event.token
        )

    def result(
        self,
        expires_at: datetime | None = None,
        registry_hosts: tuple[str, ...] = (),
        *,
        published: bool = False,
    ) -> RunResult:
        return RunResult(
            mode="rotation",
            secret_arn=self.secret_arn,
            version_id=self.event.token,
            step=self.event.step,
            expires_at=expires_at,
            registry_hosts=registry_hosts,
            published=published,
        )


def run_create_secret(ctx: StepContext) -> RunResult:
    if ctx.pending().version_id is not None:
        logger.info(
            "pending version already has a value; nothing to create",
            extra={"event": "create_skipped", "secret_arn": ctx.secret_arn},
        )
        return ctx.result()
    current = secret_store.read_document(ctx.secret_arn, ctx.region)
    new = compose_document(ctx.config, current.document, ctx.now)
    secret_store.write_document(
        ctx.secret_arn,
        ctx.region,
        new.document,
        client_request_token=ctx.event.token,
        stages=(PENDING,),
    )
    logger.info(
        "pending version written",
        extra={
            "event": "pending_written",
            "secret_arn": ctx.secret_arn,
            "version_id": ctx.event.token,
            "registry_hosts": list(new.registry_hosts),
            "expires_at": format_timestamp(new.expires_at),
        },
    )
    return ctx.result(expires_at=new.expires_at, registry_hosts=new.registry_hosts)


def run_set_secret(ctx: StepContext) -> RunResult:
    logger.info(
        "nothing to set: an ECR token is valid as soon as ECR issues it",
        extra={"event": "set_skipped", "secret_arn": ctx.secret_arn},
    )
    return ctx.result()


def _pending_document(ctx: StepContext) -> dict[str, Any]:
    pending = ctx.pending()
    if pending.version_id is None:
        raise RotationStateError(
            f"version {ctx.event.token} of {ctx.secret_arn} has no value: createSecret did not "
            "complete; Secrets Manager will retry the rotation"
        )
    return pending.document


def run_test_secret(ctx: StepContext) -> RunResult:
    where = f"secret {ctx.secret_arn} (AWSPENDING {ctx.event.token})"
    document = _pending_document(ctx)
    published = read_published_credential(document, where)
    if published.expires_at - ctx.now < MINIMUM_TOKEN_LIFETIME:
        raise RotationStateError(
            f"{where} expires at {format_timestamp(published.expires_at)}, too soon to publish"
        )
    if ctx.config.probe_images:
        probe_images(ctx.config.probe_images, published.auths, ctx.transport)
    logger.info(
        "pending version tested",
        extra={"event": "pending_tested", "secret_arn": ctx.secret_arn},
    )
    return ctx.result(expires_at=published.expires_at, registry_hosts=tuple(published.auths))


def run_finish_secret(ctx: StepContext) -> RunResult:
    published = read_published_credential(
        _pending_document(ctx), f"secret {ctx.secret_arn} (AWSPENDING {ctx.event.token})"
    )
    current = next((v for v, stages in ctx.versions.items() if CURRENT in stages), None)
    if current != ctx.event.token:
        secret_store.move_stage(
            ctx.secret_arn, ctx.region, CURRENT, move_to=ctx.event.token, remove_from=current
        )
    # Also on a retry whose first attempt moved the label but lost the answer: the metric of
    # this rotation has not been emitted yet.
    logger.info(
        "rotation finished",
        extra={
            "event": "rotation_finished",
            "secret_arn": ctx.secret_arn,
            "version_id": ctx.event.token,
            "previous_version_id": current if current != ctx.event.token else None,
        },
    )
    return ctx.result(
        expires_at=published.expires_at, registry_hosts=tuple(published.auths), published=True
    )


STEPS: dict[str, Callable[[StepContext], RunResult]] = {
    "createSecret": run_create_secret,
    "setSecret": run_set_secret,
    "testSecret": run_test_secret,
    "finishSecret": run_finish_secret,
}


def _check_own_secret(config: Config, metadata: Mapping[str, Any], requested: str) -> None:
    """The function rotates the one secret it is configured (and permitted) for."""
    if config.secret_id not in (metadata.get("ARN"), metadata.get("Name")):
        raise RotationStateError(
            f"asked to rotate {requested}, but this function is configured for "
            f"{config.secret_id} (SECRET_ID); point the secret's rotation at its own function"
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
    config: Config,
    transport: RegistryTransport,
    now: datetime | None = None,
) -> RunResult:
    region = region_of_secret(event.secret_id, config.home_region)
    metadata = secret_store.describe(event.secret_id, region)
    _check_own_secret(config, metadata, event.secret_id)
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
    if stages is None:
        raise RotationStateError(
            f"version {event.token} of {secret_arn} has no stage for rotation; start rotations "
            "with RotateSecret, not by invoking the function by hand"
        )
    ctx = StepContext(
        config=config,
        event=event,
        secret_arn=secret_arn,
        region=region,
        versions=versions,
        transport=transport,
        now=now or datetime.now(UTC),
    )
    # AWSCURRENT and AWSPENDING together on this version: finishSecret moved the label, and
    # Secrets Manager is retrying it (the answer was lost); run it again to report the success.
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

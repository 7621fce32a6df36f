"""Scheduled or manual refresh: the publishing steps (publish.py) in one invocation.

API calls per run: GetSecretValue (of the function's own label, which is normally on AWSCURRENT
too) while GetAuthorizationToken runs in every region (and ECR Public's in us-east-1 when it is
on), then PutSecretValue and UpdateSecretVersionStage (the compare-and-swap; the secret's first
value needs no move). Nothing is published unless every region's token was obtained and every
probe image pulled; a failed run leaves AWSCURRENT where it was. A run that failed after writing
its version leaves it under the function's label, and the next attempt (Lambda's retry of the
event, the apply-time loop below) publishes that version instead of writing another, while it is
about as fresh (publish.reusable); a run that finds AWSCURRENT fresher than what it fetched ends
superseded, writing nothing.

Terraform's apply-time invocation (`{"invoked_by": "terraform-apply"}`) runs right after the role
and its policy were created, and IAM changes take a while to reach every AWS endpoint: for that
event alone, an AccessDenied anywhere in the refresh is retried with backoff for as long as the
invocation's deadline allows, each wait logged, before the run fails naming the denied action.
Each attempt reads the function's label first, so an attempt that wrote its version and was then
denied the move leaves that version to the next attempt, which only moves AWSCURRENT to it.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .config import Settings
from .credentials import format_timestamp
from .deadline import Deadline
from .document import Credential, credential_from_entries, registry_entries
from .errors import PermissionDeniedError, RotatorError
from .publish import Publication, publish, read_and_fetch, reusable, verify
from .result import RunRecord, RunResult

if TYPE_CHECKING:
    from .probe import RegistryTransport

logger = logging.getLogger(__name__)

FIRST_IAM_WAIT_SECONDS = 1.0
MAX_IAM_WAIT_SECONDS = 8.0


def publish_fresh_credential(
    secret_id: str,
    region: str,
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str,
    now: datetime,
    record: RunRecord,
) -> tuple[Publication, Credential]:
    """Fetch, verify and probe fresh tokens and publish them (or the version an earlier attempt
    wrote with tokens about as fresh) with the compare-and-swap: a refresh, and rotation's
    finishSecret when the pending credential is too old to publish."""
    state, region_credentials = read_and_fetch(
        secret_id,
        region,
        settings.regions,
        settings.hosts,
        now=now,
        deadline=deadline,
        record=record,
    )
    fresh = credential_from_entries(
        registry_entries(region_credentials, settings.registry_ids, settings.hosts)
    )
    verify(
        fresh,
        f"new value for {secret_id}",
        now,
        deadline,
        images=settings.probe_images,
        transport=transport,
        user_agent=user_agent,
        names=settings.names,
    )
    earlier = reusable(state, fresh, record, now)
    if earlier is None:
        return publish(secret_id, region, fresh, state.current, deadline, record=record), fresh
    credential, prepared = earlier
    verify(credential, f"version {prepared.version_id} of {secret_id}", now, deadline)
    logger.info(
        "an earlier attempt wrote a version and did not publish it: publishing it instead of "
        "writing another",
        extra={
            "event": "version_reused",
            "secret_id": secret_id,
            "version_id": prepared.version_id,
            "expires_at": format_timestamp(credential.expires_at),
        },
    )
    publication = publish(
        secret_id, region, credential, state.current, deadline, prepared=prepared, record=record
    )
    return publication, credential


def refresh_secret(
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str = "",
    now: datetime | None = None,
    record: RunRecord | None = None,
) -> RunResult:
    # One worker runs the refresh's dependent steps (deadline.py: Deadline.chain).
    publication, credential = deadline.chain(
        "the refresh",
        functools.partial(
            publish_fresh_credential,
            settings.secret_id,
            settings.secret_region,
            settings,
            transport,
            deadline,
            user_agent=user_agent,
            now=now or datetime.now(UTC),
            record=record or RunRecord(),
        ),
    )
    if not publication.superseded:
        logger.info(
            "secret published",
            extra={
                "event": "secret_published",
                "secret_arn": publication.secret_arn,
                "version_id": publication.version_id,
                "previous_version_id": publication.replaced_version_id,
                "attempts": publication.attempts,
            },
        )
    return RunResult(
        mode="schedule",
        secret_arn=publication.secret_arn,
        version_id=publication.version_id,
        expires_at=publication.expires_at,
        registry_hosts=credential.registry_hosts,
        published=not publication.superseded,
    )


def refresh_during_apply(
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str = "",
    now: datetime | None = None,
    record: RunRecord | None = None,
) -> RunResult:
    """A refresh that treats AccessDenied as IAM propagation still in progress, within the
    deadline: a new attempt is started only while one AWS call's worst case fits after the wait."""
    waited = 0.0
    wait = FIRST_IAM_WAIT_SECONDS
    attempt = 1
    while True:
        try:
            return refresh_secret(
                settings, transport, deadline, user_agent=user_agent, now=now, record=record
            )
        except RotatorError as error:
            if error.denied_action is None:
                raise
            if deadline.remaining() - wait < deadline.policy.worst_case:
                final = PermissionDeniedError(
                    f"{error.denied_action} was still denied after waiting {waited:.0f} s "
                    f"({attempt} attempt(s)) for IAM changes to take effect during terraform "
                    f"apply: {error}",
                    action=error.denied_action,
                )
                final.step = error.step
                raise final from error
            logger.warning(
                "access denied during terraform apply: waiting for IAM changes to propagate",
                extra={
                    "event": "iam_propagation_wait",
                    "attempt": attempt,
                    "denied_action": error.denied_action,
                    "wait_seconds": wait,
                },
            )
            deadline.sleep(wait)
            waited += wait
            wait = min(wait * 2, MAX_IAM_WAIT_SECONDS)
            attempt += 1

"""Scheduled or manual refresh: the publishing steps (publish.py) in one invocation.

API calls per run: GetSecretValue while GetAuthorizationToken runs in every region (and ECR
Public's in us-east-1 when it is on), then
PutSecretValue and UpdateSecretVersionStage (the compare-and-swap; the secret's first value needs
no move). Nothing is published unless every region's token was obtained and every probe image
pulled; a failed run leaves AWSCURRENT where it was.

Terraform's apply-time invocation (`{"invoked_by": "terraform-apply"}`) runs right after the role
and its policy were created, and IAM changes take a while to reach every AWS endpoint: for that
event alone, an AccessDenied anywhere in the refresh is retried with backoff for as long as the
invocation's deadline allows, each wait logged, before the run fails naming the denied action.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .config import Settings
from .deadline import Deadline
from .document import credential_from_entries, registry_entries
from .errors import PermissionDeniedError, RotatorError
from .publish import publish, read_and_fetch, verify
from .result import RunResult

if TYPE_CHECKING:
    from .probe import RegistryTransport

logger = logging.getLogger(__name__)

FIRST_IAM_WAIT_SECONDS = 1.0
MAX_IAM_WAIT_SECONDS = 8.0


def refresh_secret(
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str = "",
    now: datetime | None = None,
) -> RunResult:
    now = now or datetime.now(UTC)
    region = settings.secret_region
    current, region_credentials = read_and_fetch(
        settings.secret_id, region, settings.regions, settings.hosts, now=now, deadline=deadline
    )
    credential = credential_from_entries(
        registry_entries(region_credentials, settings.registry_ids, settings.hosts)
    )
    verify(
        credential,
        f"new value for {settings.secret_id}",
        now,
        deadline,
        images=settings.probe_images,
        transport=transport,
        user_agent=user_agent,
        names=settings.names,
    )
    publication = publish(settings.secret_id, region, credential, current, deadline)
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
        expires_at=credential.expires_at,
        registry_hosts=credential.registry_hosts,
        published=not publication.superseded,
    )


def refresh_during_apply(
    settings: Settings,
    transport: RegistryTransport | None,
    deadline: Deadline,
    *,
    user_agent: str = "",
) -> RunResult:
    """A refresh that treats AccessDenied as IAM propagation still in progress, within the
    deadline: a new attempt is started only while one AWS call's worst case fits after the wait."""
    waited = 0.0
    wait = FIRST_IAM_WAIT_SECONDS
    attempt = 1
    while True:
        try:
            return refresh_secret(settings, transport, deadline, user_agent=user_agent)
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

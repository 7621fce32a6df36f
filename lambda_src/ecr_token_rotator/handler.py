"""AWS Lambda entry point: `ecr_token_rotator.handler.lambda_handler`.

One function, two triggers: an EventBridge schedule (or a manual invoke with `{}`) refreshes the
secret; a Secrets Manager rotation event (`Step`, `SecretId`, `ClientRequestToken`) runs one step
of native rotation; Terraform's apply-time invocation (`{"invoked_by": "terraform-apply"}`) is a
refresh that waits out IAM propagation (events.py). Every run ends before the invocation's
timeout, with `run_failed` naming the step it was waiting for when it fails (deadline.py).
"""

from __future__ import annotations

import functools
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import aws
from .config import ENVIRONMENT_VARIABLES, Settings, settings_from_environment
from .deadline import Deadline
from .errors import REPAIR_HINT, RotatorError
from .events import RefreshRequest, parse_event
from .observability import configure_logging, emit_metric, failure_fields
from .refresh import refresh_during_apply, refresh_secret
from .result import RunRecord

if TYPE_CHECKING:
    from .probe import RegistryTransport

logger = logging.getLogger(__name__)

# Made on the first probe and kept, so a warm container reuses its TLS context; tests swap in a
# loopback transport.
registry_transport: RegistryTransport | None = None


def _transport() -> RegistryTransport:
    global registry_transport  # noqa: PLW0603 - the process-wide cache is the point
    if registry_transport is None:
        from .probe import HttpsTransport  # noqa: PLC0415 - only runs that probe need it

        registry_transport = HttpsTransport(ca_bundle=aws.ca_bundle)
    return registry_transport


@functools.lru_cache(maxsize=4)
def _settings(values: tuple[str | None, ...]) -> Settings:
    """The settings of these ENVIRONMENT_VARIABLES values. A warm container's environment never
    changes, so they are parsed once (a failure is not cached: a bad value fails every run)."""
    environ = {
        name: value
        for name, value in zip(ENVIRONMENT_VARIABLES, values, strict=True)
        if value is not None
    }
    return settings_from_environment(
        environ, aws.partitions(), botocore_version=aws.botocore_version()
    )


def lambda_handler(event: object, context: object) -> dict[str, Any]:
    deadline = Deadline.for_invocation(context)
    configure_logging("INFO")
    secret_id: str | None = None
    record = RunRecord()  # what AWSCURRENT holds, for the metric of every run that read it
    try:
        settings = _settings(tuple(map(os.environ.get, ENVIRONMENT_VARIABLES)))
        secret_id = settings.secret_id
        configure_logging(settings.log_level)
        request = parse_event(event)
        transport = _transport() if settings.probe_images else None
        agent = aws.USER_AGENT
        if not isinstance(request, RefreshRequest):
            from .rotation import rotate  # noqa: PLC0415 - scheduled runs never load it

            result = rotate(request, settings, transport, deadline, user_agent=agent, record=record)
        elif request.during_apply:
            result = refresh_during_apply(
                settings, transport, deadline, user_agent=agent, record=record
            )
        else:
            result = refresh_secret(settings, transport, deadline, user_agent=agent, record=record)
    except RotatorError as e:
        _log_failure(e, event, secret_id, deadline)
        _emit_metric(record, context, secret_id, published=False)
        raise
    _emit_metric(record, context, secret_id, published=result.published)
    response = result.to_response()
    logger.info("run complete", extra={"event": "run_complete", **response})
    return response


def _log_failure(
    error: RotatorError, event: object, secret_id: str | None, deadline: Deadline
) -> None:
    fields = failure_fields(error, deadline.elapsed())
    if isinstance(event, dict) and "Step" in event:
        fields.update(step=event.get("Step"), version_id=event.get("ClientRequestToken"))
        # A step that keeps failing leaves AWSPENDING behind once Secrets Manager gives up.
        rotated = event.get("SecretId")
        secret = rotated if isinstance(rotated, str) and rotated else secret_id
        if secret:
            fields["fix_if_rotation_stays_stuck"] = REPAIR_HINT.format(secret=secret)
    # The message says what to do; Lambda adds the traceback to the invocation error.
    logger.error("run failed: %s", error, extra=fields)


def _emit_metric(
    record: RunRecord, context: object, secret_id: str | None, *, published: bool
) -> None:
    seconds = record.seconds_to_expiry(datetime.now(UTC))
    if seconds is None:  # AWSCURRENT was never read: no datapoint (the alarm counts it breaching)
        return
    function_name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME", "local"
    )
    emit_metric(
        function_name=function_name,
        secret_arn=record.secret_arn or secret_id or "",
        seconds_to_expiry=seconds,
        published=published,
    )

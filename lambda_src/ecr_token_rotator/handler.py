"""AWS Lambda entry point: `ecr_token_rotator.handler.lambda_handler`.

One function, two triggers: an EventBridge schedule (or a manual invoke with `{}`) refreshes the
secret in place; a Secrets Manager rotation event (`Step`, `SecretId`, `ClientRequestToken`) runs
one step of native rotation.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from .config import config_from_environment
from .errors import RotatorError
from .observability import configure_logging, emit_success_metric
from .probe import HttpsTransport, RegistryTransport
from .refresh import refresh_secret
from .result import RunResult
from .rotation import REPAIR_HINT, parse_rotation_event, rotate

logger = logging.getLogger(__name__)

# Module level so a warm container reuses its TLS context (made on the first probe); tests swap
# in a loopback transport.
registry_transport: RegistryTransport = HttpsTransport()


def lambda_handler(event: object, context: object) -> dict[str, Any]:
    configure_logging("INFO")
    try:
        config = config_from_environment(os.environ)
        configure_logging(config.log_level)
        rotation_event = parse_rotation_event(event)
        if rotation_event is None:
            result = refresh_secret(config, registry_transport)
        else:
            result = rotate(rotation_event, config, registry_transport)
    except RotatorError as e:
        fields: dict[str, Any] = {"event": "run_failed", "error_type": type(e).__name__}
        if isinstance(event, dict) and "Step" in event:
            fields.update(
                step=event.get("Step"),
                version_id=event.get("ClientRequestToken"),
                # A step that keeps failing leaves AWSPENDING behind once Secrets Manager gives up.
                fix_if_rotation_stays_stuck=REPAIR_HINT.format(secret=event.get("SecretId")),
            )
        # The message says what to do; Lambda adds the traceback to the invocation error.
        logger.error("run failed: %s", e, extra=fields)  # noqa: TRY400
        raise
    if result.published:
        _emit_metric(result, context)
    logger.info("run complete", extra={"event": "run_complete", **result.to_response()})
    return result.to_response()


def _emit_metric(result: RunResult, context: object) -> None:
    function_name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME", "local"
    )
    seconds = 0
    if result.expires_at:
        seconds = max(0, int((result.expires_at - datetime.now(UTC)).total_seconds()))
    emit_success_metric(
        function_name=function_name, secret_arn=result.secret_arn, seconds_to_expiry=seconds
    )

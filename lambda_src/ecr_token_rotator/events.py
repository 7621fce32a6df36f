"""What the function was invoked for (pure: no AWS calls).

- A Secrets Manager rotation event (`Step`, `SecretId`, `ClientRequestToken`): one rotation step.
- Terraform's apply-time invocation, whose payload is exactly `{"invoked_by": "terraform-apply"}`:
  a refresh that may meet a role whose new policy has not reached every AWS endpoint yet, so an
  AccessDenied is retried for as long as the invocation allows (see refresh.py).
- Anything else (a manual `{}`, an EventBridge scheduled event, any other object): a refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from .errors import ConfigError

ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
TERRAFORM_APPLY_EVENT = {"invoked_by": "terraform-apply"}


class RefreshRequest(NamedTuple):
    during_apply: bool  # Terraform's apply-time invocation


class RotationEvent(NamedTuple):
    secret_id: str
    token: str
    step: str


def parse_event(event: object) -> RefreshRequest | RotationEvent:
    if not isinstance(event, Mapping):
        raise ConfigError(f"unsupported event of type {type(event).__name__}: expected an object")
    if "Step" not in event:
        return RefreshRequest(during_apply=dict(event) == TERRAFORM_APPLY_EVENT)
    fields = {key: event.get(key) for key in ("Step", "SecretId", "ClientRequestToken")}
    missing = [key for key, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise ConfigError(f"rotation event lacks {', '.join(missing)}")
    if fields["Step"] not in ROTATION_STEPS:
        raise ConfigError(
            f"unknown rotation step {fields['Step']!r}; expected one of {', '.join(ROTATION_STEPS)}"
        )
    return RotationEvent(
        secret_id=str(fields["SecretId"]),
        token=str(fields["ClientRequestToken"]),
        step=str(fields["Step"]),
    )

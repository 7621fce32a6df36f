"""What a run reports: returned to the caller, logged, and stored by Terraform's
`aws_lambda_invocation` in state, so it never holds a token, password or `auth` value."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from .credentials import format_timestamp


class RunResult(NamedTuple):
    mode: str  # "schedule" or "rotation"
    secret_arn: str
    version_id: str
    expires_at: datetime | None = None
    registry_hosts: tuple[str, ...] = ()
    step: str | None = None
    published: bool = False  # True when a new credential became AWSCURRENT in this run

    def to_response(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            "mode": self.mode,
            "secret_arn": self.secret_arn,
            "version_id": self.version_id,
            "published": self.published,
        }
        if self.step:
            response["step"] = self.step
        if self.expires_at:
            response["expires_at"] = format_timestamp(self.expires_at)
        if self.registry_hosts:
            response["registry_hosts"] = list(self.registry_hosts)
        return response

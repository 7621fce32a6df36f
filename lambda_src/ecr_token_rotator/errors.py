"""Errors that end a run. Each message names what failed and tells the operator what to do.

No message may contain a token, password or docker `auth` value: messages reach CloudWatch Logs,
Lambda's error result, async-invoke destinations and Terraform state.

A failed run never moves AWSCURRENT: clusters keep the credential they had. (A run that failed
after writing its new version leaves that version under the function's own label only: the next
attempt publishes it, or the next write takes the label away; Secrets Manager deletes versions
without labels.)
"""

from __future__ import annotations

# The CLI command that removes a stale AWSPENDING label (repair.py), as logs and errors quote it.
REPAIR_HINT = "python -m ecr_token_rotator repair --secret-id {secret}"


class RotatorError(Exception):
    """A run that must fail without publishing anything."""

    # The AWS call (or probe) the run was waiting for when it failed: logged as `waiting_for`.
    step: str | None = None
    # The IAM action that was denied, when AWS or the registry answered AccessDenied.
    denied_action: str | None = None


class ConfigError(RotatorError):
    """A configuration value (environment variable or CLI flag) is missing or malformed."""


class SecretError(RotatorError):
    """The secret is missing, unreadable, or its value cannot be used as a document."""


class UnusableValueError(SecretError):
    """A stored value the function cannot use: binary, not a JSON object, or an incomplete,
    inconsistent or expiring credential."""


class SecretTooLargeError(SecretError):
    """The new value would exceed Secrets Manager's limit for a secret value."""


class PublishConflictError(SecretError):
    """AWSCURRENT kept moving while the run was publishing (other writers at the same time)."""


class PermissionDeniedError(RotatorError):
    """AWS refused a call; the message names the IAM action the function's role lacks."""

    def __init__(self, message: str, *, action: str) -> None:
        super().__init__(message)
        self.denied_action = action


class EcrTokenError(RotatorError):
    """ECR did not return a usable authorization token for a region."""


class ProbeError(RotatorError):
    """The new credential could not fetch a probe image's manifest."""


class RotationStateError(RotatorError):
    """A Secrets Manager rotation event does not match the secret's version stages."""


class DeadlineError(RotatorError):
    """The invocation's remaining time is too short for the next AWS call."""

"""Errors that end a run. Each message names what failed and tells the operator what to do.

No message may contain a token, password or docker `auth` value: messages reach CloudWatch Logs,
Lambda's error result, async-invoke destinations and Terraform state.
"""


class RotatorError(Exception):
    """A run that must fail without changing the secret."""


class ConfigError(RotatorError):
    """A configuration value (environment variable or CLI flag) is missing or malformed."""


class SecretError(RotatorError):
    """The secret is missing, unreadable, or its value cannot be used as a document."""


class PermissionDeniedError(RotatorError):
    """AWS refused a call; the message names the IAM action the function's role lacks."""


class EcrTokenError(RotatorError):
    """ECR did not return a usable authorization token for a region."""


class ProbeError(RotatorError):
    """The new credential could not fetch a probe image's manifest."""


class RotationStateError(RotatorError):
    """A Secrets Manager rotation event does not match the secret's version stages."""

"""What a run reports: returned to the caller, logged, and stored by Terraform's
`aws_lambda_invocation` in state, so it never holds a token, password or `auth` value; and what
an invocation saw of the secret and wrote to it (`RunRecord`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from .credentials import format_timestamp
from .document import read_credential
from .errors import UnusableValueError

if TYPE_CHECKING:
    from .document import Credential, Document
    from .secret_store import StoredDocument


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


class RunRecord:
    """What one invocation saw of the secret and wrote to it, across all its attempts.

    - What AWSCURRENT holds, as far as the invocation has seen: each read of AWSCURRENT and each
      publication updates it, so that a run that fails after reading the secret still knows what
      the clusters get (the metric `TokenSecondsToExpiry` reports it for published, superseded
      and failed runs alike).
    - The versions it wrote (`written`): an attempt that failed after its write has ended, so a
      later attempt of the same invocation may publish that version however young it is.

    Holds a document, never shows it.
    """

    __slots__ = ("_document", "_expires_at", "secret_arn", "seen", "written")

    def __init__(self) -> None:
        self.seen = False  # AWSCURRENT was read (or written) by the run
        self.secret_arn: str | None = None
        self._document: Document | None = None  # read, not yet checked
        self._expires_at: datetime | None = None
        self.written: set[str] = set()  # version ids

    def __repr__(self) -> str:
        return (
            f"RunRecord(seen={self.seen!r}, secret_arn={self.secret_arn!r}, "
            f"written={sorted(self.written)!r})"
        )

    def saw(self, current: StoredDocument) -> None:
        """AWSCURRENT as read (a secret without a value reads as an empty document)."""
        self.seen = True
        self.secret_arn = current.arn or self.secret_arn
        self._document, self._expires_at = current.document, None

    def saw_unusable(self) -> None:
        """AWSCURRENT was read and holds a value that is no JSON object at all."""
        self.seen = True
        self._document = self._expires_at = None

    def published(self, secret_arn: str, credential: Credential) -> None:
        self.seen = True
        self.secret_arn = secret_arn
        self._document, self._expires_at = None, credential.expires_at

    def expires_at(self) -> datetime | None:
        """When what AWSCURRENT holds expires; None when it holds no usable credential (a value of
        another tool, a malformed one, none) or was never read."""
        if self._document is not None:
            try:
                self._expires_at = read_credential(self._document.values, "AWSCURRENT").expires_at
            except UnusableValueError:
                self._expires_at = None
            self._document = None
        return self._expires_at

    def seconds_to_expiry(self, now: datetime) -> int | None:
        """Whole seconds left (0 for no usable credential), or None when AWSCURRENT was never read:
        then the run reports no datapoint, which the alarm treats as breaching."""
        if not self.seen:
            return None
        expires_at = self.expires_at()
        if expires_at is None:
            return 0
        return max(0, int((expires_at - now).total_seconds()))

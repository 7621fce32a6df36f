"""Moto's ECR tokens, made realistic: a fresh expiry and a distinct password on every call.

Moto always answers GetAuthorizationToken with `expiresAt` in 2015 and the password
`<account>-auth-token`. The function rejects a token that is already expired, so tests, the demo
and the benchmark patch moto's response (in the process that runs moto: in-process `mock_aws` or
`ThreadedMotoServer`) to the lifetime they need, and record every password handed out so tests
can search logs and outputs for them.

Moto also writes `proxyEndpoint` with `amazonaws.com` in every region, where AWS uses the
partition's DNS suffix (`https://<account>.dkr.ecr.cn-north-1.amazonaws.com.cn`, ...): the patch
writes AWS's (from botocore's partitions data, as the function's host table does).
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import botocore.loaders
from moto.ecr.responses import ECRResponse

ECR_TOKEN_LIFETIME = timedelta(hours=12)


@dataclass
class IssuedTokens:
    """What the patched ECR handed out, so tests can look for leaks of it."""

    lifetime: timedelta = ECR_TOKEN_LIFETIME
    malformed_token: str | None = None  # when set, ECR answers with this token instead
    password_length: int = 0  # when set, passwords are padded to it (real ones: 2,700-3,200+)
    passwords: list[str] = field(default_factory=list)
    # What "now" is to the patched ECR: a test that simulates time hands in its clock.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    expiries: list[datetime] = field(default_factory=list)  # expiresAt of each token, in order
    # The expiresAt given with each password (regions' tokens are issued in parallel, so the two
    # lists above need not pair up).
    expiry_of: dict[str, datetime] = field(default_factory=dict)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # The password this thread was issued last: its token's expiresAt comes next.
    _issuing: threading.local = field(default_factory=threading.local)

    def next_password(self, registry_id: str) -> str:
        with self._lock:
            password = f"{registry_id}-auth-token-{next(self._counter):04d}"
            password += "x" * max(0, self.password_length - len(password))
            self.passwords.append(password)
        self._issuing.password = password
        return password

    def next_expiry(self) -> datetime:
        expiry = self.clock() + self.lifetime
        with self._lock:
            self.expiries.append(expiry)
            self.expiry_of[self._issuing.password] = expiry
        return expiry

    def secret_material(self) -> list[str]:
        """Every password, with the base64 forms a token or docker `auth` would carry."""
        material: list[str] = []
        for password in self.passwords:
            encoded = base64.b64encode(f"AWS:{password}".encode()).decode()
            material += [password, encoded, encoded.rstrip("=")]
        return material


def dns_suffix(region: str) -> str:
    """The DNS suffix of the region's partition (botocore's partitions data)."""
    for partition in botocore.loaders.create_loader().load_data("partitions")["partitions"]:
        if re.fullmatch(partition["regionRegex"], region):
            return str(partition["outputs"]["dnsSuffix"])
    raise ValueError(f"no partition for {region}")


@contextmanager
def patched_ecr_tokens(lifetime: timedelta = ECR_TOKEN_LIFETIME) -> Iterator[IssuedTokens]:
    issued = IssuedTokens(lifetime=lifetime)
    original = ECRResponse.get_authorization_token

    def get_authorization_token(self: ECRResponse) -> object:
        result = original(self)
        for item in result.result["authorizationData"]:  # type: ignore[attr-defined]
            registry_id = item["proxyEndpoint"].removeprefix("https://").split(".", 1)[0]
            password = issued.next_password(registry_id)
            item["authorizationToken"] = (
                issued.malformed_token or base64.b64encode(f"AWS:{password}".encode()).decode()
            )
            item["expiresAt"] = issued.next_expiry()
            suffix = dns_suffix(self.region)
            item["proxyEndpoint"] = f"https://{registry_id}.dkr.ecr.{self.region}.{suffix}"
        return result

    ECRResponse.get_authorization_token = get_authorization_token  # type: ignore[method-assign]
    try:
        yield issued
    finally:
        ECRResponse.get_authorization_token = original  # type: ignore[method-assign]

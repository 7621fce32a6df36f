"""Every way a run must fail, as data: the failure tests, the redaction test and the fault suite
all run this one list, so a new failure path is checked for all three by adding it here.

Each scenario starts from a secret that holds a valid document (`SEED_DOCUMENT`, with a password
of its own that must never leak either), breaks one thing, and names the error class and the
words its message must contain. AWSCURRENT must be left as it was (a failure after the new
version was written leaves that version under the function's own label only).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from ecr_token_rotator.deadline import Deadline
from ecr_token_rotator.errors import (
    ConfigError,
    EcrTokenError,
    PermissionDeniedError,
    ProbeError,
    RotatorError,
    SecretError,
    SecretTooLargeError,
)
from ecr_token_rotator.probe import RegistryAnswer
from tests.support.ecr_public import public_ecr
from tests.support.faults import (
    inject_error,
    inject_error_page,
    inject_retryable_error,
    skip_retry_sleeps,
)

if TYPE_CHECKING:
    from tests.conftest import Harness

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
HOST = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"
SEED_PASSWORD = "seed-password-that-must-not-leak"
# The seed password in every form a leak could take (plain, and inside a docker `auth`).
SEED_MATERIAL = (SEED_PASSWORD, base64.b64encode(f"AWS:{SEED_PASSWORD}".encode()).decode())
SEED_DOCUMENT = {
    "registry": HOST,
    "username": "AWS",
    "password": SEED_PASSWORD,
    "team": "platform",
}

# The AWS call settings of an invocation without a Lambda context (the tests' invocations).
DEFAULT_POLICY = Deadline.for_invocation(None).policy

# (harness, secret ARN) -> optional extra check to run after the failed invocation
Setup = Callable[["Harness", str], Callable[[], None] | None]


@dataclass(frozen=True)
class Failure:
    name: str
    setup: Setup
    error: type[RotatorError]
    message: tuple[str, ...] = field(default=())


def _configure(**settings: str) -> Setup:
    def setup(h: Harness, arn: str) -> None:
        h.configure(**{"SECRET_ID": arn, **settings})

    return setup


def _secret_value(value: str | bytes) -> Setup:
    def setup(h: Harness, arn: str) -> None:
        key = "SecretBinary" if isinstance(value, bytes) else "SecretString"
        h.secrets().put_secret_value(SecretId=arn, **{key: value})
        h.configure(SECRET_ID=arn)

    return setup


def _aws_error(service: str, operation: str, code: str, message: str = "injected") -> Setup:
    def setup(h: Harness, arn: str) -> None:
        h.configure(SECRET_ID=arn)
        inject_error(service, REGION, operation, code, message=message)

    return setup


def _missing_secret(h: Harness, arn: str) -> Callable[[], None]:
    h.configure(SECRET_ID="no-such-secret")

    def nothing_created() -> None:
        names = [s["Name"] for s in h.secrets().list_secrets()["SecretList"]]
        assert "no-such-secret" not in names

    return nothing_created


def _throttled(h: Harness, arn: str) -> Callable[[], None]:
    h.configure(SECRET_ID=arn)
    fault = inject_retryable_error("ecr", REGION, "GetAuthorizationToken", "ThrottlingException")
    skip_retry_sleeps(h.monkeypatch)  # keep botocore's attempts, not its waiting

    def retried_by_botocore_then_stopped() -> None:
        assert fault.calls == DEFAULT_POLICY.attempts, fault.calls

    return retried_by_botocore_then_stopped


def _error_page(service: str, operation: str) -> Setup:
    """A proxy or load balancer in the way answers `operation` with an HTML error page."""

    def setup(h: Harness, arn: str) -> None:
        h.configure(SECRET_ID=arn)
        inject_error_page(service, REGION, operation)
        skip_retry_sleeps(h.monkeypatch)  # botocore retries a 500: keep the attempts, not waits

    return setup


def _one_region_denied(h: Harness, arn: str) -> None:
    h.configure(SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2")
    inject_error("ecr", "us-east-1", "GetAuthorizationToken", "AccessDeniedException")


def _token_lifetime(lifetime: timedelta) -> Setup:
    def setup(h: Harness, arn: str) -> None:
        h.configure(SECRET_ID=arn)
        h.issued.lifetime = lifetime

    return setup


def _malformed_token(token: str) -> Setup:
    def setup(h: Harness, arn: str) -> None:
        h.configure(SECRET_ID=arn)
        h.issued.malformed_token = token

    return setup


def _probe_answers(status: int) -> Setup:
    def setup(h: Harness, arn: str) -> None:
        h.configure(SECRET_ID=arn, PROBE_IMAGES=f"{HOST}/team/app:1.0")
        h.stub.state.statuses["team/app"] = status

    return setup


def _probe_unreachable(h: Harness, arn: str) -> None:
    h.configure(SECRET_ID=arn, PROBE_IMAGES=f"{HOST}/team/app:1.0")

    class Refused:
        def request(
            self, method: str, host: str, path: str, headers: object, timeout: float
        ) -> RegistryAnswer:
            raise ConnectionRefusedError(111, "Connection refused")

    h.monkeypatch.setattr("ecr_token_rotator.handler.registry_transport", Refused())


def _accounts(count: int) -> str:
    return ",".join(f"{100000000000 + n}" for n in range(count))


def _too_large_value(h: Harness, arn: str) -> None:
    """The most hosts the module allows (12), real-sized passwords, and other keys that leave no
    room for them: caught by the size check before the write."""
    h.issued.password_length = 3_200  # real ECR passwords: 2,700-3,200+ characters
    h.secrets().put_secret_value(
        SecretId=arn, SecretString=json.dumps({**SEED_DOCUMENT, "notes": "n" * 20_000})
    )
    h.configure(
        SECRET_ID=arn,
        ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2",
        ECR_REGISTRY_IDS=_accounts(4),
    )


def _public_denied(h: Harness, arn: str) -> None:
    h.configure(SECRET_ID=arn, ECR_PUBLIC="true")
    public_ecr(DEFAULT_POLICY, h.issued).fail(
        "AccessDeniedException",
        "User is not authorized to perform: sts:GetServiceBearerToken",
    )


def _replica_secret(h: Harness, arn: str) -> Callable[[], None]:
    """SECRET_ID names a replica: a primary in us-east-1 (holding the seed document too)
    replicated to the function's region. Reading the replica works, writing it does not."""
    primary = h.secrets("us-east-1").create_secret(
        Name="replicated-pull-credential",
        SecretString=json.dumps(SEED_DOCUMENT),
        AddReplicaRegions=[{"Region": REGION}],
    )["ARN"]
    replica = primary.replace(":us-east-1:", f":{REGION}:")
    h.configure(SECRET_ID=replica)
    client = h.secrets("us-east-1")
    before = client.describe_secret(SecretId=primary)["VersionIdsToStages"]

    def the_primary_is_unchanged() -> None:
        assert client.describe_secret(SecretId=primary)["VersionIdsToStages"] == before
        assert (
            json.loads(client.get_secret_value(SecretId=primary)["SecretString"]) == SEED_DOCUMENT
        )

    return the_primary_is_unchanged


KMS_DENIED = "Access to KMS is not allowed"

FAILURES: tuple[Failure, ...] = (
    Failure("secret missing", _missing_secret, SecretError, ("no-such-secret", "does not exist")),
    Failure("value not JSON", _secret_value("registry=x"), SecretError, ("not valid JSON",)),
    Failure(
        "value JSON but not an object", _secret_value("[1, 2]"), SecretError, ("not an object",)
    ),
    Failure("value binary", _secret_value(b"\x00\x01"), SecretError, ("SecretBinary",)),
    Failure(
        "GetSecretValue denied",
        _aws_error("secretsmanager", "GetSecretValue", "AccessDeniedException"),
        PermissionDeniedError,
        ("secretsmanager:GetSecretValue", "ecr-pull-credential"),
    ),
    Failure(
        "PutSecretValue denied",
        _aws_error("secretsmanager", "PutSecretValue", "AccessDeniedException"),
        PermissionDeniedError,
        ("secretsmanager:PutSecretValue",),
    ),
    Failure(
        "GetAuthorizationToken denied",
        _aws_error("ecr", "GetAuthorizationToken", "AccessDeniedException"),
        PermissionDeniedError,
        ("ecr:GetAuthorizationToken", REGION),
    ),
    Failure(
        "UpdateSecretVersionStage denied",
        _aws_error("secretsmanager", "UpdateSecretVersionStage", "AccessDeniedException"),
        PermissionDeniedError,
        ("secretsmanager:UpdateSecretVersionStage",),
    ),
    Failure(
        "KMS decrypt denied",
        _aws_error("secretsmanager", "GetSecretValue", "AccessDeniedException", KMS_DENIED),
        PermissionDeniedError,
        ("kms:Decrypt",),
    ),
    Failure(
        "KMS decryption failure",
        _aws_error("secretsmanager", "GetSecretValue", "DecryptionFailure"),
        SecretError,
        ("DecryptionFailure", "kms:Decrypt"),
    ),
    Failure(
        "KMS encryption failure",
        _aws_error("secretsmanager", "PutSecretValue", "EncryptionFailure"),
        SecretError,
        ("EncryptionFailure", "kms:GenerateDataKey"),
    ),
    Failure(
        "ECR throttling",
        _throttled,
        EcrTokenError,
        ("throttled", REGION, f"{DEFAULT_POLICY.attempts} attempts"),
    ),
    Failure(
        "GetSecretValue answered with an HTML page",
        _error_page("secretsmanager", "GetSecretValue"),
        SecretError,
        ("GetSecretValue", "HTTP 500", "500 Internal Server Error: Internal Server Error The"),
    ),
    Failure(
        "GetAuthorizationToken answered with an HTML page",
        _error_page("ecr", "GetAuthorizationToken"),
        EcrTokenError,
        ("GetAuthorizationToken", REGION, "HTTP 500", "Internal Server Error"),
    ),
    Failure(
        "one region of three denied",
        _one_region_denied,
        PermissionDeniedError,
        ("us-east-1", "ecr:GetAuthorizationToken"),
    ),
    Failure(
        "token already expiring",
        _token_lifetime(timedelta(minutes=10)),
        EcrTokenError,
        ("expires at", REGION, "less than 1 hour after now"),
    ),
    Failure("token not base64", _malformed_token("not base64!"), EcrTokenError, ("base64",)),
    Failure(
        "token without colon",
        _malformed_token("QVdTcGFzc3dvcmQ="),  # base64("AWSpassword")
        EcrTokenError,
        ("user:password",),
    ),
    Failure("probe 401", _probe_answers(401), ProbeError, ("HTTP 401", "ecr:BatchGetImage")),
    Failure("probe 403", _probe_answers(403), ProbeError, ("HTTP 403", "ecr:BatchGetImage")),
    Failure("probe 404", _probe_answers(404), ProbeError, ("HTTP 404", "team/app:1.0")),
    Failure("probe unreachable", _probe_unreachable, ProbeError, ("cannot reach",)),
    Failure(
        "value would exceed 64 KB",
        _too_large_value,
        SecretTooLargeError,
        ("65,536", "12 registry host(s)", "nothing was written"),
    ),
    Failure(
        "more hosts than a secret holds",
        _configure(
            ECR_REGIONS="eu-central-1,us-east-1,ap-southeast-2", ECR_REGISTRY_IDS=_accounts(5)
        ),
        ConfigError,
        ("15 registry hosts", "3 region(s) x 5 registry account(s) x 1 endpoint type(s)"),
    ),
    Failure(
        "endpoint types multiply the hosts",
        _configure(
            ECR_REGIONS="us-east-1,us-west-2",
            ECR_REGISTRY_IDS=_accounts(2),
            ECR_ENDPOINT_TYPES="ipv4,dualstack,fips,dualstack-fips",
            ECR_PUBLIC="true",
        ),
        ConfigError,
        ("18 registry hosts", "x 4 endpoint type(s) + 2 of ECR Public", "ECR_ENDPOINT_TYPES"),
    ),
    Failure(
        "unknown endpoint type",
        _configure(ECR_ENDPOINT_TYPES="ipv4,ipv6,FIPS"),
        ConfigError,
        ("ECR_ENDPOINT_TYPES", "'ipv6', 'FIPS'", "dualstack-fips"),
    ),
    Failure(
        "endpoint type the region does not offer",
        _configure(ECR_ENDPOINT_TYPES="fips"),
        ConfigError,
        ("fips is not offered in eu-central-1", "us-gov-west-1"),
    ),
    Failure(
        "ECR Public outside the aws partition",
        _configure(ECR_PUBLIC="true", ECR_REGIONS="cn-north-1"),
        ConfigError,
        ("ECR_PUBLIC", "cn-north-1 is in aws-cn"),
    ),
    Failure(
        "ECR Public denied",
        _public_denied,
        PermissionDeniedError,
        ("sts:GetServiceBearerToken", "ecr-public:GetAuthorizationToken"),
    ),
    Failure(
        "secret is a replica",
        _replica_secret,
        SecretError,
        ("is a replica", "primary", "secret_arn", "PrimaryRegion", REGION),
    ),
    Failure("bad region", _configure(ECR_REGIONS="eu-central-1,Moon"), ConfigError, ("'Moon'",)),
    Failure("bad registry id", _configure(ECR_REGISTRY_IDS="12345"), ConfigError, ("12345",)),
    Failure(
        "probe image not on ECR",
        _configure(PROBE_IMAGES="docker.io/library/nginx:1"),
        ConfigError,
        ("docker.io/library/nginx:1",),
    ),
    Failure(
        "probe image in unlisted region",
        _configure(PROBE_IMAGES=f"{ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/app:1"),
        ConfigError,
        ("us-west-2", "ECR_REGIONS"),
    ),
    Failure("bad log level", _configure(LOG_LEVEL="LOUD"), ConfigError, ("LOUD",)),
    Failure("bad secret id", _configure(SECRET_ID="arn:aws:s3:::bucket"), ConfigError, ("ARN",)),
)

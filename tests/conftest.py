"""Shared fixtures: fake AWS credentials, moto, realistic ECR tokens, a registry stub, and a
`harness` that sets up a secret and runs the real handler against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.secretsmanager.models import secretsmanager_backends

from ecr_token_rotator import aws, handler
from ecr_token_rotator.config import ENVIRONMENT_VARIABLES
from ecr_token_rotator.publish import WRITE_LABEL
from tests.support.moto_ecr import IssuedTokens, patched_ecr_tokens
from tests.support.registry_stub import RegistryStub, registry_stub
from tests.support.secrets_manager_model import age_version, faithful_versions

# Runs Terraform in the background while the Python tests run: tests/background.py.
pytest_plugins = ["tests.background"]

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "eu-central-1"
# The function's own settings (the module sets them; Lambda sets AWS_REGION).
FUNCTION_ENV = tuple(name for name in ENVIRONMENT_VARIABLES if not name.startswith("AWS_"))


@pytest.fixture(autouse=True)
def fake_aws_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Fake credentials, a fixed region, and none of the developer's AWS settings."""
    empty = tmp_path_factory.mktemp("aws") / "none"
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", *FUNCTION_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    aws.reset_clients()
    yield
    aws.reset_clients()


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws(), faithful_versions():
        yield


@pytest.fixture
def issued_tokens() -> Iterator[IssuedTokens]:
    with patched_ecr_tokens() as issued:
        yield issued


@pytest.fixture
def registry(issued_tokens: IssuedTokens) -> Iterator[RegistryStub]:
    """A registry stub that accepts exactly the credentials the patched ECR issued."""
    with registry_stub() as stub:
        stub.state.authorize = lambda auth: auth in issued_tokens.secret_material()
        yield stub


@dataclass(frozen=True)
class SecretSnapshot:
    current_version_id: str | None
    current_value: str | None
    version_stages: dict[str, list[str]]


class Harness:
    """Creates secrets with the test's own client and runs the real `lambda_handler`."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, issued: IssuedTokens, stub: RegistryStub
    ) -> None:
        self.monkeypatch = monkeypatch
        self.issued = issued
        self.stub = stub
        monkeypatch.setattr(handler, "registry_transport", stub.transport())

    @staticmethod
    def secrets(region: str = REGION) -> Any:
        return boto3.client("secretsmanager", region_name=region)

    def create_secret(
        self, name: str = "ecr-pull-credential", value: str | dict[str, Any] | None = None
    ) -> str:
        request: dict[str, Any] = {"Name": name}
        if value is not None:
            request["SecretString"] = value if isinstance(value, str) else json.dumps(value)
        return str(self.secrets().create_secret(**request)["ARN"])

    def configure(self, **settings: str) -> None:
        """Set the function's environment: configure(SECRET_ID=..., ECR_REGIONS=...)."""
        for name, value in settings.items():
            assert name in FUNCTION_ENV, name
            self.monkeypatch.setenv(name, value)

    def invoke(self, event: Any = None) -> dict[str, Any]:
        return handler.lambda_handler({} if event is None else event, None)

    def snapshot(self, secret_id: str) -> SecretSnapshot:
        client = self.secrets()
        stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
        current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
        value = None
        if current:
            value = client.get_secret_value(SecretId=secret_id).get("SecretString")
        return SecretSnapshot(current, value, {k: sorted(v) for k, v in stages.items()})

    def document(self, secret_id: str, **version: str) -> dict[str, Any]:
        response = self.secrets().get_secret_value(SecretId=secret_id, **version)
        return dict(json.loads(response["SecretString"]))

    def issue_tokens_at(self, hours: float) -> None:
        """ECR issues its tokens from now on as if `hours` from now (their expiry follows)."""
        moment = datetime.now(UTC) + timedelta(hours=hours)
        self.issued.clock = lambda: moment

    def age_unpublished_version(self, secret_id: str, seconds: int = 60) -> str:
        """The version under the function's label, as a retry `seconds` later finds it (Lambda
        retries a failed event a minute later); returns its id."""
        version_id = str(
            self.secrets().get_secret_value(SecretId=secret_id, VersionStage=WRITE_LABEL)[
                "VersionId"
            ]
        )
        backend = secretsmanager_backends[ACCOUNT_ID][REGION]
        age_version(backend, secret_id, version_id, seconds)
        return version_id

    def leave_pending_on_current(self, secret_id: str) -> str:
        """Put AWSPENDING beside AWSCURRENT, where AWS's rotation templates (and older versions
        of the function) end a rotation; returns that version."""
        current = str(self.snapshot(secret_id).current_version_id)
        self.secrets().update_secret_version_stage(
            SecretId=secret_id, VersionStage="AWSPENDING", MoveToVersionId=current
        )
        return current


@pytest.fixture
def harness(
    moto: None,
    issued_tokens: IssuedTokens,
    registry: RegistryStub,
    monkeypatch: pytest.MonkeyPatch,
) -> Harness:
    return Harness(monkeypatch, issued_tokens, registry)

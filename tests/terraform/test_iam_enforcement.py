"""The role's actions for the function's own AWS calls are sufficient and necessary.

The actions come from the policy JSON Terraform renders for the module (tests/terraform/
policies.py: an offline plan), not from a list in this test. The real handler runs as an IAM user
holding exactly those actions under moto's IAM enforcement (`enable_iam_authentication`, i.e.
INITIAL_NO_AUTH_ACTION_COUNT = 0): it must succeed, and fail with a message naming the action
when any single one is removed. And the first `apply`: with the payload Terraform plans for the
apply-time invocation, the handler waits until the role's policy is effective. Skipped where
terraform or the offline provider is absent.

Moto matches actions but not resource ARNs (a resource-scoped statement would never match), so
the user's policy grants the actions on "*"; resource scoping is asserted on the rendered JSON in
tests/terraform/iam.tftest.hcl. Actions used by others with the role's credentials (logs by the
Lambda runtime, KMS by Secrets Manager, ECR pulls by kubelet, network interfaces by the Lambda
service) are not called by the function's code and are also asserted there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from ecr_token_rotator import aws, handler
from ecr_token_rotator import deadline as deadline_module
from ecr_token_rotator.errors import PermissionDeniedError
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import SEED_DOCUMENT
from tests.support.secrets_manager_model import RotationService
from tools.terraform.harness import Unavailable
from tools.terraform.policies import apply_invocation_inputs, function_policies

# Services the function's code calls itself (see lambda_src/ecr_token_rotator/aws.py).
CALLED_BY_THE_CODE = ("secretsmanager:", "ecr:GetAuthorizationToken")
MODES = ("rotation", "schedule")


def _rendered() -> dict[str, dict]:
    try:
        return function_policies()
    except Unavailable:
        return {}


def _as_list(value: str | list[str]) -> list[str]:
    # The provider renders one action as a string, several as a list.
    return [value] if isinstance(value, str) else value


def code_actions(mode: str) -> list[str]:
    policy = _rendered()[mode]
    actions = [
        action
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        if action.startswith(CALLED_BY_THE_CODE)
    ]
    return sorted(set(actions))


# Collected at import: the policies are rendered once per process (a few seconds, offline).
RENDERED = _rendered()
pytestmark = pytest.mark.skipif(
    not RENDERED, reason="needs the policies Terraform renders: terraform or ../shared is absent"
)


def test_the_module_grants_what_each_mode_calls() -> None:
    """Guards the parametrisation below: Terraform renders these actions per mode."""
    assert code_actions("schedule") == [
        "ecr:GetAuthorizationToken",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ]
    assert code_actions("rotation") == [
        "ecr:GetAuthorizationToken",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ]


def grant(user: str, actions: list[str], iam: Any = None) -> None:
    """The user's one inline policy: exactly `actions` (none: no policy yet)."""
    iam = iam or boto3.client("iam", region_name=REGION)
    if not actions:
        return
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    }
    iam.put_user_policy(UserName=user, PolicyName="function", PolicyDocument=json.dumps(policy))


def act_as_user_with(harness: Harness, actions: list[str]) -> str:
    """Create an IAM user allowed exactly `actions`, and make the function use its keys."""
    iam = boto3.client("iam", region_name=REGION)
    user = f"rotator-{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=user)
    grant(user, actions)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    harness.monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    harness.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    harness.monkeypatch.delenv("AWS_SESSION_TOKEN")
    aws.reset_clients()
    return user


def schedule_run(harness: Harness) -> Callable[[], object]:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    return harness.invoke


def rotation_run(harness: Harness) -> Callable[[], object]:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    service = RotationService(ACCOUNT_ID, REGION)
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    token = service.start(arn)
    return lambda: service.run(arn, token, harness.invoke)


RUNS = {"schedule": schedule_run, "rotation": rotation_run}


@pytest.mark.parametrize("mode", MODES)
def test_the_granted_actions_are_sufficient(harness: Harness, mode: str) -> None:
    run = RUNS[mode](harness)
    act_as_user_with(harness, code_actions(mode))
    with enable_iam_authentication():
        run()


@pytest.mark.parametrize(
    ("mode", "missing"),
    [(mode, action) for mode in MODES if RENDERED for action in code_actions(mode)],
)
def test_each_granted_action_is_necessary(harness: Harness, mode: str, missing: str) -> None:
    run = RUNS[mode](harness)
    act_as_user_with(harness, [a for a in code_actions(mode) if a != missing])
    with enable_iam_authentication(), pytest.raises(PermissionDeniedError) as raised:
        run()
    assert missing in str(raised.value)


def administrator() -> Any:
    """An IAM client of a user allowed everything (made before IAM enforcement starts)."""
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="administrator")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(
        UserName="administrator", PolicyName="all", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="administrator")["AccessKey"]
    return boto3.client(
        "iam",
        region_name=REGION,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )


class Propagating:
    """A role's new policy reaching IAM while the function waits: the deadline's clock is
    simulated, and the first time the function sleeps the user's policy becomes `actions`."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, iam: Any, user: str, actions: list[str]
    ) -> None:
        self.now = 1000.0
        self.end = self.now + 60.0  # the module's default lambda_timeout
        self.slept: list[float] = []
        self.iam, self.user, self.actions = iam, user, actions
        monkeypatch.setattr(deadline_module, "monotonic", lambda: self.now)
        monkeypatch.setattr(deadline_module, "sleep", self.sleep)

    def sleep(self, seconds: float) -> None:
        if not self.slept:
            grant(self.user, self.actions, self.iam)
        self.slept.append(seconds)
        self.now += seconds

    def get_remaining_time_in_millis(self) -> int:  # the Lambda context
        return int((self.end - self.now) * 1000)


@pytest.mark.parametrize("mode", MODES)
def test_the_first_apply_waits_out_iam_propagation_with_the_payload_terraform_sends(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The first `apply`: the role exists, its policy is not effective yet. The real handler,
    invoked with the payload Terraform plans for aws_lambda_invocation (in either mode), waits
    until it is and publishes; invoked with a manual {}, it fails at once."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    iam = administrator()
    user = act_as_user_with(harness, [])
    payload = apply_invocation_inputs()[mode]
    with enable_iam_authentication():
        with pytest.raises(PermissionDeniedError):
            handler.lambda_handler({}, Propagating(monkeypatch, iam, user, []))
        context = Propagating(monkeypatch, iam, user, code_actions(mode))
        result = handler.lambda_handler(payload, context)
    assert result["published"] is True
    assert context.slept, "the function waited for the policy"

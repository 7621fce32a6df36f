"""The role's actions for the function's own AWS calls are sufficient and necessary.

The actions come from the policy JSON Terraform renders for the module (tests/terraform/
policies.py: an offline plan), not from a list in this test. The real handler runs as an IAM user
holding exactly those actions under moto's IAM enforcement (`enable_iam_authentication`, i.e.
INITIAL_NO_AUTH_ACTION_COUNT = 0): it must succeed, and fail with a message naming the action
when any single one is removed. Skipped where terraform or the offline provider is absent.

Moto matches actions but not resource ARNs (a resource-scoped statement would never match), so
the user's policy grants the actions on "*"; resource scoping is asserted on the rendered JSON in
tests/terraform/iam.tftest.hcl. Actions used by others with the role's credentials (logs by the
Lambda runtime, KMS by Secrets Manager, ECR pulls by kubelet, network interfaces by the Lambda
service) are not called by the function's code and are also asserted there.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest
from moto.core.authorization import enable_iam_authentication

from ecr_token_rotator import aws
from ecr_token_rotator.errors import PermissionDeniedError
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import SEED_DOCUMENT
from tests.support.secrets_manager_model import RotationService
from tests.terraform.harness import Unavailable
from tests.terraform.policies import function_policies

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


def act_as_user_with(harness: Harness, actions: list[str]) -> None:
    """Create an IAM user allowed exactly `actions`, and make the function use its keys."""
    iam = boto3.client("iam", region_name=REGION)
    user = f"rotator-{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": []}
    if actions:
        policy["Statement"].append({"Effect": "Allow", "Action": actions, "Resource": "*"})
    iam.put_user_policy(UserName=user, PolicyName="function", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    harness.monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    harness.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    harness.monkeypatch.delenv("AWS_SESSION_TOKEN")
    aws.reset_clients()


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

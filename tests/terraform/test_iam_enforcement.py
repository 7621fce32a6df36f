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
service) are not called by the function's code and are also asserted there. What consumers do with
the token's ECR permissions (ecr_pull_through_cache_prefixes, ecr_list_tags) adds no action the
code calls; the ECR API calls standing for them (ListImages for a tool listing tags,
CreateRepository for a cache repository's first pull) succeed exactly when the inputs grant them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core.authorization import enable_iam_authentication

from ecr_token_rotator import aws, handler
from ecr_token_rotator import deadline as deadline_module
from ecr_token_rotator.errors import PermissionDeniedError
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.failures import SEED_DOCUMENT
from tests.support.secrets_manager_model import RotationService
from tools.terraform.harness import Unavailable
from tools.terraform.policies import (
    Combination,
    apply_invocation_inputs,
    function_policies,
    policy_of,
    scheduled_invocation_input,
)

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


def allowed_actions(policy: dict[str, Any], prefixes: tuple[str, ...]) -> list[str]:
    actions = [
        action
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        if action.startswith(prefixes)
    ]
    return sorted(set(actions))


def code_actions(mode: str) -> list[str]:
    return allowed_actions(_rendered()[mode], CALLED_BY_THE_CODE)


# Collected at import: the policies are rendered once per process (a few seconds, offline).
RENDERED = _rendered()
pytestmark = pytest.mark.skipif(
    not RENDERED, reason="needs the policies Terraform renders: terraform or ../shared is absent"
)


def test_the_module_grants_what_each_mode_calls() -> None:
    """Guards the parametrisation below: Terraform renders these actions per mode."""
    assert code_actions("schedule") == [
        "ecr:GetAuthorizationToken",
        "secretsmanager:DescribeSecret",
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
    """The first run on the empty secret the module creates (it tells the secret exists with
    DescribeSecret, then writes the first version), and a second run (the compare-and-swap)."""
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn)

    def first_and_second_refresh() -> object:
        harness.invoke()
        return harness.invoke()

    return first_and_second_refresh


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


def test_a_scheduled_run_is_a_refresh_that_never_waits_for_iam(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payload Terraform plans for the EventBridge Scheduler schedule is a plain refresh: the
    real handler publishes with exactly the granted actions, and without them fails at once,
    without the apply-time invocation's wait for IAM propagation (a scheduled run that waited
    would hold the function for its whole timeout every time a permission is missing)."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn)
    payload = scheduled_invocation_input()
    assert payload != apply_invocation_inputs()["schedule"]
    iam = administrator()
    user = act_as_user_with(harness, [])
    with enable_iam_authentication():
        waiting = Propagating(monkeypatch, iam, user, code_actions("schedule"))
        with pytest.raises(PermissionDeniedError):
            handler.lambda_handler(payload, waiting)
        assert waiting.slept == [], "a scheduled run must not wait for IAM"
        grant(user, code_actions("schedule"), iam)
        result = handler.lambda_handler(payload, Propagating(monkeypatch, iam, user, []))
    assert result["published"] is True


# Schedule mode with ecr_pull_through_cache_prefixes and ecr_list_tags (tools/terraform/policies).
CONSUMERS = Combination("function", "schedule", consumers=True)


@pytest.fixture(scope="module")
def consumers_policy() -> dict[str, Any]:
    return policy_of(CONSUMERS)


def test_what_consumers_do_adds_no_action_the_code_calls(consumers_policy) -> None:
    assert allowed_actions(consumers_policy, CALLED_BY_THE_CODE) == code_actions("schedule")
    added = set(allowed_actions(consumers_policy, ("ecr:",))) - set(
        allowed_actions(RENDERED["schedule"], ("ecr:",))
    )
    assert added == {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:ListImages"}


def consumer_call(ecr: Any, call: str) -> None:
    if call == "list tags":  # Flux semver, Argo CD version ranges, image updaters
        ecr.list_images(repositoryName="team-a/app", filter={"tagStatus": "TAGGED"})
    else:  # the first pull through a cache rule creates the cache's repository
        ecr.create_repository(repositoryName="docker-hub/library/alpine")


@pytest.mark.parametrize("call", ["list tags", "create a cache repository"])
@pytest.mark.parametrize("consumers", [True, False], ids=["granted", "default"])
def test_the_token_holder_may_do_what_the_inputs_grant(
    harness: Harness, consumers_policy, call: str, consumers: bool
) -> None:
    """The token carries the role's ECR permissions: a user holding exactly the ECR actions the
    role's policy has does what a consumer of the token does, or is denied."""
    policy = consumers_policy if consumers else RENDERED["schedule"]
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="team-a/app")
    act_as_user_with(harness, allowed_actions(policy, ("ecr:",)))
    # a session of its own: boto3's default one keeps the credentials it resolved first
    ecr = boto3.session.Session().client("ecr", region_name=REGION)
    with enable_iam_authentication():
        if consumers:
            consumer_call(ecr, call)
        else:
            with pytest.raises(ClientError) as raised:
                consumer_call(ecr, call)
            # AWS answers AccessDeniedException; moto an XML AccessDenied with status 403
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            assert "AccessDenied" in str(raised.value), raised.value

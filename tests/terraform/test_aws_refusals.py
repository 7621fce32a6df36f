"""What a real AWS account refuses, refused at plan with the module's own words.

The offline provider accepts these configurations; AWS would not (a KMS key of another region, a
replica in another partition, readers in other accounts of a replica under aws/secretsmanager,
IAM role names over 64 characters), so the module refuses them at plan. The .tftest.hcl suites
prove that each refusal happens (`expect_failures`); Terraform cannot check the message there, so
here each configuration is planned offline (tools/terraform/harness.py) and its message must name
the input, what is wrong with it and the fix. The sources of each AWS rule are in the comments of
tests/terraform/preconditions.tftest.hcl. Skipped where terraform or ../shared is absent.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests import background
from tests.conftest import ACCOUNT_ID
from tools.terraform.harness import PlannedCalls, Unavailable, plan_module_calls

KEY = f"arn:aws:kms:eu-central-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:ecr-pull-AbCdEf"
READER = "arn:aws:iam::210987654321:role/external-secrets"
# Where each module's preconditions live (module addresses), planned with what they depend on.
TARGETS = (
    "aws_lambda_function.this",
    "aws_secretsmanager_secret_policy.this",
    "aws_iam_role.eso",
    "aws_iam_role.scheduler",
)
QUEUE = f"arn:aws:sqs:eu-central-1:{ACCOUNT_ID}:ecr-token-rotator-dead-letters"


def key_in(region: str) -> str:
    return KEY.replace("eu-central-1", region)


# call -> (module inputs, words the error must contain); every call in eu-central-1
REFUSED: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "a_created_secrets_key_elsewhere": (
        {"secret_kms_key_arn": key_in("us-east-1")},
        (
            "secret_kms_key_arn is a key in us-east-1, and the secret is in eu-central-1 (the "
            "provider's region, where the module creates it)",
            "Use a key in eu-central-1",
        ),
    ),
    "an_existing_secrets_key_elsewhere": (
        {"create_secret": False, "secret_arn": SECRET_ARN, "secret_kms_key_arn": KEY},
        (
            "secret_kms_key_arn is a key in eu-central-1, and the secret is in us-east-1 (the "
            "region of secret_arn)",
            "Use a key in us-east-1",
        ),
    ),
    "a_replicas_key_elsewhere": (
        {
            "secret_replicas": [
                {"region": "eu-west-1", "kms_key_arn": key_in("eu-west-1")},
                {"region": "us-east-1", "kms_key_arn": key_in("us-west-2")},
            ]
        },
        (
            "secret_replicas us-east-1 (kms_key_arn in us-west-2):",
            "a KMS key in the replica's own region",
        ),
    ),
    "a_replica_in_another_partition": (
        {"secret_replicas": [{"region": "cn-north-1"}]},
        ("secret_replicas cn-north-1: not in this provider's partition (aws)",),
    ),
    "readers_and_a_replica_under_the_aws_managed_key": (
        {
            "secret_kms_key_arn": KEY,
            "secret_reader_principal_arns": [READER],
            "secret_replicas": [
                {"region": "eu-west-1", "kms_key_arn": key_in("eu-west-1")},
                {"region": "us-east-1"},
            ],
        },
        (
            "secret_reader_principal_arns: the replicas in us-east-1 are encrypted with the AWS "
            "managed key aws/secretsmanager",
            "Give each of secret_replicas a kms_key_arn",
        ),
    ),
    "a_log_groups_key_elsewhere": (
        {"cloudwatch_log_group_kms_key_arn": key_in("eu-west-1")},
        (
            "cloudwatch_log_group_kms_key_arn is a key in eu-west-1, and the function's log group "
            "is in eu-central-1",
        ),
    ),
    "a_function_role_name_over_64": (
        # (the Scheduler role's default name would be over 64 too: it is the case below)
        {"name": "f" * 52, "scheduler_role_name": "refresh-scheduler"},
        (
            f"The IAM role name {'f' * 52}-eu-central-1 has 65 characters; IAM allows 64",
            "<name>-<region>",
            "set lambda_role_name",
        ),
    ),
    "an_eso_role_name_over_64": (
        {
            "name": "e" * 48,
            "create_eso_role": True,
            "eso_pod_identity": True,
            "scheduler_role_name": "refresh-scheduler",
        },
        (
            f"The IAM role name {'e' * 48}-eso-eu-central-1 has 65 characters",
            "<name>-eso-<region>",
            "set eso_role_name",
        ),
    ),
    "a_scheduler_role_name_over_64": (
        {"name": "s" * 42},
        (
            f"The IAM role name {'s' * 42}-scheduler-eu-central-1 has 65 characters",
            "<name>-scheduler-<region>",
            "set scheduler_role_name",
        ),
    ),
    # EventBridge rules run in UTC and have no dead-letter queue here; in rotation mode Secrets
    # Manager schedules and invokes: the Scheduler-only inputs would be ignored silently.
    "a_time_zone_with_the_rule_engine": (
        {"schedule_engine": "rule", "schedule_timezone": "Europe/Berlin"},
        (
            'schedule_timezone applies to schedule_engine = "scheduler" in schedule mode; an '
            "EventBridge rule runs in UTC only",
            'Remove schedule_timezone, or use schedule_engine = "scheduler"',
        ),
    ),
    "a_dead_letter_queue_in_rotation_mode": (
        {"trigger_mode": "rotation", "schedule_dead_letter_arn": QUEUE},
        (
            'schedule_dead_letter_arn applies to schedule_engine = "scheduler" in schedule mode; '
            "in rotation mode Secrets Manager invokes the function and retries the rotation itself",
            "Remove it;",
        ),
    ),
}


def plan(cases: dict[str, tuple[dict[str, Any], tuple[str, ...]]]) -> PlannedCalls:
    calls = {call: ("eu-central-1", inputs) for call, (inputs, _) in cases.items()}
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-refusals-") as workdir:
        return plan_module_calls(calls, Path(workdir), targets=TARGETS)


background.register("planned_refusals", partial(plan, REFUSED))


@pytest.fixture(scope="session")
def planned_refusals() -> PlannedCalls:
    try:
        (refused,) = background.results("planned_refusals")
    except Unavailable as e:
        pytest.skip(f"terraform plan: {e}")
    return refused


@pytest.mark.parametrize("call", REFUSED)
def test_a_refusal_names_the_input_and_the_fix(planned_refusals: PlannedCalls, call: str) -> None:
    # Terraform's messages do not name the module call: each call's first words are its own.
    first, *more = REFUSED[call][1]
    [message] = [m for m in planned_refusals.errors if first in " ".join(m.split())]
    for words in more:
        assert words in " ".join(message.split())


def test_each_refused_call_fails_for_its_own_reason_only(planned_refusals: PlannedCalls) -> None:
    assert len(planned_refusals.errors) == len(REFUSED), planned_refusals.errors

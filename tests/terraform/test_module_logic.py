"""Preconditions and derived values of the module, evaluated from its HCL for given inputs.

Preconditions hold the cross-variable checks (Terraform 1.5 has no cross-variable validation);
without them these mistakes would surface at apply time, or not at all (a flapping alarm).
"""

from __future__ import annotations

import pytest

from tests.terraform.hcl_policies import ACCOUNT_ID, KMS_KEY_ARN, REGION, module, references

STALENESS = ("aws_cloudwatch_metric_alarm", "staleness")
FUNCTION = ("aws_lambda_function", "this")


def failing(address, variables):
    return module().preconditions("resource", address, variables, references())


def local(name, variables=None, provider_major=6):
    return module().local(name, variables or {}, references(provider_major=provider_major))


# ---- staleness window against the refresh period --------------------------------------------


@pytest.mark.parametrize(
    ("variables", "ok"),
    [
        ({}, True),  # rate(6 hours), window 8 hours
        ({"schedule_expression": "rate(8 hours)"}, False),  # window must be longer than 8 hours
        ({"schedule_expression": "rate(8 hours)", "alarms": {"staleness_window_hours": 9}}, True),
        (
            {"schedule_expression": "rate(30 minutes)", "alarms": {"staleness_window_hours": 1}},
            True,
        ),
        ({"schedule_expression": "rate(1 hour)", "alarms": {"staleness_window_hours": 1}}, False),
        (
            {"schedule_expression": "rate(90 minutes)", "alarms": {"staleness_window_hours": 2}},
            True,
        ),
        ({"trigger_mode": "rotation"}, True),  # rate(6 hours) + 1 hour window < 8
        ({"trigger_mode": "rotation", "rotation_schedule_expression": "rate(7 hours)"}, False),
        (
            {
                "trigger_mode": "rotation",
                "rotation_schedule_expression": "rate(8 hours)",
                "alarms": {"staleness_window_hours": 10},
            },
            True,
        ),
    ],
)
def test_staleness_window_must_exceed_the_refresh_period(variables, ok):
    assert (failing(STALENESS, variables) == []) is ok


def test_refresh_period_in_minutes():
    assert local("refresh_period_minutes") == 360
    assert local("refresh_period_minutes", {"schedule_expression": "rate(1 hour)"}) == 60
    assert local("refresh_period_minutes", {"schedule_expression": "rate(45 minutes)"}) == 45
    rotation = {"trigger_mode": "rotation", "rotation_schedule_expression": "rate(4 hours)"}
    assert local("refresh_period_minutes", rotation) == 300


# ---- the function's preconditions --------------------------------------------------------------


def test_defaults_pass_every_precondition():
    for kind in ("resource", "data"):
        for address in module().labelled(kind):
            assert module().preconditions(kind, address, {}, references()) == [], address


@pytest.mark.parametrize("document", ["function", "eso_read"])
def test_existing_secret_needs_its_arn(document):
    # Checked on the policy documents: the first blocks that use the secret's ARN.
    address = ("aws_iam_policy_document", document)
    refs = references()
    assert module().preconditions("data", address, {"create_secret": False}, refs)
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:pull-AbCdEf"
    variables = {"create_secret": False, "secret_arn": arn}
    assert module().preconditions("data", address, variables, refs) == []


def test_replicas_only_for_a_created_secret():
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:pull-AbCdEf"
    variables = {
        "create_secret": False,
        "secret_arn": arn,
        "secret_replicas": [{"region": "eu-west-1"}],
    }
    assert failing(FUNCTION, variables)


def test_on_failure_destination_only_in_schedule_mode():
    destination = {"on_failure_destination_arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:failures"}
    assert failing(FUNCTION, destination) == []
    assert failing(FUNCTION, {**destination, "trigger_mode": "rotation"})


def test_probe_images_must_be_in_a_covered_registry():
    own = f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/app:latest"
    other_account = f"210987654321.dkr.ecr.{REGION}.amazonaws.com/app:latest"
    other_region = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/app:latest"
    assert failing(FUNCTION, {"probe_images": [own]}) == []
    assert failing(FUNCTION, {"probe_images": [own, other_account]})
    assert failing(FUNCTION, {"probe_images": [other_region]})
    covered = {"ecr_registry_ids": ["210987654321"], "ecr_regions": [REGION, "us-east-1"]}
    assert failing(FUNCTION, {**covered, "probe_images": [other_account]}) == []
    assert failing(FUNCTION, {**covered, "probe_images": [own]})  # own account no longer listed


def test_secret_name_and_prefix_conflict():
    secret = ("aws_secretsmanager_secret", "this")
    assert failing(secret, {"secret_name": "a", "secret_name_prefix": "b-"})
    assert failing(secret, {"secret_name_prefix": "b-"}) == []


def test_cross_account_readers_need_a_customer_managed_key():
    policy = ("aws_secretsmanager_secret_policy", "this")
    readers = {"secret_reader_principal_arns": ["arn:aws:iam::210987654321:role/eso"]}
    messages = failing(policy, readers)
    assert messages
    assert "customer-managed KMS key" in messages[0]
    assert failing(policy, {**readers, "secret_kms_key_arn": KMS_KEY_ARN}) == []


def test_eso_role_needs_a_trust():
    role = ("aws_iam_role", "eso")
    assert failing(role, {"create_eso_role": True})
    assert failing(role, {"create_eso_role": True, "eso_pod_identity": True}) == []
    oidc = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABC"
    assert failing(role, {"create_eso_role": True, "eso_oidc_provider_arn": oidc}) == []


# ---- derived values ----------------------------------------------------------------------------


@pytest.mark.parametrize("provider_major", [5, 6])
def test_region_is_read_on_both_provider_majors(provider_major):
    assert local("region", provider_major=provider_major) == REGION


def test_registry_hosts_default_to_own_account_and_region():
    assert local("registry_hosts") == [f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com"]


def test_registry_hosts_follow_the_functions_order_regions_outer():
    variables = {
        "ecr_regions": ["eu-central-1", "us-east-1"],
        "ecr_registry_ids": ["111111111111", "222222222222"],
    }
    assert local("registry_hosts", variables) == [
        "111111111111.dkr.ecr.eu-central-1.amazonaws.com",
        "222222222222.dkr.ecr.eu-central-1.amazonaws.com",
        "111111111111.dkr.ecr.us-east-1.amazonaws.com",
        "222222222222.dkr.ecr.us-east-1.amazonaws.com",
    ]


def test_environment_omits_empty_optional_settings():
    environment = local("environment")
    assert environment == {
        "SECRET_ID": references()["aws_secretsmanager_secret"]["this"][0]["arn"],
        "LOG_LEVEL": "INFO",
    }


def test_environment_carries_every_setting_of_the_contract():
    variables = {
        "ecr_regions": ["eu-central-1", "us-east-1"],
        "ecr_registry_ids": ["111111111111", "222222222222"],
        "probe_images": ["111111111111.dkr.ecr.eu-central-1.amazonaws.com/app:latest"],
        "log_level": "DEBUG",
    }
    environment = local("environment", variables)
    assert environment["ECR_REGIONS"] == "eu-central-1,us-east-1"
    assert environment["ECR_REGISTRY_IDS"] == "111111111111,222222222222"
    assert (
        environment["PROBE_IMAGES"] == "111111111111.dkr.ecr.eu-central-1.amazonaws.com/app:latest"
    )
    assert environment["LOG_LEVEL"] == "DEBUG"
    assert set(environment) == {
        "SECRET_ID",
        "ECR_REGIONS",
        "ECR_REGISTRY_IDS",
        "PROBE_IMAGES",
        "LOG_LEVEL",
    }


def test_existing_secret_name_and_region_come_from_its_arn():
    arn = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:team/ecr-pull-AbCdEf"
    variables = {"create_secret": False, "secret_arn": arn}
    assert local("secret_arn", variables) == arn
    assert local("secret_name", variables) == "team/ecr-pull"
    assert local("secret_region", variables) == "us-east-1"
    assert local("environment", variables)["SECRET_ID"] == arn


def test_replica_arns_differ_from_the_primary_in_region_only():
    replicas = local("secret_replica_arns", {"secret_replicas": [{"region": "eu-west-1"}]})
    primary = references()["aws_secretsmanager_secret"]["this"][0]["arn"]
    assert replicas == {"eu-west-1": primary.replace(f":{REGION}:", ":eu-west-1:")}


def test_log_level_drives_both_lambda_and_the_function():
    function = module().labelled("resource")[FUNCTION]
    logging_config = function["logging_config"][0]
    assert logging_config["log_format"] == '"JSON"'
    assert logging_config["application_log_level"] == "${var.log_level}"
    assert local("environment", {"log_level": "DEBUG"})["LOG_LEVEL"] == "DEBUG"


def test_the_function_runs_the_packaged_handler():
    function = module().labelled("resource")[FUNCTION]
    assert function["handler"] == '"ecr_token_rotator.handler.lambda_handler"'
    assert function["source_code_hash"] == "${local.lambda_source_code_hash}"
    assert local("lambda_zip_path").endswith("/dist/ecr-token-rotator.zip")
    assert local("lambda_zip_path", {"lambda_zip_path": "build/mine.zip"}) == "build/mine.zip"


def test_staleness_alarm_is_built_on_the_success_metric():
    alarm = module().labelled("resource")[STALENESS]
    assert alarm["metric_name"] == '"RefreshSuccess"'
    assert alarm["namespace"] == "${local.metric_namespace}"
    assert local("metric_namespace") == "ECRTokenRotator"
    assert alarm["statistic"] == '"Sum"'
    assert alarm["comparison_operator"] == '"LessThanThreshold"'
    assert alarm["threshold"] == 1
    assert alarm["treat_missing_data"] == '"breaching"'
    assert set(alarm["dimensions"]) == {"FunctionName"}

"""Variable validations, evaluated from variables.tf: bad values fail at plan, not at apply.

Each case runs the validation blocks exactly as written in the HCL (via hcl_eval), so the test
checks the regexes and numeric conditions the module has, not a copy of them. A condition that
errors instead of returning false would fail these tests too (hcl_eval raises EvalError): in
Terraform that shows an obscure function error instead of the validation message.
"""

from __future__ import annotations

import pytest

from tests.terraform.hcl_policies import module


def accepted(name, value):
    return module().validate(name, value) == []


@pytest.mark.parametrize(
    "expression",
    [
        "rate(6 hours)",
        "rate(30 minutes)",
        "rate(1 hour)",
        "rate(2 hours)",
        "rate(8 hours)",
        "rate(10 minutes)",
        "rate(480 minutes)",
    ],
)
def test_schedule_accepts_rates_from_10_minutes_to_8_hours(expression):
    assert accepted("schedule_expression", expression)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(5 minutes)",  # more often than Secrets Manager's one write per 10 minutes
        "rate(9 minutes)",
        "rate(9 hours)",  # too little room for retries within the 12-hour token lifetime
        "rate(481 minutes)",
        "rate(1 day)",
        "rate(1 hours)",  # AWS requires the singular unit for 1
        "rate(1 minute)",
        "rate(0 hours)",
        "rate(06 hours)",
        "cron(0 */6 * * ? *)",
        "cron(rate(6 hours))",
        "rate(6 hours",
        "rate( 6 hours)",
        "rate(6  hours)",
        "rate(6 Hours)",
        "Rate(6 hours)",
        " rate(6 hours)",
        "rate(6 hours) ",
        "rate(six hours)",
        "6 hours",
        "",
    ],
)
def test_schedule_rejects_everything_else(expression):
    assert not accepted("schedule_expression", expression)


@pytest.mark.parametrize("hours", [4, 5, 6, 7, 8])
def test_rotation_schedule_accepts_4_to_8_hours(hours):
    assert accepted("rotation_schedule_expression", f"rate({hours} hours)")


@pytest.mark.parametrize(
    "expression",
    [
        "rate(3 hours)",  # below Secrets Manager's 4-hour minimum
        "rate(9 hours)",  # 9 + 1 hour of rotation window is too close to the 12-hour expiry
        "rate(1 hour)",
        "rate(240 minutes)",
        "rate(1 day)",
        "cron(0 */6 * * ? *)",
        "rate(6 hours",
        "",
    ],
)
def test_rotation_schedule_rejects_everything_else(expression):
    assert not accepted("rotation_schedule_expression", expression)


@pytest.mark.parametrize(
    "region", ["eu-central-1", "us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"]
)
def test_regions_accept_region_names(region):
    assert accepted("ecr_regions", [region])
    assert accepted("secret_replicas", [{"region": region}])


@pytest.mark.parametrize(
    "region", ["eu-central", "EU-CENTRAL-1", "eu_central_1", "euc1", "eu-central-1a", ""]
)
def test_regions_reject_anything_else(region):
    assert not accepted("ecr_regions", ["eu-central-1", region])
    assert not accepted("secret_replicas", [{"region": region}])


def test_account_ids_are_12_digits():
    assert accepted("ecr_registry_ids", ["123456789012", "210987654321"])
    for bad in [
        "12345678901",
        "1234567890123",
        "12345678901a",
        "arn:aws:iam::123456789012:root",
        "",
    ]:
        assert not accepted("ecr_registry_ids", [bad]), bad


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_log_level_accepts_debug_and_info(level):
    assert accepted("log_level", level)


@pytest.mark.parametrize("level", ["WARNING", "WARN", "ERROR", "info", "TRACE", ""])
def test_log_level_rejects_levels_that_would_drop_the_metric(level):
    messages = module().validate("log_level", level)
    assert messages
    assert "staleness alarm" in messages[0]


def test_runtime_is_a_python_runtime_the_package_runs_on():
    for runtime in ["python3.11", "python3.12", "python3.13", "python3.14"]:
        assert accepted("lambda_runtime", runtime)
    for runtime in ["python3.10", "python3.9", "nodejs22.x", "python3", "python3.13 "]:
        assert not accepted("lambda_runtime", runtime)


def test_retention_accepts_only_cloudwatch_values():
    for days in [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 3653]:
        assert accepted("cloudwatch_log_group_retention_in_days", days)
    for days in [0, 2, 10, 31, 364, 366, 730, 3654, -1]:
        assert not accepted("cloudwatch_log_group_retention_in_days", days)


def test_reserved_concurrency_allows_unreserved_but_not_zero():
    assert accepted("lambda_reserved_concurrent_executions", 1)
    assert accepted("lambda_reserved_concurrent_executions", -1)
    assert accepted("lambda_reserved_concurrent_executions", 5)
    assert not accepted("lambda_reserved_concurrent_executions", 0)
    assert not accepted("lambda_reserved_concurrent_executions", -2)
    assert not accepted("lambda_reserved_concurrent_executions", 1.5)


def test_numbers_in_range():
    assert accepted("lambda_memory_size", 128)
    assert not accepted("lambda_memory_size", 127)
    assert accepted("lambda_timeout", 900)
    assert not accepted("lambda_timeout", 901)
    assert accepted("secret_recovery_window_in_days", 0)
    assert accepted("secret_recovery_window_in_days", 7)
    assert not accepted("secret_recovery_window_in_days", 3)
    assert not accepted("secret_recovery_window_in_days", 31)
    assert accepted("maximum_retry_attempts", 0)
    assert not accepted("maximum_retry_attempts", 3)
    assert not accepted("maximum_event_age_in_seconds", 59)


def test_secret_arn_must_be_a_full_secret_arn():
    assert accepted("secret_arn", None)
    assert accepted(
        "secret_arn", "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr/pull-AbCdEf"
    )
    for bad in [
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-pull",  # partial ARN
        "ecr-pull",
        "arn:aws:ssm:eu-central-1:123456789012:parameter/ecr-pull-AbCdEf",
    ]:
        assert not accepted("secret_arn", bad), bad


def test_kms_keys_must_be_key_arns_not_aliases():
    key = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alias = "arn:aws:kms:eu-central-1:123456789012:alias/secrets"
    for name in ("secret_kms_key_arn", "cloudwatch_log_group_kms_key_arn"):
        assert accepted(name, key)
        assert accepted(
            name, "arn:aws:kms:eu-central-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
        )
        assert not accepted(name, alias)
        assert not accepted(name, "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert not accepted("secret_replicas", [{"region": "eu-west-1", "kms_key_arn": alias}])


def test_repository_arns():
    assert accepted(
        "ecr_repository_arns", ["arn:aws:ecr:eu-central-1:123456789012:repository/team/*"]
    )
    assert not accepted("ecr_repository_arns", ["*"])
    assert not accepted("ecr_repository_arns", ["arn:aws:ecr:eu-central-1:*:repository/*"])
    assert not accepted(
        "ecr_repository_arns", ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app"]
    )


def test_probe_images_are_ecr_image_references():
    good = [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest",
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/app:v1.2.3",
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app@sha256:" + "a" * 64,
    ]
    assert accepted("probe_images", good)
    for bad in [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app",  # no tag or digest
        "docker.io/library/alpine:3",
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/App:latest",
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest,other",
    ]:
        assert not accepted("probe_images", [bad]), bad


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sqs:eu-central-1:123456789012:failures",
        "arn:aws:sns:eu-central-1:123456789012:failures",
        "arn:aws:lambda:eu-central-1:123456789012:function:failures",
        "arn:aws:events:eu-central-1:123456789012:event-bus/failures",
        "arn:aws:s3:::failures-bucket",
    ],
)
def test_on_failure_destination_accepts_every_destination_type(arn):
    assert accepted("on_failure_destination_arn", arn)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:lambda:eu-central-1:123456789012:function:failures:live",  # qualified
        "arn:aws:dynamodb:eu-central-1:123456789012:table/failures",
        "arn:aws:sqs:eu-central-1:123456789012:failures.fifo",  # FIFO is not supported
        "https://sqs.eu-central-1.amazonaws.com/123456789012/failures",
    ],
)
def test_on_failure_destination_rejects_other_arns(arn):
    assert not accepted("on_failure_destination_arn", arn)


def test_alarm_window_must_be_whole_hours_below_12():
    assert accepted("alarms", {})
    assert accepted("alarms", {"staleness_window_hours": 11})
    assert not accepted("alarms", {"staleness_window_hours": 12})
    assert not accepted("alarms", {"staleness_window_hours": 7.5})
    assert not accepted("alarms", {"staleness_window_hours": 0})
    assert not accepted("alarms", {"alarm_actions": ["my-topic"]})
    assert accepted("alarms", {"alarm_actions": ["arn:aws:sns:eu-central-1:123456789012:oncall"]})


def test_vpc_config_needs_subnets_and_security_groups():
    assert accepted("vpc_config", None)
    assert accepted(
        "vpc_config", {"subnet_ids": ["subnet-0abc"], "security_group_ids": ["sg-0abc"]}
    )
    assert not accepted("vpc_config", {"subnet_ids": [], "security_group_ids": ["sg-0abc"]})
    assert not accepted("vpc_config", {"subnet_ids": ["subnet-0abc"], "security_group_ids": []})
    assert not accepted(
        "vpc_config", {"subnet_ids": ["sg-0abc"], "security_group_ids": ["sg-0abc"]}
    )


def test_names():
    assert accepted("name", "ecr-token-rotator")
    assert not accepted("name", "ecr token rotator")
    assert not accepted("name", "x" * 65)
    assert accepted("role_path", "/")
    assert accepted("role_path", "/service/")
    assert not accepted("role_path", "service")
    assert accepted("eso_namespace", "external-secrets")
    assert not accepted("eso_namespace", "ESO")
    assert accepted(
        "eso_oidc_provider_arn",
        "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC123",
    )
    assert not accepted("eso_oidc_provider_arn", "oidc.eks.eu-central-1.amazonaws.com/id/ABC123")
    assert accepted("secret_reader_principal_arns", ["arn:aws:iam::210987654321:role/eso"])
    assert not accepted("secret_reader_principal_arns", ["210987654321"])
    assert not accepted("secret_reader_principal_arns", ["*"])

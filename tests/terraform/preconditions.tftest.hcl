# Every precondition (and the check block), run by Terraform: each one fails at plan on the
# combination it exists for, with the inputs it names, and holds on its neighbour.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  key_arn          = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  local_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/ecr-pull-AbCdEf"
  other_secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/ecr-pull-AbCdEf"
  oidc_arn         = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

################################################################################
# The secret
################################################################################

run "secret_name_and_prefix_conflict" {
  command = plan

  variables {
    secret_name        = "a"
    secret_name_prefix = "b-"
  }

  expect_failures = [aws_secretsmanager_secret.this]
}

run "a_secret_name_prefix_alone_is_fine" {
  command = plan

  variables {
    secret_name_prefix = "b-"
  }
}

run "a_replica_in_the_primarys_region_is_refused" {
  command = plan

  variables {
    secret_replicas = [{ region = "eu-west-1" }, { region = "eu-central-1" }]
  }

  expect_failures = [aws_secretsmanager_secret.this]
}

run "replicas_only_for_a_created_secret" {
  command = plan

  variables {
    create_secret   = false
    secret_arn      = var.local_secret_arn
    secret_replicas = [{ region = "eu-west-1" }]
  }

  expect_failures = [aws_lambda_function.this]
}

################################################################################
# KMS keys and replicas: what Secrets Manager refuses at apply, or later
################################################################################

# KMS keys are regional, and Secrets Manager encrypts a secret with a key in its own region.
# Inferred, not stated on one page: KMS isolates each region ("From its inception, AWS KMS has been
# strictly isolated to a single AWS Region", AWS Security Blog, "Encrypt global data client-side
# with AWS KMS multi-Region keys"), and services that copy data between regions "re-encrypt
# [it] using the KMS keys you designate in the destination Region" (same post), as replication
# takes a key per replica region (ReplicateSecretToRegions, AddReplicaRegions[].KmsKeyId).
run "a_created_secrets_key_in_another_region_is_refused" {
  command = plan

  variables {
    secret_kms_key_arn = replace(var.key_arn, "eu-central-1", "us-east-1") # the provider: eu-central-1
  }

  expect_failures = [aws_lambda_function.this]
}

run "an_existing_secrets_key_in_another_region_is_refused" {
  command = plan

  variables {
    create_secret      = false
    secret_arn         = var.other_secret_arn # us-east-1
    secret_kms_key_arn = var.key_arn          # eu-central-1, the provider's region
  }

  expect_failures = [aws_lambda_function.this]
}

run "an_existing_secrets_key_in_its_region" {
  command = plan

  variables {
    create_secret      = false
    secret_arn         = var.other_secret_arn
    secret_kms_key_arn = replace(var.key_arn, "eu-central-1", "us-east-1")
  }
}

run "a_replicas_key_in_another_region_is_refused" {
  command = plan

  variables {
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = replace(var.key_arn, "eu-central-1", "eu-west-1") },
      { region = "us-east-1", kms_key_arn = var.key_arn }, # the primary's key, in eu-central-1
    ]
  }

  expect_failures = [aws_secretsmanager_secret.this]
}

run "each_replica_with_a_key_of_its_region_multi_region_keys_too" {
  command = plan

  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab" },
      { region = "us-east-1" },
    ]
  }
}

run "replicas_in_another_partition_are_refused" {
  command = plan

  variables {
    secret_replicas = [{ region = "eu-west-1" }, { region = "us-gov-west-1" }]
  }

  expect_failures = [aws_secretsmanager_secret.this]
}

run "a_log_groups_key_in_another_region_is_refused" {
  command = plan

  variables {
    cloudwatch_log_group_kms_key_arn = replace(var.key_arn, "eu-central-1", "eu-west-1")
  }

  expect_failures = [aws_cloudwatch_log_group.this]
}

run "a_log_groups_key_in_its_region" {
  command = plan

  variables {
    cloudwatch_log_group_kms_key_arn = var.key_arn
  }
}

# Secrets Manager copies the resource policy to the replicas ("Secrets Manager replicates the
# encrypted secret data and metadata such as tags and resource policies", user guide, "Replicate
# secrets across Regions"), and other accounts cannot use aws/secretsmanager ("Permissions to AWS
# Secrets Manager secrets for users in a different account").
run "cross_account_readers_need_a_customer_managed_key_on_every_replica" {
  command = plan

  variables {
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
    secret_kms_key_arn           = var.key_arn
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = replace(var.key_arn, "eu-central-1", "eu-west-1") },
      { region = "us-east-1" },
    ]
  }

  expect_failures = [aws_secretsmanager_secret_policy.this]
}

run "cross_account_readers_with_a_key_on_every_replica" {
  command = plan

  variables {
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
    secret_kms_key_arn           = var.key_arn
    secret_replicas              = [{ region = "eu-west-1", kms_key_arn = replace(var.key_arn, "eu-central-1", "eu-west-1") }]
  }
}

run "an_existing_secret_needs_its_arn" {
  command = plan

  variables {
    create_secret = false
  }

  expect_failures = [data.aws_iam_policy_document.function, data.aws_iam_policy_document.eso_read]
}

################################################################################
# The function
################################################################################

run "on_failure_destination_only_in_schedule_mode" {
  command = plan

  variables {
    trigger_mode               = "rotation"
    on_failure_destination_arn = "arn:aws:sqs:eu-central-1:123456789012:failures"
  }

  expect_failures = [aws_lambda_function.this]
}

run "a_time_zone_only_with_the_scheduler_engine" {
  command = plan

  variables {
    schedule_engine   = "rule"
    schedule_timezone = "Europe/Berlin"
  }

  expect_failures = [aws_lambda_function.this]
}

run "a_dead_letter_queue_only_with_the_scheduler_engine" {
  command = plan

  variables {
    schedule_engine          = "rule"
    schedule_dead_letter_arn = "arn:aws:sqs:eu-central-1:123456789012:dead-letters"
  }

  expect_failures = [aws_lambda_function.this]
}

run "no_time_zone_in_rotation_mode" {
  command = plan

  variables {
    trigger_mode      = "rotation"
    schedule_timezone = "Europe/Berlin"
  }

  expect_failures = [aws_lambda_function.this]
}

run "no_dead_letter_queue_in_rotation_mode" {
  command = plan

  variables {
    trigger_mode             = "rotation"
    schedule_dead_letter_arn = "arn:aws:sqs:eu-central-1:123456789012:dead-letters"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rotation_mode_ignores_the_default_engine" {
  command = plan

  variables {
    trigger_mode    = "rotation"
    schedule_engine = "rule"
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_scheduler_schedule.this) == 0
    error_message = "rotation mode creates no schedule, whatever the engine"
  }
}

run "at_most_12_registry_hosts" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "eu-west-1", "us-east-1"]
    ecr_registry_ids = ["123456789012", "210987654321", "111111111111", "222222222222", "333333333333"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "twelve_registry_hosts_fit" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "eu-west-1", "us-east-1"]
    ecr_registry_ids = ["123456789012", "210987654321", "111111111111", "222222222222"]
  }

  assert {
    condition     = length(output.registry_hosts) == 12
    error_message = "3 regions x 4 accounts are 12 hosts"
  }
}

run "thirteen_registry_accounts_in_the_default_region_do_not" {
  command = plan

  variables {
    ecr_registry_ids = [for i in range(13) : format("1000000000%02d", i)]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_must_be_in_a_covered_registry_account" {
  command = plan

  variables {
    probe_images = [
      "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest",
      "210987654321.dkr.ecr.eu-central-1.amazonaws.com/app:latest",
    ]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_must_be_in_a_covered_region" {
  command = plan

  variables {
    probe_images = ["123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_in_covered_registries_are_fine" {
  command = plan

  variables {
    ecr_registry_ids   = ["210987654321"]
    ecr_regions        = ["us-west-2", "us-east-1"]
    ecr_endpoint_types = ["ipv4", "fips"]
    probe_images       = ["210987654321.dkr.ecr-fips.us-east-1.amazonaws.com/app:latest"]
  }
}

run "the_own_account_is_no_longer_covered_once_others_are_listed" {
  command = plan

  variables {
    ecr_registry_ids = ["210987654321"]
    probe_images     = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest"]
  }

  expect_failures = [aws_lambda_function.this]
}

################################################################################
# Endpoint types, partitions and ECR Public
################################################################################

run "fips_where_ecr_has_no_fips_endpoints" {
  command = plan

  variables {
    ecr_endpoint_types = ["ipv4", "fips"] # the provider's region: eu-central-1
  }

  expect_failures = [aws_lambda_function.this]
}

run "dualstack_fips_in_one_region_without_fips" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "eu-west-1"]
    ecr_endpoint_types = ["dualstack-fips"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "fips_in_every_fips_region" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "us-east-2", "us-west-1", "us-west-2"]
    ecr_endpoint_types = ["fips", "dualstack-fips"]
  }
}

run "ecr_regions_of_another_partition" {
  command = plan

  variables {
    ecr_regions = ["eu-central-1", "cn-north-1"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "endpoint_types_multiply_the_hosts" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "us-east-2", "us-west-2"]
    ecr_registry_ids   = ["111111111111", "222222222222"]
    ecr_endpoint_types = ["ipv4", "dualstack", "fips"] # 3 x 2 x 3 = 18
  }

  expect_failures = [aws_lambda_function.this]
}

run "twelve_hosts_with_endpoint_types_fit" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "us-west-2", "eu-west-1"]
    ecr_registry_ids   = ["111111111111", "222222222222"]
    ecr_endpoint_types = ["ipv4", "dualstack"]
  }

  assert {
    condition     = length(output.registry_hosts) == 12
    error_message = "3 regions x 2 accounts x 2 types"
  }
}

run "ecr_public_counts_towards_the_bound" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "us-west-2", "eu-west-1"]
    ecr_registry_ids   = ["111111111111", "222222222222"]
    ecr_endpoint_types = ["ipv4", "dualstack"]
    ecr_public         = true # + public.ecr.aws and ecr-public.aws.com: 14
  }

  expect_failures = [aws_lambda_function.this]
}

run "ecr_public_within_the_bound" {
  command = plan

  variables {
    ecr_registry_ids   = [for i in range(5) : format("1000000000%02d", i)]
    ecr_endpoint_types = ["ipv4", "dualstack"]
    ecr_public         = true # 10 + 2
  }

  assert {
    condition     = length(output.registry_hosts) == 12 && output.registry_hosts[11] == "ecr-public.aws.com"
    error_message = "5 accounts x 2 types + ECR Public's two hosts"
  }
}

run "probe_images_on_a_dualstack_host_need_the_dualstack_type" {
  command = plan

  variables {
    probe_images = ["123456789012.dkr-ecr.eu-central-1.on.aws/app:latest"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_on_every_listed_host" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1"]
    ecr_endpoint_types = ["ipv4", "dualstack", "fips", "dualstack-fips"]
    ecr_public         = true
    probe_images = [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
      "123456789012.dkr-ecr.us-east-1.on.aws/app:1",
      "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/app:1",
      "123456789012.dkr-ecr-fips.us-east-1.on.aws/team/app:1",
      "public.ecr.aws/docker/library/alpine:3",
      "ecr-public.aws.com/docker/library/alpine:3",
    ]
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables.PROBE_IMAGES == join(",", var.probe_images)
    error_message = "every image is passed through"
  }
}

run "probe_images_on_ecr_public_need_ecr_public" {
  command = plan

  variables {
    probe_images = ["public.ecr.aws/docker/library/alpine:3"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_on_ecr_publics_dualstack_host_need_a_dualstack_type" {
  command = plan

  variables {
    ecr_public   = true
    probe_images = ["ecr-public.aws.com/docker/library/alpine:3"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_with_the_wrong_partitions_suffix" {
  command = plan

  variables {
    probe_images = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com.cn/app:1"]
  }

  expect_failures = [aws_lambda_function.this]
}

################################################################################
# An existing secret in another region
################################################################################

run "schedule_mode_refreshes_a_secret_in_any_region" {
  command = plan

  variables {
    create_secret = false
    secret_arn    = var.other_secret_arn
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables.SECRET_ID == var.other_secret_arn
    error_message = "the function gets the secret's full ARN, whose region it calls"
  }
}

run "rotation_mode_needs_the_secret_in_the_providers_region" {
  command = plan

  variables {
    create_secret = false
    secret_arn    = var.other_secret_arn
    trigger_mode  = "rotation"
  }

  expect_failures = [aws_secretsmanager_secret_rotation.this]
}

run "rotation_of_an_existing_secret_in_the_providers_region" {
  command = plan

  variables {
    create_secret = false
    secret_arn    = var.local_secret_arn
    trigger_mode  = "rotation"
  }
}

run "a_secret_policy_needs_the_secret_in_the_providers_region" {
  command = plan

  variables {
    create_secret                = false
    secret_arn                   = var.other_secret_arn
    secret_kms_key_arn           = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
  }

  expect_failures = [aws_secretsmanager_secret_policy.this]
}

run "cross_account_readers_need_a_customer_managed_key" {
  command = plan

  variables {
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
  }

  expect_failures = [aws_secretsmanager_secret_policy.this]
}

run "cross_account_readers_with_a_key" {
  command = plan

  variables {
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
    secret_kms_key_arn           = var.key_arn
  }
}

################################################################################
# The ESO role
################################################################################

run "the_eso_role_needs_a_trust" {
  command = plan

  variables {
    create_eso_role = true
  }

  expect_failures = [aws_iam_role.eso]
}

run "the_eso_role_name_fits_iam_with_the_suffix" {
  command = plan

  variables {
    name                  = join("", [for i in range(48) : "n"]) # + "-eso-eu-central-1" = 65
    scheduler_role_name   = "rotator-scheduler"                  # <name>-scheduler-<region> would not fit
    create_eso_role       = true
    eso_oidc_provider_arn = var.oidc_arn
  }

  expect_failures = [aws_iam_role.eso]
}

run "a_48_character_name_fits_with_its_own_eso_role_name" {
  command = plan

  variables {
    name                  = join("", [for i in range(48) : "n"])
    scheduler_role_name   = "rotator-scheduler" # <name>-scheduler-<region> would not fit
    create_eso_role       = true
    eso_role_name         = "eso-reader"
    eso_oidc_provider_arn = var.oidc_arn
  }
}

run "a_47_character_name_fits_with_the_suffix" {
  command = plan

  variables {
    name                  = join("", [for i in range(47) : "n"])
    scheduler_role_name   = "rotator-scheduler" # <name>-scheduler-<region> would not fit
    create_eso_role       = true
    eso_oidc_provider_arn = var.oidc_arn
  }

  assert {
    condition     = aws_iam_role.eso[0].name == "${join("", [for i in range(47) : "n"])}-eso-eu-central-1"
    error_message = "the ESO role is named <name>-eso-<region>"
  }
}

run "the_scheduler_role_name_fits_iam_with_the_suffix" {
  command = plan

  variables {
    name = join("", [for i in range(42) : "n"]) # + "-scheduler-eu-central-1" = 65
  }

  expect_failures = [aws_iam_role.scheduler]
}

run "a_41_character_name_fits_with_the_scheduler_suffix" {
  command = plan

  variables {
    name             = join("", [for i in range(41) : "n"])
    lambda_role_name = "rotator"
  }

  assert {
    condition     = aws_iam_role.scheduler[0].name == "${join("", [for i in range(41) : "n"])}-scheduler-eu-central-1"
    error_message = "the Scheduler role is named <name>-scheduler-<region>"
  }
}

run "a_42_character_name_fits_with_its_own_scheduler_role_name" {
  command = plan

  variables {
    name                = join("", [for i in range(42) : "n"])
    scheduler_role_name = "rotator-scheduler"
  }

  assert {
    condition     = aws_iam_role.scheduler[0].name == "rotator-scheduler"
    error_message = "scheduler_role_name replaces the default"
  }
}

run "the_rule_engine_needs_no_scheduler_role_name" {
  command = plan

  variables {
    name            = join("", [for i in range(42) : "n"])
    schedule_engine = "rule"
  }
}

run "the_function_role_name_fits_iam_with_the_region" {
  command = plan

  variables {
    name                = join("", [for i in range(52) : "n"]) # + "-eu-central-1" = 65
    scheduler_role_name = "rotator-scheduler"
  }

  expect_failures = [aws_iam_role.this]
}

run "a_52_character_name_fits_with_its_own_lambda_role_name" {
  command = plan

  variables {
    name                = join("", [for i in range(52) : "n"])
    lambda_role_name    = "ecr-token-rotator"
    scheduler_role_name = "rotator-scheduler"
  }

  assert {
    condition     = aws_iam_role.this[0].name == "ecr-token-rotator"
    error_message = "lambda_role_name replaces the default"
  }
}

run "a_cluster_name_needs_eso_pod_identity" {
  command = plan

  variables {
    create_eso_role               = true
    eso_oidc_provider_arn         = var.oidc_arn
    eso_pod_identity_cluster_name = "platform"
  }

  expect_failures = [aws_iam_role.eso]
}

run "the_association_needs_a_cluster" {
  command = plan

  variables {
    create_eso_role  = true
    eso_pod_identity = true
  }

  expect_failures = [aws_eks_pod_identity_association.eso]
}

run "pod_identity_without_association" {
  command = plan

  variables {
    create_eso_role                     = true
    eso_pod_identity                    = true
    create_eso_pod_identity_association = false
  }

  assert {
    condition     = length(aws_eks_pod_identity_association.eso) == 0
    error_message = "no association when it is created elsewhere"
  }
}

################################################################################
# The expiry alarm: its threshold (window + 10 minutes + warning) stays an hour below a fresh
# token's 12 hours. Its behaviour over time: tests/terraform/test_alarms.py.
################################################################################

run "the_warning_must_leave_the_threshold_below_a_fresh_token" {
  command = plan

  variables {
    schedule_expression = "rate(8 hours)" # window 480 + 15 + 1: room for 154 minutes
    alarms              = { expiry_warning_hours = 3 }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.expiry]
}

run "the_longest_warning_that_fits_an_8_hour_schedule" {
  command = plan

  variables {
    schedule_expression = "rate(8 hours)"
    alarms              = { expiry_warning_hours = 2 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.expiry[0].evaluation_periods == 496 && aws_cloudwatch_metric_alarm.expiry[0].threshold == (496 + 10 + 120) * 60
    error_message = "a 496-minute window, warned 2 hours ahead"
  }
}

run "rotation_adds_the_rotation_window" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(8 hours)" # 8 + 1 hours apart: room for 94 minutes
    alarms                       = { expiry_warning_hours = 2 }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.expiry]
}

run "a_long_timeout_widens_the_window" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(8 hours)"
    lambda_timeout               = 900
    alarms                       = { expiry_warning_hours = 1 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.expiry[0].evaluation_periods == 570 && aws_cloudwatch_metric_alarm.expiry[0].threshold == (570 + 10 + 60) * 60
    error_message = "540 + 15 + 15 minutes, warned an hour ahead"
  }
}

run "the_default_warning_shrinks_to_what_fits" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(8 hours)"
    lambda_timeout               = 900
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.expiry[0].threshold == 11 * 3600 && aws_cloudwatch_metric_alarm.expiry[0].datapoints_to_alarm == 570
    error_message = "80 minutes of warning: the threshold at its limit of 11 hours"
  }
}

run "short_schedules_keep_the_default_3_hours" {
  command = plan

  variables {
    schedule_expression = "rate(30 minutes)"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.expiry[0].evaluation_periods == 46 && aws_cloudwatch_metric_alarm.expiry[0].threshold == (46 + 10 + 180) * 60
    error_message = "a 46-minute window, warned 3 hours ahead"
  }
}

run "without_invoke_on_apply_the_expiry_alarm_starts_in_alarm" {
  command = plan

  variables {
    invoke_on_apply = false
  }

  expect_failures = [check.expiry_alarm_starts_in_alarm]
}

# python3.11 runs on Amazon Linux 2 and Lambda has announced its end (lambda_runtime's
# description has the dates): still allowed, a plan with it succeeds.
run "python3_11_is_still_allowed" {
  command = plan

  variables {
    lambda_runtime = "python3.11"
  }

  assert {
    condition     = aws_lambda_function.this[0].runtime == "python3.11"
    error_message = "python3.11 is still allowed"
  }
}

run "without_alarms_nothing_starts_in_alarm" {
  command = plan

  variables {
    invoke_on_apply = false
    alarms          = { enabled = false }
  }
}

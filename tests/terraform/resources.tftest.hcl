# What each trigger mode and toggle creates, how the function is configured (its environment is
# the contract of the Lambda package), and the outputs, null-safe with create = false.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  key_arn             = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  existing_secret_arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:team/ecr-pull-AbCdEf"
  oidc_arn            = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
}

################################################################################
# Trigger modes
################################################################################

run "schedule_mode_creates_the_schedule_and_runs_once_on_apply" {
  command = plan

  assert {
    condition = [
      length(aws_secretsmanager_secret.this), length(aws_cloudwatch_log_group.this),
      length(aws_iam_role.this), length(aws_iam_role_policy.this), length(aws_lambda_function.this),
      length(aws_scheduler_schedule_group.this), length(aws_scheduler_schedule.this),
      length(aws_iam_role.scheduler), length(aws_iam_role_policy.scheduler),
      length(aws_cloudwatch_metric_alarm.schedule),
      length(aws_lambda_function_event_invoke_config.this), length(aws_lambda_invocation.this),
    ] == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    error_message = "schedule mode (Scheduler, the default engine): the secret, log group, role, policy, function, schedule group, schedule, Scheduler's role and policy, the schedule alarm, invoke config and the apply-time invocation"
  }

  assert {
    condition = [
      length(aws_cloudwatch_event_rule.this), length(aws_cloudwatch_event_target.this),
      length(aws_lambda_permission.eventbridge),
    ] == [0, 0, 0]
    error_message = "the Scheduler engine creates no EventBridge rule and no resource policy on the function"
  }

  assert {
    condition = (
      aws_scheduler_schedule.this[0].schedule_expression == "rate(6 hours)"
      && aws_scheduler_schedule.this[0].schedule_expression_timezone == "UTC"
      && aws_scheduler_schedule.this[0].group_name == "ecr-token-rotator"
      && aws_scheduler_schedule.this[0].flexible_time_window[0].mode == "OFF"
    )
    error_message = "the default schedule is rate(6 hours) in UTC, in its own group, at the scheduled time (no flexible window)"
  }

  assert {
    condition = (
      jsondecode(aws_scheduler_schedule.this[0].target[0].input) == { invoked_by = "eventbridge-scheduler" }
      && length(aws_scheduler_schedule.this[0].target[0].dead_letter_config) == 0
    )
    error_message = "Scheduler sends a plain refresh payload (not the apply-time one); no dead-letter queue by default"
  }

  assert {
    condition = (
      aws_scheduler_schedule.this[0].target[0].retry_policy[0].maximum_retry_attempts == 3
      && aws_scheduler_schedule.this[0].target[0].retry_policy[0].maximum_event_age_in_seconds == 7200
    )
    error_message = "an explicit, bounded retry policy: 3 attempts within 2 hours (not Scheduler's 185 over 24 hours)"
  }

  assert {
    condition = [
      length(aws_secretsmanager_secret_rotation.this), length(aws_lambda_permission.secretsmanager),
      length(aws_iam_role.eso), length(aws_iam_role_policy.eso),
      length(aws_eks_pod_identity_association.eso), length(aws_secretsmanager_secret_policy.this),
    ] == [0, 0, 0, 0, 0, 0]
    error_message = "schedule mode creates no rotation, and no ESO role or secret policy unless asked"
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 2
      && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600
      && length(aws_lambda_function_event_invoke_config.this[0].destination_config) == 0
    )
    error_message = "asynchronous invocations: 2 retries within an hour, no destination by default"
  }
}

run "the_rule_engine_creates_the_eventbridge_rule_and_no_scheduler_resources" {
  command = plan

  variables {
    schedule_engine = "rule"
  }

  assert {
    condition = [
      length(aws_cloudwatch_event_rule.this), length(aws_cloudwatch_event_target.this),
      length(aws_lambda_permission.eventbridge), length(aws_lambda_function_event_invoke_config.this),
      length(aws_lambda_invocation.this),
    ] == [1, 1, 1, 1, 1]
    error_message = "schedule_engine = rule: the rule, its target, the permission, the invoke config and the apply-time invocation"
  }

  assert {
    condition = [
      length(aws_scheduler_schedule_group.this), length(aws_scheduler_schedule.this),
      length(aws_iam_role.scheduler), length(aws_iam_role_policy.scheduler),
      length(aws_cloudwatch_metric_alarm.schedule),
    ] == [0, 0, 0, 0, 0]
    error_message = "schedule_engine = rule creates nothing of Scheduler's"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this[0].schedule_expression == "rate(6 hours)" && aws_cloudwatch_event_rule.this[0].name == "ecr-token-rotator"
    error_message = "the default schedule is rate(6 hours)"
  }

  assert {
    condition     = aws_lambda_permission.eventbridge[0].principal == "events.amazonaws.com"
    error_message = "EventBridge may invoke the function"
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 2
      && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600
    )
    error_message = "Lambda's own retries are the same with either engine"
  }
}

run "the_time_zone_and_the_dead_letter_queue_are_passed_on" {
  command = plan

  variables {
    schedule_expression        = "rate(30 minutes)"
    schedule_timezone          = "America/Argentina/Buenos_Aires"
    schedule_dead_letter_arn   = "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-dead-letters"
    on_failure_destination_arn = "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-failures"
  }

  assert {
    condition     = aws_scheduler_schedule.this[0].schedule_expression_timezone == "America/Argentina/Buenos_Aires"
    error_message = "schedule_timezone is the schedule's time zone"
  }

  assert {
    condition     = aws_scheduler_schedule.this[0].target[0].dead_letter_config[0].arn == "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-dead-letters"
    error_message = "schedule_dead_letter_arn is the target's dead-letter queue"
  }

  assert {
    condition     = aws_scheduler_schedule.this[0].target[0].retry_policy[0].maximum_event_age_in_seconds == 1800
    error_message = "retries never run past the next scheduled run: 30 minutes with rate(30 minutes)"
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this[0].destination_config[0].on_failure[0].destination == "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-failures"
    error_message = "Lambda's on-failure destination keeps working next to Scheduler's dead-letter queue"
  }

  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.schedule[0].alarm_description, "ecr-token-rotator-dead-letters")
    error_message = "the schedule alarm says where the dead letters are"
  }
}

run "rotation_mode_enables_rotation_after_the_apply_time_invocation" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(4 hours)"
  }

  assert {
    condition = [
      length(aws_cloudwatch_event_rule.this), length(aws_cloudwatch_event_target.this),
      length(aws_lambda_permission.eventbridge), length(aws_lambda_function_event_invoke_config.this),
      length(aws_scheduler_schedule_group.this), length(aws_scheduler_schedule.this),
      length(aws_iam_role.scheduler), length(aws_cloudwatch_metric_alarm.schedule),
    ] == [0, 0, 0, 0, 0, 0, 0, 0]
    error_message = "rotation mode has no schedule of either engine"
  }

  assert {
    condition     = output.schedule_engine == null && output.scheduler_schedule_arn == null && output.eventbridge_rule_arn == null
    error_message = "rotation mode reports no schedule engine"
  }

  assert {
    condition     = length(aws_lambda_invocation.this) == 1 && length(aws_secretsmanager_secret_rotation.this) == 1
    error_message = "rotation mode: the apply-time invocation writes the first value, then rotation is enabled"
  }

  assert {
    condition     = aws_secretsmanager_secret_rotation.this[0].rotate_immediately == false
    error_message = "the first value exists already: rotation starts at its next window, not while IAM may still be propagating"
  }

  assert {
    condition     = aws_secretsmanager_secret_rotation.this[0].rotation_rules[0].schedule_expression == "rate(4 hours)"
    error_message = "the rotation schedule is rotation_schedule_expression"
  }

  assert {
    condition     = aws_lambda_permission.secretsmanager[0].principal == "secretsmanager.amazonaws.com"
    error_message = "Secrets Manager may invoke the function"
  }
}

run "rotation_mode_without_the_invocation_rotates_at_once" {
  command = plan

  variables {
    trigger_mode    = "rotation"
    invoke_on_apply = false
    alarms          = { enabled = false }
  }

  assert {
    condition     = length(aws_lambda_invocation.this) == 0 && aws_secretsmanager_secret_rotation.this[0].rotate_immediately
    error_message = "without the apply-time invocation the first rotation writes the first value"
  }
}

run "schedule_mode_without_the_invocation" {
  command = plan

  variables {
    invoke_on_apply = false
    alarms          = { enabled = false }
  }

  assert {
    condition     = length(aws_lambda_invocation.this) == 0 && length(aws_scheduler_schedule.this) == 1
    error_message = "invoke_on_apply = false leaves only the schedule"
  }
}

################################################################################
# The apply-time invocation (the contract with the function, see trigger.tf)
################################################################################

run "the_apply_time_invocation_sends_the_terraform_apply_marker" {
  command = apply

  assert {
    condition     = jsondecode(aws_lambda_invocation.this[0].input) == { invoked_by = "terraform-apply" }
    error_message = "the function waits out IAM propagation only for exactly {\"invoked_by\": \"terraform-apply\"}"
  }

  assert {
    condition     = aws_lambda_invocation.this[0].function_name == aws_lambda_function.this[0].function_name
    error_message = "the invocation runs the module's function"
  }

  assert {
    condition     = jsonencode(keys(aws_lambda_invocation.this[0].triggers)) == jsonencode(["environment", "policy", "source_code_hash"])
    error_message = "the function runs again when its code, environment or permissions change"
  }

  assert {
    condition = (
      aws_lambda_invocation.this[0].triggers.environment == sha256(jsonencode(aws_lambda_function.this[0].environment[0].variables))
      && aws_lambda_invocation.this[0].triggers.policy == sha256(aws_iam_role_policy.this[0].policy)
      && aws_lambda_invocation.this[0].triggers.source_code_hash == aws_lambda_function.this[0].source_code_hash
    )
    error_message = "each trigger follows what the function runs with"
  }
}


################################################################################
# The function
################################################################################

run "the_function_runs_the_packaged_handler" {
  command = plan

  assert {
    condition     = aws_lambda_function.this[0].handler == "ecr_token_rotator.handler.lambda_handler"
    error_message = "the package's handler"
  }

  assert {
    condition     = endswith(aws_lambda_function.this[0].filename, "dist/ecr-token-rotator.zip")
    error_message = "the zip committed with the module"
  }

  assert {
    condition     = aws_lambda_function.this[0].source_code_hash == filebase64sha256("dist/ecr-token-rotator.zip")
    error_message = "a new zip is a new deployment"
  }

  assert {
    condition = (
      aws_lambda_function.this[0].runtime == "python3.13"
      && aws_lambda_function.this[0].architectures[0] == "arm64"
      && aws_lambda_function.this[0].memory_size == 256
      && aws_lambda_function.this[0].timeout == 60
    )
    error_message = "defaults: python3.13 on arm64, 256 MB, 60 s"
  }

  assert {
    condition     = aws_lambda_function.this[0].reserved_concurrent_executions == null
    error_message = "no reserved concurrency by default: concurrent runs are harmless and a reservation fails on low quotas"
  }

  assert {
    condition = (
      aws_lambda_function.this[0].logging_config[0].log_format == "JSON"
      && aws_lambda_function.this[0].logging_config[0].application_log_level == "INFO"
      && aws_lambda_function.this[0].logging_config[0].system_log_level == "INFO"
      && aws_lambda_function.this[0].logging_config[0].log_group == "/aws/lambda/ecr-token-rotator"
    )
    error_message = "JSON logs at the log level, into the module's log group"
  }

  assert {
    condition     = aws_lambda_function.this[0].tracing_config[0].mode == "PassThrough" && length(aws_lambda_function.this[0].vpc_config) == 0
    error_message = "no active tracing and no VPC by default"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].name == "/aws/lambda/ecr-token-rotator" && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    error_message = "the log group Lambda writes to, kept a year"
  }
}

run "a_reservation_when_asked" {
  command = plan

  variables {
    lambda_reserved_concurrent_executions = 2
  }

  assert {
    condition     = aws_lambda_function.this[0].reserved_concurrent_executions == 2
    error_message = "the variable is passed through"
  }
}

run "the_environment_omits_empty_optional_settings" {
  command = apply

  assert {
    condition = jsonencode(aws_lambda_function.this[0].environment[0].variables) == jsonencode({
      SECRET_ID = aws_secretsmanager_secret.this[0].arn
      LOG_LEVEL = "INFO"
    })
    error_message = "SECRET_ID and LOG_LEVEL only: the function defaults the rest"
  }
}

run "the_environment_carries_every_setting_of_the_contract" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "us-east-1"]
    ecr_registry_ids = ["111111111111", "222222222222"]
    probe_images     = ["111111111111.dkr.ecr.eu-central-1.amazonaws.com/app:latest", "222222222222.dkr.ecr.us-east-1.amazonaws.com/app:1"]
    log_level        = "DEBUG"
    create_secret    = false
    secret_arn       = var.existing_secret_arn
  }

  assert {
    condition = jsonencode(aws_lambda_function.this[0].environment[0].variables) == jsonencode({
      SECRET_ID        = var.existing_secret_arn
      ECR_REGIONS      = "eu-central-1,us-east-1"
      ECR_REGISTRY_IDS = "111111111111,222222222222"
      PROBE_IMAGES     = "111111111111.dkr.ecr.eu-central-1.amazonaws.com/app:latest,222222222222.dkr.ecr.us-east-1.amazonaws.com/app:1"
      LOG_LEVEL        = "DEBUG"
    })
    error_message = "every variable of the function's environment"
  }

  assert {
    condition     = aws_lambda_function.this[0].logging_config[0].application_log_level == "DEBUG"
    error_message = "log_level drives Lambda's application log level too"
  }
}

run "the_descriptions_name_the_secret_when_it_fits" {
  command = plan

  variables {
    secret_name = "team/ecr-pull"
  }

  assert {
    condition     = strcontains(aws_lambda_function.this[0].description, "team/ecr-pull")
    error_message = "the function's description names its secret"
  }

  assert {
    condition     = strcontains(aws_scheduler_schedule.this[0].description, "team/ecr-pull")
    error_message = "the schedule's description names the secret"
  }
}

run "the_descriptions_fit_aws_limits_with_the_longest_secret_name" {
  command = plan

  variables {
    secret_name = join("", [for i in range(512) : "s"])
  }

  assert {
    condition     = length(aws_lambda_function.this[0].description) <= 256
    error_message = "Lambda descriptions hold 256 characters"
  }

  assert {
    condition     = length(aws_scheduler_schedule.this[0].description) <= 512
    error_message = "Scheduler schedule descriptions hold 512 characters (so do EventBridge rules')"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.schedule[0].alarm_description) <= 1024 && length(aws_iam_role.scheduler[0].description) <= 1000
    error_message = "the schedule alarm's and Scheduler role's descriptions fit"
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.expiry[0].alarm_description) <= 1024 && length(aws_iam_role.this[0].description) <= 1000
    error_message = "alarm descriptions hold 1024 characters, role descriptions 1000"
  }
}

run "the_eso_role_description_fits_with_the_longest_names" {
  command = plan

  variables {
    secret_name           = join("", [for i in range(512) : "s"])
    create_eso_role       = true
    eso_oidc_provider_arn = var.oidc_arn
    eso_namespace         = join("", [for i in range(63) : "e"])
    eso_service_account   = join("", [for i in range(253) : "a"])
  }

  assert {
    condition     = length(aws_iam_role.eso[0].description) <= 1000
    error_message = "IAM role descriptions hold 1000 characters"
  }
}

################################################################################
# Names
################################################################################

run "names_default_to_name" {
  command = plan

  variables {
    name = "pull-credentials"
  }

  assert {
    condition = [
      aws_lambda_function.this[0].function_name, aws_iam_role.this[0].name,
      aws_secretsmanager_secret.this[0].name, aws_scheduler_schedule.this[0].name,
      aws_scheduler_schedule_group.this[0].name, aws_iam_role.scheduler[0].name,
      aws_cloudwatch_log_group.this[0].name, aws_cloudwatch_metric_alarm.errors[0].alarm_name,
      aws_cloudwatch_metric_alarm.expiry[0].alarm_name, aws_cloudwatch_metric_alarm.schedule[0].alarm_name,
      ] == [
      "pull-credentials", "pull-credentials-eu-central-1", "pull-credentials", "pull-credentials",
      "pull-credentials", "pull-credentials-scheduler-eu-central-1",
      "/aws/lambda/pull-credentials", "pull-credentials-errors", "pull-credentials-expiry",
      "pull-credentials-schedule",
    ]
    error_message = "function, secret, rule, log group and alarms are named after name; the role (IAM names are global) after name and region"
  }
}

run "names_can_be_set_apart" {
  command = plan

  variables {
    secret_name      = "team/ecr-pull"
    lambda_role_name = "ecr-token-rotator-function"
    role_path        = "/service/"
  }

  assert {
    condition = (
      aws_secretsmanager_secret.this[0].name == "team/ecr-pull"
      && aws_iam_role.this[0].name == "ecr-token-rotator-function"
      && aws_iam_role.this[0].path == "/service/"
    )
    error_message = "secret_name, lambda_role_name and role_path are used"
  }
}

run "a_secret_name_prefix" {
  command = plan

  variables {
    secret_name_prefix = "team/ecr-pull-"
  }

  assert {
    condition     = aws_secretsmanager_secret.this[0].name_prefix == "team/ecr-pull-"
    error_message = "a prefix instead of a name"
  }
}

################################################################################
# create = false, an existing secret
################################################################################

run "create_false_creates_nothing_and_every_output_is_null" {
  command = apply

  variables {
    create                       = false
    create_eso_role              = true
    eso_oidc_provider_arn        = var.oidc_arn
    secret_kms_key_arn           = var.key_arn
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/eso"]
    trigger_mode                 = "rotation"
  }

  assert {
    condition = [
      length(aws_secretsmanager_secret.this), length(aws_cloudwatch_log_group.this),
      length(aws_iam_role.this), length(aws_iam_role_policy.this), length(aws_lambda_function.this),
      length(aws_cloudwatch_event_rule.this), length(aws_cloudwatch_event_target.this),
      length(aws_lambda_permission.eventbridge), length(aws_lambda_permission.secretsmanager),
      length(aws_lambda_function_event_invoke_config.this), length(aws_lambda_invocation.this),
      length(aws_secretsmanager_secret_rotation.this), length(aws_cloudwatch_metric_alarm.errors),
      length(aws_cloudwatch_metric_alarm.expiry), length(aws_iam_role.eso),
      length(aws_iam_role_policy.eso), length(aws_eks_pod_identity_association.eso),
      length(aws_secretsmanager_secret_policy.this), length(aws_scheduler_schedule_group.this),
      length(aws_scheduler_schedule.this), length(aws_iam_role.scheduler),
      length(aws_iam_role_policy.scheduler), length(aws_cloudwatch_metric_alarm.schedule),
    ] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    error_message = "create = false creates nothing"
  }

  assert {
    condition = alltrue([for value in [
      output.secret_arn, output.secret_name, output.secret_replica_arns, output.lambda_function_arn,
      output.lambda_function_name, output.lambda_role_arn, output.lambda_role_name,
      output.cloudwatch_log_group_name, output.cloudwatch_log_group_arn, output.region,
      output.trigger_mode, output.eventbridge_rule_arn, output.eventbridge_rule_name,
      output.rotation_enabled, output.registry_hosts, output.ecr_regions, output.ecr_registry_ids,
      output.ecr_repository_arns, output.expiry_alarm_arn, output.errors_alarm_arn,
      output.cloudwatch_metric_namespace, output.eso_read_policy_json, output.eso_role_arn,
      output.eso_role_name, output.eso_pod_identity_association_arn, output.secret_replica_status,
      output.apply_identity_policy_json, output.schedule_engine, output.scheduler_schedule_arn,
      output.scheduler_schedule_name, output.scheduler_schedule_group_name,
      output.scheduler_schedule_group_arn, output.scheduler_role_arn, output.scheduler_role_name,
      output.schedule_alarm_arn,
    ] : value == null])
    error_message = "every output is null with create = false"
  }
}

run "an_existing_secret_is_used_by_its_arn" {
  command = plan

  variables {
    create_secret = false
    secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/ecr-pull-AbCdEf"
  }

  assert {
    condition     = length(aws_secretsmanager_secret.this) == 0
    error_message = "no secret is created"
  }

  assert {
    condition = (
      output.secret_arn == "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/ecr-pull-AbCdEf"
      && output.secret_name == "team/ecr-pull"
      && aws_lambda_function.this[0].environment[0].variables.SECRET_ID == output.secret_arn
    )
    error_message = "the secret's name comes from its ARN; the function gets the ARN"
  }
}

################################################################################
# Optional features
################################################################################

run "every_feature_on" {
  command = apply

  variables {
    secret_kms_key_arn = var.key_arn
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "us-east-1", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
    ]
    secret_reader_principal_arns     = ["arn:aws:iam::210987654321:role/eso"]
    secret_recovery_window_in_days   = 7
    enable_xray_tracing              = true
    vpc_config                       = { subnet_ids = ["subnet-0abc1234"], security_group_ids = ["sg-0abc1234"] }
    on_failure_destination_arn       = "arn:aws:sqs:eu-central-1:123456789012:failures"
    cloudwatch_log_group_kms_key_arn = var.key_arn
    lambda_runtime                   = "python3.12"
    lambda_architecture              = "x86_64"
    alarms = {
      alarm_actions = ["arn:aws:sns:eu-central-1:123456789012:oncall"]
      ok_actions    = ["arn:aws:sns:eu-central-1:123456789012:oncall"]
    }
    create_eso_role               = true
    eso_oidc_provider_arn         = var.oidc_arn
    eso_pod_identity              = true
    eso_pod_identity_cluster_name = "platform"
    eso_namespace                 = "eso"
    eso_service_account           = "reader"
    tags                          = { team = "platform" }
  }

  assert {
    condition = (
      aws_secretsmanager_secret.this[0].kms_key_id == var.key_arn
      && aws_secretsmanager_secret.this[0].recovery_window_in_days == 7
      && jsonencode(sort(aws_secretsmanager_secret.this[0].replica[*].region)) == jsonencode(["eu-west-1", "us-east-1"])
      && one([for replica in aws_secretsmanager_secret.this[0].replica : replica.kms_key_id if replica.region == "eu-west-1"]) == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    error_message = "the secret: its key, recovery window and replicas"
  }

  assert {
    condition = jsonencode(output.secret_replica_arns) == jsonencode({
      "eu-west-1" = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-token-rotator-AbCdEf"
      "us-east-1" = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-token-rotator-AbCdEf"
    })
    error_message = "a replica's ARN is the primary's in another region"
  }

  assert {
    condition = (
      aws_lambda_function.this[0].tracing_config[0].mode == "Active"
      && aws_lambda_function.this[0].vpc_config[0].subnet_ids == toset(["subnet-0abc1234"])
      && aws_lambda_function.this[0].vpc_config[0].security_group_ids == toset(["sg-0abc1234"])
      && aws_lambda_function.this[0].runtime == "python3.12"
      && aws_lambda_function.this[0].architectures[0] == "x86_64"
    )
    error_message = "tracing, VPC, runtime and architecture reach the function"
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this[0].destination_config[0].on_failure[0].destination == "arn:aws:sqs:eu-central-1:123456789012:failures"
    error_message = "failed asynchronous invocations go to the destination"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this[0].kms_key_id == var.key_arn
    error_message = "the log group is encrypted with its key"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.expiry[0].alarm_actions == toset(["arn:aws:sns:eu-central-1:123456789012:oncall"])
      && aws_cloudwatch_metric_alarm.errors[0].ok_actions == toset(["arn:aws:sns:eu-central-1:123456789012:oncall"])
    )
    error_message = "both alarms notify"
  }

  assert {
    condition = (
      length(aws_secretsmanager_secret_policy.this) == 1
      && aws_secretsmanager_secret_policy.this[0].block_public_policy
      && aws_secretsmanager_secret_policy.this[0].secret_arn == aws_secretsmanager_secret.this[0].arn
    )
    error_message = "readers in other accounts get a secret policy that blocks public access"
  }

  assert {
    condition = (
      aws_iam_role.eso[0].name == "ecr-token-rotator-eso-eu-central-1"
      && aws_iam_role_policy.eso[0].policy == output.eso_read_policy_json
      && aws_eks_pod_identity_association.eso[0].cluster_name == "platform"
      && aws_eks_pod_identity_association.eso[0].namespace == "eso"
      && aws_eks_pod_identity_association.eso[0].service_account == "reader"
      && aws_eks_pod_identity_association.eso[0].role_arn == aws_iam_role.eso[0].arn
      && output.eso_pod_identity_association_arn == aws_eks_pod_identity_association.eso[0].association_arn
    )
    error_message = "the ESO role reads with the read policy; the association binds ESO's service account to it"
  }

  assert {
    condition = alltrue([
      aws_secretsmanager_secret.this[0].tags.team == "platform",
      aws_lambda_function.this[0].tags.team == "platform",
      aws_iam_role.this[0].tags.team == "platform",
      aws_iam_role.eso[0].tags.team == "platform",
      aws_cloudwatch_log_group.this[0].tags.team == "platform",
      aws_scheduler_schedule_group.this[0].tags.team == "platform",
      aws_iam_role.scheduler[0].tags.team == "platform",
      aws_cloudwatch_metric_alarm.schedule[0].tags.team == "platform",
      aws_cloudwatch_metric_alarm.expiry[0].tags.team == "platform",
      aws_eks_pod_identity_association.eso[0].tags.team == "platform",
    ])
    error_message = "tags reach every resource that takes them"
  }
}

run "alarms_can_be_turned_off" {
  command = plan

  variables {
    alarms = { enabled = false }
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.errors) == 0 && length(aws_cloudwatch_metric_alarm.expiry) == 0 && length(aws_cloudwatch_metric_alarm.schedule) == 0
    error_message = "no alarms"
  }

  assert {
    condition     = output.expiry_alarm_arn == null && output.errors_alarm_arn == null && output.schedule_alarm_arn == null
    error_message = "their outputs are null"
  }
}

run "the_schedule_alarm_watches_the_groups_scheduler_metrics" {
  command = plan

  variables {
    alarms = { alarm_actions = ["arn:aws:sns:eu-central-1:123456789012:oncall"], ok_actions = ["arn:aws:sns:eu-central-1:123456789012:oncall"] }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.schedule[0].namespace == "AWS/Scheduler"
      && aws_cloudwatch_metric_alarm.schedule[0].metric_name == "TargetErrorCount"
      && aws_cloudwatch_metric_alarm.schedule[0].dimensions == tomap({ ScheduleGroup = "ecr-token-rotator" })
      && aws_cloudwatch_metric_alarm.schedule[0].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.schedule[0].period == 3600
      && aws_cloudwatch_metric_alarm.schedule[0].evaluation_periods == 1
    )
    error_message = "the attempts Lambda refused, summed per hour, in the module's own schedule group"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.schedule[0].threshold == 1
      && aws_cloudwatch_metric_alarm.schedule[0].comparison_operator == "GreaterThanOrEqualToThreshold"
      && aws_cloudwatch_metric_alarm.schedule[0].treat_missing_data == "notBreaching"
      && aws_cloudwatch_metric_alarm.schedule[0].alarm_actions == toset(["arn:aws:sns:eu-central-1:123456789012:oncall"])
      && aws_cloudwatch_metric_alarm.schedule[0].ok_actions == toset(["arn:aws:sns:eu-central-1:123456789012:oncall"])
    )
    error_message = "one failure in an hour alarms; no data is no failure; the alarms settings notify"
  }
}

run "outputs_of_the_rule_engine" {
  command = apply

  variables {
    schedule_engine = "rule"
  }

  assert {
    condition = (
      output.schedule_engine == "rule"
      && output.eventbridge_rule_arn == aws_cloudwatch_event_rule.this[0].arn
      && output.eventbridge_rule_name == "ecr-token-rotator"
      && output.scheduler_schedule_arn == null && output.scheduler_schedule_group_name == null
      && output.scheduler_role_arn == null && output.schedule_alarm_arn == null
    )
    error_message = "the rule engine's outputs name the rule; Scheduler's are null"
  }
}

run "the_expiry_alarm_watches_what_awscurrent_holds" {
  command = plan

  variables {
    alarms = { errors_threshold = 3 }
  }

  # rate(6 hours), 60-second timeout: a window of 360 + 15 + 1 minutes; threshold: the window,
  # 10 minutes for CloudWatch, 3 hours of warning. Behaviour: tests/terraform/test_alarms.py.
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.expiry[0].namespace == "ECRTokenRotator"
      && aws_cloudwatch_metric_alarm.expiry[0].metric_name == "TokenSecondsToExpiry"
      && jsonencode(aws_cloudwatch_metric_alarm.expiry[0].dimensions) == jsonencode({ FunctionName = "ecr-token-rotator" })
      && aws_cloudwatch_metric_alarm.expiry[0].statistic == "Maximum"
      && aws_cloudwatch_metric_alarm.expiry[0].comparison_operator == "LessThanThreshold"
      && aws_cloudwatch_metric_alarm.expiry[0].period == 60
      && aws_cloudwatch_metric_alarm.expiry[0].evaluation_periods == 376
      && aws_cloudwatch_metric_alarm.expiry[0].datapoints_to_alarm == 376
      && aws_cloudwatch_metric_alarm.expiry[0].threshold == (376 + 10 + 180) * 60
      && aws_cloudwatch_metric_alarm.expiry[0].treat_missing_data == "breaching"
      && output.cloudwatch_metric_namespace == "ECRTokenRotator"
    )
    error_message = "TokenSecondsToExpiry (the function's EMF metric) below the threshold in every minute of the window, missing data breaching"
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.errors[0].namespace == "AWS/Lambda"
      && aws_cloudwatch_metric_alarm.errors[0].metric_name == "Errors"
      && aws_cloudwatch_metric_alarm.errors[0].threshold == 3
      && aws_cloudwatch_metric_alarm.errors[0].period == 3600
      && aws_cloudwatch_metric_alarm.errors[0].treat_missing_data == "notBreaching"
    )
    error_message = "errors_threshold failed invocations within an hour"
  }
}

################################################################################
# Outputs
################################################################################

run "registry_hosts_default_to_the_own_account_and_region" {
  command = plan

  assert {
    condition     = jsonencode(output.registry_hosts) == jsonencode(["123456789012.dkr.ecr.eu-central-1.amazonaws.com"])
    error_message = "one host: this account in this region"
  }

  assert {
    condition     = output.region == "eu-central-1" && output.trigger_mode == "schedule" && output.rotation_enabled == false
    error_message = "region, trigger mode, no rotation"
  }

  assert {
    condition     = jsonencode(output.ecr_repository_arns) == jsonencode(["arn:aws:ecr:eu-central-1:123456789012:repository/*"])
    error_message = "the token may pull every repository of the covered registries"
  }
}

run "registry_hosts_follow_the_functions_order" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "us-east-1"]
    ecr_registry_ids = ["111111111111", "222222222222"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "111111111111.dkr.ecr.eu-central-1.amazonaws.com",
      "222222222222.dkr.ecr.eu-central-1.amazonaws.com",
      "111111111111.dkr.ecr.us-east-1.amazonaws.com",
      "222222222222.dkr.ecr.us-east-1.amazonaws.com",
    ])
    error_message = "regions outer, registry IDs inner: the order the function writes"
  }

  assert {
    condition     = jsonencode(output.ecr_regions) == jsonencode(["eu-central-1", "us-east-1"]) && jsonencode(output.ecr_registry_ids) == jsonencode(["111111111111", "222222222222"])
    error_message = "the covered regions and accounts"
  }
}

run "outputs_of_a_created_module" {
  command = apply

  assert {
    condition = (
      output.secret_arn == aws_secretsmanager_secret.this[0].arn
      && output.secret_name == "ecr-token-rotator"
      && output.lambda_function_arn == aws_lambda_function.this[0].arn
      && output.lambda_function_name == "ecr-token-rotator"
      && output.lambda_role_arn == aws_iam_role.this[0].arn
      && output.lambda_role_name == "ecr-token-rotator-eu-central-1"
      && output.cloudwatch_log_group_name == "/aws/lambda/ecr-token-rotator"
      && output.cloudwatch_log_group_arn == aws_cloudwatch_log_group.this[0].arn
      && output.schedule_engine == "scheduler"
      && aws_scheduler_schedule.this[0].target[0].arn == aws_lambda_function.this[0].arn
      && aws_scheduler_schedule.this[0].target[0].role_arn == aws_iam_role.scheduler[0].arn
      && output.scheduler_schedule_arn == aws_scheduler_schedule.this[0].arn
      && output.scheduler_schedule_name == "ecr-token-rotator"
      && output.scheduler_schedule_group_name == "ecr-token-rotator"
      && output.scheduler_schedule_group_arn == aws_scheduler_schedule_group.this[0].arn
      && output.scheduler_role_arn == aws_iam_role.scheduler[0].arn
      && output.scheduler_role_name == "ecr-token-rotator-scheduler-eu-central-1"
      && output.schedule_alarm_arn == aws_cloudwatch_metric_alarm.schedule[0].arn
      && output.eventbridge_rule_arn == null
      && output.eventbridge_rule_name == null
      && output.expiry_alarm_arn == aws_cloudwatch_metric_alarm.expiry[0].arn
      && output.errors_alarm_arn == aws_cloudwatch_metric_alarm.errors[0].arn
      && output.eso_read_policy_json == data.aws_iam_policy_document.eso_read[0].json
      && output.eso_role_arn == null
      && length(output.secret_replica_arns) == 0
      && length(output.secret_replica_status) == 0
      && output.apply_identity_policy_json == data.aws_iam_policy_document.apply_identity[0].json
    )
    error_message = "each output reads its resource"
  }
}

################################################################################
# Endpoint types and ECR Public: hosts per partition, in the function's order
################################################################################

run "every_endpoint_type_per_registry_and_region_in_the_functions_order" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1", "us-west-2"]
    ecr_registry_ids   = ["111111111111", "222222222222"]
    ecr_endpoint_types = ["ipv4", "dualstack", "fips"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "111111111111.dkr.ecr.us-east-1.amazonaws.com",
      "111111111111.dkr-ecr.us-east-1.on.aws",
      "111111111111.dkr.ecr-fips.us-east-1.amazonaws.com",
      "222222222222.dkr.ecr.us-east-1.amazonaws.com",
      "222222222222.dkr-ecr.us-east-1.on.aws",
      "222222222222.dkr.ecr-fips.us-east-1.amazonaws.com",
      "111111111111.dkr.ecr.us-west-2.amazonaws.com",
      "111111111111.dkr-ecr.us-west-2.on.aws",
      "111111111111.dkr.ecr-fips.us-west-2.amazonaws.com",
      "222222222222.dkr.ecr.us-west-2.amazonaws.com",
      "222222222222.dkr-ecr.us-west-2.on.aws",
      "222222222222.dkr.ecr-fips.us-west-2.amazonaws.com",
    ])
    error_message = "regions outer, registry IDs, then endpoint types in the given order"
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables.ECR_ENDPOINT_TYPES == "ipv4,dualstack,fips"
    error_message = "the types are passed through in their order"
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this[0].environment[0].variables), "ECR_PUBLIC")
    error_message = "ECR_PUBLIC is left out while ECR Public is off"
  }
}

run "dualstack_alone_replaces_the_ipv4_host" {
  command = plan

  variables {
    ecr_endpoint_types = ["dualstack", "dualstack-fips"]
    ecr_regions        = ["us-east-2"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "123456789012.dkr-ecr.us-east-2.on.aws",
      "123456789012.dkr-ecr-fips.us-east-2.on.aws",
    ])
    error_message = "an IPv6 cluster's hosts only: dual-stack and dual-stack FIPS"
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables.ECR_ENDPOINT_TYPES == "dualstack,dualstack-fips"
    error_message = "the types are passed through"
  }
}

run "an_explicit_ipv4_is_the_default_and_left_out_of_the_environment" {
  command = plan

  variables {
    ecr_endpoint_types = ["ipv4"]
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this[0].environment[0].variables), "ECR_ENDPOINT_TYPES")
    error_message = "the function defaults to ipv4 itself"
  }

  assert {
    condition     = jsonencode(output.registry_hosts) == jsonencode(["123456789012.dkr.ecr.eu-central-1.amazonaws.com"])
    error_message = "today's host"
  }
}

run "ecr_public_adds_its_host_last" {
  command = plan

  variables {
    ecr_public       = true
    ecr_registry_ids = ["111111111111", "222222222222"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "111111111111.dkr.ecr.eu-central-1.amazonaws.com",
      "222222222222.dkr.ecr.eu-central-1.amazonaws.com",
      "public.ecr.aws",
    ])
    error_message = "ECR Public after the private registries; no dual-stack host without a dual-stack type"
  }

  assert {
    condition     = aws_lambda_function.this[0].environment[0].variables.ECR_PUBLIC == "true"
    error_message = "ECR_PUBLIC is passed"
  }
}

run "ecr_public_with_dualstack_adds_its_dualstack_host" {
  command = plan

  variables {
    ecr_public         = true
    ecr_endpoint_types = ["ipv4", "dualstack"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
      "123456789012.dkr-ecr.eu-central-1.on.aws",
      "public.ecr.aws",
      "ecr-public.aws.com",
    ])
    error_message = "ECR Public's IPv4 and dual-stack hosts"
  }
}


# Every variable validation, run by Terraform itself: values each one accepts, and values it
# rejects at plan (one bad value per variable and run, so `expect_failures` names exactly the
# variables that must fail; any other error fails the run).

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

################################################################################
# Accepted
################################################################################

run "accepts_the_defaults" {
  command = plan
}

run "accepts_names_at_their_limits" {
  command = plan

  variables {
    name                = join("", [for i in range(64) : "n"]) # Lambda function names: 64
    lambda_role_name    = "role+=,.@_-${join("", [for i in range(53) : "r"])}"
    scheduler_role_name = "role+=,.@_-${join("", [for i in range(53) : "s"])}"
    secret_name         = "team/ecr+pull=.@_-${join("", [for i in range(494) : "s"])}"
    secret_description  = join("", [for i in range(512) : "dddd"])
    role_path           = "/service/ecr-token-rotator/"
    eso_namespace       = join("", [for i in range(63) : "e"])
    eso_service_account = "reader.${join("", [for i in range(246) : "a"])}"
  }
}

run "accepts_a_name_prefix_and_the_remaining_names" {
  command = plan

  variables {
    name                          = "a"
    secret_name_prefix            = "team/${join("", [for i in range(481) : "p"])}"
    eso_role_name                 = join("", [for i in range(64) : "e"])
    eso_pod_identity              = true
    eso_pod_identity_cluster_name = "Platform_prod-1"
    create_eso_role               = true
  }
}

run "accepts_arns_of_every_kind_and_partition" {
  command = plan

  variables {
    create_secret                    = false
    secret_arn                       = "arn:aws-eusc:secretsmanager:eusc-de-east-1:123456789012:secret:team/ecr+pull=.@_-AbCdEf"
    secret_kms_key_arn               = "arn:aws-eusc:kms:eusc-de-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    cloudwatch_log_group_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    role_permissions_boundary_arn    = "arn:aws:iam::aws:policy/PowerUserAccess"
    secret_reader_principal_arns     = []
    ecr_repository_arns = [
      "arn:aws:ecr:eu-central-1:123456789012:repository/team/*",
      "arn:aws-cn:ecr:cn-north-1:123456789012:repository/app",
    ]
    on_failure_destination_arn = "arn:aws:s3:::failures-bucket.example"
    alarms = {
      alarm_actions = ["arn:aws:sns:eu-central-1:123456789012:oncall"]
      ok_actions    = ["arn:aws-us-gov:sns:us-gov-west-1:123456789012:oncall"]
    }
    create_eso_role       = true
    eso_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  }
}

run "accepts_readers_and_replicas_in_every_partition_pattern" {
  command = plan

  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret_reader_principal_arns = [
      "arn:aws:iam::210987654321:role/external-secrets",
      "arn:aws:iam::210987654321:user/eso",
      "arn:aws:iam::210987654321:root",
    ]
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "us-gov-west-1", kms_key_arn = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "cn-north-1", kms_key_arn = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "eusc-de-east-1", kms_key_arn = "arn:aws-eusc:kms:eusc-de-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab" },
      { region = "ap-southeast-5", kms_key_arn = "arn:aws:kms:ap-southeast-5:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
    ]
  }

  # The variables accept every partition's region names and key ARNs. A primary in eu-central-1
  # replicates within aws only: the precondition that refuses the other partitions' regions
  # (preconditions.tftest.hcl) is the one failure here.
  expect_failures = [aws_secretsmanager_secret.this]
}

run "accepts_regions_accounts_and_probe_images" {
  command = plan

  variables {
    ecr_regions        = ["eu-central-1", "us-east-1"]
    ecr_registry_ids   = ["123456789012", "210987654321"]
    ecr_endpoint_types = ["ipv4", "dualstack"]
    probe_images = [
      "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest",
      "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app:v1.2.3",
      "123456789012.dkr-ecr.eu-central-1.on.aws/app@sha256:${join("", [for i in range(64) : "a"])}",
    ]
  }
}

run "accepts_every_endpoint_type_and_probe_images_on_each_host_form" {
  command = plan

  variables {
    ecr_regions        = ["us-west-2"]
    ecr_endpoint_types = ["dualstack-fips", "fips", "dualstack", "ipv4"]
    ecr_public         = true
    probe_images = [
      "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1",
      "123456789012.dkr-ecr.us-west-2.on.aws/app:1",
      "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com/team/app:1",
      "123456789012.dkr-ecr-fips.us-west-2.on.aws/app:1",
      "public.ecr.aws/docker/library/alpine:3.20",
      "ecr-public.aws.com/nginx/nginx@sha256:${join("", [for i in range(64) : "b"])}",
    ]
  }
}

run "accepts_pull_through_cache_prefixes_as_ecr_does" {
  command = plan

  variables {
    # 2 and 30 characters, nested paths, the separators ECR allows, a trailing /
    ecr_pull_through_cache_prefixes = [
      "k8",
      "team-a/docker_hub.mirror-1/x9",
      "quay.io",
      "ecr-public/",
      "a/b",
    ]
    ecr_list_tags = true
  }
}

run "accepts_the_lower_bounds" {
  command = plan

  variables {
    lambda_runtime                         = "python3.11"
    lambda_architecture                    = "x86_64"
    lambda_memory_size                     = 128
    lambda_timeout                         = 1
    lambda_reserved_concurrent_executions  = 1
    log_level                              = "DEBUG"
    cloudwatch_log_group_retention_in_days = 1
    secret_recovery_window_in_days         = 0
    schedule_expression                    = "rate(30 minutes)"
    maximum_retry_attempts                 = 0
    maximum_event_age_in_seconds           = 60
    alarms                                 = { expiry_warning_hours = 1, errors_threshold = 1 }
    vpc_config = {
      subnet_ids         = ["subnet-0abc1234"]
      security_group_ids = ["sg-0abc1234"]
    }
    on_failure_destination_arn = "arn:aws:sqs:eu-central-1:123456789012:failures"
  }
}

run "accepts_the_upper_bounds" {
  command = plan

  variables {
    lambda_runtime                         = "python3.12"
    lambda_memory_size                     = 10240
    lambda_timeout                         = 900
    lambda_reserved_concurrent_executions  = -1
    cloudwatch_log_group_retention_in_days = 3653
    secret_recovery_window_in_days         = 30
    schedule_expression                    = "rate(480 minutes)"
    maximum_retry_attempts                 = 2
    maximum_event_age_in_seconds           = 21600
    alarms                                 = { expiry_warning_hours = 2, errors_threshold = 5 } # 480 + 15 + 15 minutes apart: room for 140
    on_failure_destination_arn             = "arn:aws:sns:eu-central-1:123456789012:failures"
  }
}

run "accepts_the_middle_values" {
  command = plan

  variables {
    lambda_reserved_concurrent_executions  = 5
    cloudwatch_log_group_retention_in_days = 545
    secret_recovery_window_in_days         = 7
    schedule_expression                    = "rate(1 hour)"
    alarms                                 = { expiry_warning_hours = 4 }
    on_failure_destination_arn             = "arn:aws:lambda:eu-central-1:123456789012:function:failures"
  }
}

run "accepts_every_rate_in_hours" {
  command = plan

  variables {
    schedule_expression        = "rate(8 hours)"
    alarms                     = { expiry_warning_hours = 2 }
    on_failure_destination_arn = "arn:aws:events:eu-central-1:123456789012:event-bus/failures"
  }
}

run "accepts_rotation_schedules_of_4_hours" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(4 hours)"
  }
}

run "accepts_rotation_schedules_of_8_hours" {
  command = plan

  variables {
    trigger_mode                 = "rotation"
    rotation_schedule_expression = "rate(8 hours)"
    alarms                       = { expiry_warning_hours = 1 }
  }
}

run "accepts_the_longest_warning_on_the_shortest_schedule" {
  command = plan

  variables {
    schedule_expression = "rate(30 minutes)" # 46-minute window: room for 604 minutes
    alarms              = { expiry_warning_hours = 10 }
  }
}

################################################################################
# Rejected
################################################################################

run "rejects_names_with_other_characters" {
  command = plan

  variables {
    name                          = "ecr token rotator"
    secret_name                   = "ecr pull"
    secret_name_prefix            = "team pull-"
    lambda_role_name              = "role/with/slashes"
    eso_role_name                 = "eso role"
    role_path                     = "service"
    eso_namespace                 = "ESO"
    eso_service_account           = "Reader_SA"
    eso_pod_identity_cluster_name = "-platform"
    schedule_expression           = "rate(1 minute)"
    rotation_schedule_expression  = "cron(0 */6 * * ? *)"
  }

  expect_failures = [
    var.name, var.secret_name, var.secret_name_prefix, var.lambda_role_name, var.eso_role_name,
    var.role_path, var.eso_namespace, var.eso_service_account, var.eso_pod_identity_cluster_name,
    var.schedule_expression, var.rotation_schedule_expression,
  ]
}

run "rejects_names_over_their_limits" {
  command = plan

  variables {
    name                          = join("", [for i in range(65) : "n"])
    secret_name                   = join("", [for i in range(513) : "s"])
    secret_name_prefix            = join("", [for i in range(487) : "p"])
    secret_description            = "d${join("", [for i in range(512) : "dddd"])}"
    lambda_role_name              = join("", [for i in range(65) : "r"])
    eso_role_name                 = join("", [for i in range(65) : "e"])
    eso_namespace                 = join("", [for i in range(64) : "e"])
    eso_service_account           = join("", [for i in range(254) : "a"])
    eso_pod_identity_cluster_name = join("", [for i in range(101) : "c"])
    schedule_expression           = "rate(06 hours)"
    rotation_schedule_expression  = "rate(06 hours)"
  }

  expect_failures = [
    var.name, var.secret_name, var.secret_name_prefix, var.secret_description, var.lambda_role_name,
    var.eso_role_name, var.eso_namespace, var.eso_service_account,
    var.eso_pod_identity_cluster_name, var.schedule_expression, var.rotation_schedule_expression,
  ]
}

run "rejects_empty_names" {
  command = plan

  variables {
    name                          = ""
    secret_name                   = ""
    secret_name_prefix            = ""
    lambda_role_name              = ""
    eso_role_name                 = ""
    role_path                     = ""
    eso_namespace                 = ""
    eso_service_account           = ""
    eso_pod_identity_cluster_name = ""
    schedule_expression           = "rate(1 day)"
    rotation_schedule_expression  = "rate(6 hours"
  }

  expect_failures = [
    var.name, var.secret_name, var.secret_name_prefix, var.lambda_role_name, var.eso_role_name,
    var.role_path, var.eso_namespace, var.eso_service_account, var.eso_pod_identity_cluster_name,
    var.schedule_expression, var.rotation_schedule_expression,
  ]
}

run "rejects_arns_of_the_wrong_kind" {
  command = plan

  variables {
    secret_arn                       = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-pull" # partial: no suffix
    secret_kms_key_arn               = "arn:aws:kms:eu-central-1:123456789012:alias/secrets"
    cloudwatch_log_group_kms_key_arn = "1234abcd-12ab-34cd-56ef-1234567890ab"
    role_permissions_boundary_arn    = "arn:aws:iam::123456789012:role/boundary"
    eso_oidc_provider_arn            = "oidc.eks.eu-central-1.amazonaws.com/id/ABC123"
    on_failure_destination_arn       = "arn:aws:lambda:eu-central-1:123456789012:function:failures:live" # qualified
    secret_reader_principal_arns     = ["210987654321"]
    ecr_repository_arns              = ["*"]
    alarms                           = { alarm_actions = ["my-topic"] }
    secret_replicas                  = [{ region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:alias/secrets" }]
    schedule_expression              = "cron(0 */6 * * ? *)"
    rotation_schedule_expression     = "Rate(6 hours)"
  }

  expect_failures = [
    var.secret_arn, var.secret_kms_key_arn, var.cloudwatch_log_group_kms_key_arn,
    var.role_permissions_boundary_arn, var.eso_oidc_provider_arn, var.on_failure_destination_arn,
    var.secret_reader_principal_arns, var.ecr_repository_arns, var.alarms, var.secret_replicas,
    var.schedule_expression, var.rotation_schedule_expression,
  ]
}

run "rejects_more_arns_of_the_wrong_kind" {
  command = plan

  variables {
    secret_arn                       = "arn:aws:ssm:eu-central-1:123456789012:parameter/ecr-pull-AbCdEf"
    secret_kms_key_arn               = "1234abcd-12ab-34cd-56ef-1234567890ab"
    cloudwatch_log_group_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:alias/logs"
    role_permissions_boundary_arn    = "PowerUserAccess"
    eso_oidc_provider_arn            = "arn:aws:iam::123456789012:role/eso"
    on_failure_destination_arn       = "arn:aws:dynamodb:eu-central-1:123456789012:table/failures"
    secret_reader_principal_arns     = ["*"]
    ecr_repository_arns              = ["arn:aws:ecr:eu-central-1:*:repository/*"]
    alarms                           = { ok_actions = ["oncall"] }
    schedule_expression              = " rate(6 hours)"
    rotation_schedule_expression     = ""
  }

  expect_failures = [
    var.secret_arn, var.secret_kms_key_arn, var.cloudwatch_log_group_kms_key_arn,
    var.role_permissions_boundary_arn, var.eso_oidc_provider_arn, var.on_failure_destination_arn,
    var.secret_reader_principal_arns, var.ecr_repository_arns, var.alarms, var.schedule_expression,
    var.rotation_schedule_expression,
  ]
}

run "rejects_names_where_arns_belong" {
  command = plan

  variables {
    secret_arn                   = "ecr-pull"
    on_failure_destination_arn   = "arn:aws:sqs:eu-central-1:123456789012:failures.fifo" # FIFO: not a destination
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:group/readers"]
    ecr_repository_arns          = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app"]
    schedule_expression          = "rate(six hours)"
    probe_images                 = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app"] # no tag or digest
  }

  expect_failures = [
    var.secret_arn, var.on_failure_destination_arn, var.secret_reader_principal_arns,
    var.ecr_repository_arns, var.schedule_expression, var.probe_images,
  ]
}

run "rejects_a_queue_url_as_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "https://sqs.eu-central-1.amazonaws.com/123456789012/failures"
  }

  expect_failures = [var.on_failure_destination_arn]
}

run "rejects_regions_that_are_not_region_names" {
  command = plan

  variables {
    ecr_regions                  = ["eu-central-1", "eu-central"]
    secret_replicas              = [{ region = "EU-WEST-1" }]
    ecr_registry_ids             = ["12345678901"]
    schedule_expression          = "rate(6 Hours)"
    rotation_schedule_expression = "rate(6  hours)"
    probe_images                 = ["docker.io/library/alpine:3"]
  }

  expect_failures = [
    var.ecr_regions, var.secret_replicas, var.ecr_registry_ids, var.schedule_expression,
    var.rotation_schedule_expression, var.probe_images,
  ]
}

run "rejects_unknown_endpoint_types" {
  command = plan

  variables {
    ecr_endpoint_types = ["ipv4", "ipv6"]
    probe_images       = ["public.ecr.aws/alpine:3"] # ECR Public images need the registry alias
  }

  expect_failures = [var.ecr_endpoint_types, var.probe_images]
}

run "rejects_no_endpoint_type" {
  command = plan

  variables {
    ecr_endpoint_types = []
    probe_images       = ["123456789012.dkr_ecr.eu-central-1.amazonaws.com/app:1"]
  }

  expect_failures = [var.ecr_endpoint_types, var.probe_images]
}

run "rejects_a_repeated_endpoint_type" {
  command = plan

  variables {
    ecr_endpoint_types = ["dualstack", "ipv4", "dualstack"]
    probe_images       = ["123456789012.dkr.ecr.eu-central-1/app:1"] # no DNS suffix
  }

  expect_failures = [var.ecr_endpoint_types, var.probe_images]
}

run "rejects_endpoint_types_in_another_case" {
  command = plan

  variables {
    ecr_endpoint_types = ["IPv4"]
  }

  expect_failures = [var.ecr_endpoint_types]
}

run "rejects_more_regions_that_are_not_region_names" {
  command = plan

  variables {
    ecr_regions                  = ["eu_central_1"]
    secret_replicas              = [{ region = "eu-west-1a" }]
    ecr_registry_ids             = ["1234567890123"]
    schedule_expression          = "rate(0 hours)"
    rotation_schedule_expression = "rate(0 hours)"
    probe_images                 = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/App:latest"]
  }

  expect_failures = [
    var.ecr_regions, var.secret_replicas, var.ecr_registry_ids, var.schedule_expression,
    var.rotation_schedule_expression, var.probe_images,
  ]
}

run "rejects_abbreviations_and_empty_regions" {
  command = plan

  variables {
    ecr_regions         = ["euc1"]
    secret_replicas     = [{ region = "" }]
    ecr_registry_ids    = ["arn:aws:iam::123456789012:root"]
    schedule_expression = "rate(10 minutes)"                                                   # the minimum before versions were counted
    probe_images        = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest,other"] # a list
  }

  expect_failures = [
    var.ecr_regions, var.secret_replicas, var.ecr_registry_ids, var.schedule_expression,
    var.probe_images,
  ]
}

# Region names end where the pattern ends: an Availability Zone, a trailing space or newline, a
# third digit or a comma-joined list would otherwise plan (and reach the function's ECR_REGIONS).
run "rejects_an_availability_zone_as_a_region" {
  command = plan

  variables {
    ecr_regions     = ["eu-central-1a"]
    secret_replicas = [{ region = "eu-central-1a" }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_a_region_with_a_trailing_space" {
  command = plan

  variables {
    ecr_regions     = ["eu-central-1 "]
    secret_replicas = [{ region = "eu-west-1 " }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_a_region_with_a_trailing_newline" {
  command = plan

  variables {
    ecr_regions     = ["eu-central-1\n"]
    secret_replicas = [{ region = "eu-west-1\n" }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_a_region_number_of_three_digits" {
  command = plan

  variables {
    ecr_regions     = ["eu-central-100"]
    secret_replicas = [{ region = "eu-west-123" }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_regions_joined_in_one_string" {
  command = plan

  variables {
    ecr_regions     = ["eu-central-1,us-east-1"]
    secret_replicas = [{ region = "eu-west-1/eu-west-2" }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_a_region_with_a_leading_space" {
  command = plan

  variables {
    ecr_regions     = [" eu-central-1"]
    secret_replicas = [{ region = " eu-west-1" }]
  }

  expect_failures = [var.ecr_regions, var.secret_replicas]
}

run "rejects_repeated_regions_and_accounts" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "us-east-1", "eu-central-1"]
    ecr_registry_ids = ["123456789012", "123456789012"]
    secret_replicas  = [{ region = "eu-west-1" }, { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }]
  }

  expect_failures = [var.ecr_regions, var.ecr_registry_ids, var.secret_replicas]
}

run "rejects_values_below_their_range" {
  command = plan

  variables {
    lambda_runtime                         = "python3.10"
    lambda_architecture                    = "amd64"
    lambda_memory_size                     = 127
    lambda_timeout                         = 0
    lambda_reserved_concurrent_executions  = 0 # would throttle every invocation
    log_level                              = "WARNING"
    cloudwatch_log_group_retention_in_days = 0
    secret_recovery_window_in_days         = 3
    trigger_mode                           = "cron"
    schedule_expression                    = "rate(29 minutes)" # more than 48 runs (secret versions) a day
    rotation_schedule_expression           = "rate(3 hours)"    # below Secrets Manager's 4-hour minimum
    maximum_retry_attempts                 = -1
    maximum_event_age_in_seconds           = 59
    alarms                                 = { expiry_warning_hours = 0 }
    vpc_config                             = { subnet_ids = [], security_group_ids = ["sg-0abc"] }
  }

  expect_failures = [
    var.lambda_runtime, var.lambda_architecture, var.lambda_memory_size, var.lambda_timeout,
    var.lambda_reserved_concurrent_executions, var.log_level,
    var.cloudwatch_log_group_retention_in_days, var.secret_recovery_window_in_days,
    var.trigger_mode, var.schedule_expression, var.rotation_schedule_expression,
    var.maximum_retry_attempts, var.maximum_event_age_in_seconds, var.alarms, var.vpc_config,
  ]
}

run "rejects_values_above_their_range" {
  command = plan

  variables {
    lambda_runtime                         = "nodejs22.x"
    lambda_memory_size                     = 10241
    lambda_timeout                         = 901
    lambda_reserved_concurrent_executions  = -2
    log_level                              = "ERROR" # above INFO: Lambda drops the metric lines
    cloudwatch_log_group_retention_in_days = 3654
    secret_recovery_window_in_days         = 31
    schedule_expression                    = "rate(9 hours)" # too little room for retries within 12 hours
    rotation_schedule_expression           = "rate(9 hours)" # 9 + 1 hour of window is too close to 12
    maximum_retry_attempts                 = 3
    maximum_event_age_in_seconds           = 21601
    alarms                                 = { staleness_window_hours = 8 } # removed with the staleness alarm: refused with a note
    vpc_config                             = { subnet_ids = ["subnet-0abc"], security_group_ids = [] }
  }

  expect_failures = [
    var.lambda_runtime, var.lambda_memory_size, var.lambda_timeout,
    var.lambda_reserved_concurrent_executions, var.log_level,
    var.cloudwatch_log_group_retention_in_days, var.secret_recovery_window_in_days,
    var.schedule_expression, var.rotation_schedule_expression, var.maximum_retry_attempts,
    var.maximum_event_age_in_seconds, var.alarms, var.vpc_config,
  ]
}

run "rejects_fractions_and_near_misses" {
  command = plan

  variables {
    lambda_runtime                         = "python3.13 "
    lambda_memory_size                     = 128.5
    lambda_timeout                         = 1.5
    lambda_reserved_concurrent_executions  = 1.5
    log_level                              = "info"
    cloudwatch_log_group_retention_in_days = 364
    secret_recovery_window_in_days         = -1
    schedule_expression                    = "rate(481 minutes)"
    rotation_schedule_expression           = "rate(240 minutes)"
    alarms                                 = { expiry_warning_hours = 2.5 }
    vpc_config                             = { subnet_ids = ["sg-0abc"], security_group_ids = ["sg-0abc"] }
  }

  expect_failures = [
    var.lambda_runtime, var.lambda_memory_size, var.lambda_timeout,
    var.lambda_reserved_concurrent_executions, var.log_level,
    var.cloudwatch_log_group_retention_in_days, var.secret_recovery_window_in_days,
    var.schedule_expression, var.rotation_schedule_expression, var.alarms, var.vpc_config,
  ]
}

run "rejects_units_and_spellings_eventbridge_refuses" {
  command = plan

  variables {
    lambda_runtime                         = "python3"
    cloudwatch_log_group_retention_in_days = 366
    schedule_expression                    = "rate(1 hours)" # AWS wants the singular unit for 1
    rotation_schedule_expression           = "rate(1 day)"
    alarms                                 = { errors_threshold = 0 }
    vpc_config                             = { subnet_ids = ["subnet-0abc"], security_group_ids = ["subnet-0abc"] }
  }

  expect_failures = [
    var.lambda_runtime, var.cloudwatch_log_group_retention_in_days, var.schedule_expression,
    var.rotation_schedule_expression, var.alarms, var.vpc_config,
  ]
}

run "accepts_schedule_engines_time_zones_and_a_standard_queue" {
  command = plan

  variables {
    schedule_timezone        = "America/Argentina/Buenos_Aires"
    schedule_dead_letter_arn = "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:${join("", [for i in range(80) : "q"])}"
    scheduler_role_name      = "role+=,.@_-${join("", [for i in range(53) : "r"])}"
  }
}

run "accepts_utc_offsets_of_the_etc_area" {
  command = plan

  variables {
    schedule_timezone = "Etc/GMT+5"
  }
}

run "rejects_an_unknown_schedule_engine" {
  command = plan

  variables {
    schedule_engine = "cron"
  }

  expect_failures = [var.schedule_engine]
}

run "rejects_what_is_no_time_zone_name_and_no_queue" {
  command = plan

  variables {
    schedule_timezone        = "+02:00"
    schedule_dead_letter_arn = "arn:aws:sns:eu-central-1:123456789012:dead-letters"
    scheduler_role_name      = "scheduler role"
  }

  expect_failures = [var.schedule_timezone, var.schedule_dead_letter_arn, var.scheduler_role_name]
}

run "rejects_a_fifo_queue_and_a_time_zone_with_spaces" {
  command = plan

  variables {
    schedule_timezone        = "Europe/Berlin "
    schedule_dead_letter_arn = "arn:aws:sqs:eu-central-1:123456789012:dead-letters.fifo"
  }

  expect_failures = [var.schedule_timezone, var.schedule_dead_letter_arn]
}

run "rejects_root_as_a_pull_through_cache_prefix" {
  command = plan

  variables {
    ecr_pull_through_cache_prefixes = ["docker-hub", "ROOT"]
  }

  expect_failures = [var.ecr_pull_through_cache_prefixes]
}

run "rejects_a_wildcard_in_a_pull_through_cache_prefix" {
  command = plan

  variables {
    ecr_pull_through_cache_prefixes = ["docker-hub/*"]
  }

  expect_failures = [var.ecr_pull_through_cache_prefixes]
}

run "rejects_pull_through_cache_prefixes_ecr_refuses" {
  command = plan

  variables {
    ecr_pull_through_cache_prefixes = ["Docker-Hub", "/docker-hub", "d", "docker--hub", "docker-hub//x", "docker-hub-", "${join("", [for i in range(31) : "p"])}"]
  }

  expect_failures = [var.ecr_pull_through_cache_prefixes]
}

run "rejects_a_repeated_pull_through_cache_prefix" {
  command = plan

  variables {
    # ECR reads both as docker-hub/
    ecr_pull_through_cache_prefixes = ["docker-hub", "quay", "docker-hub/"]
  }

  expect_failures = [var.ecr_pull_through_cache_prefixes]
}

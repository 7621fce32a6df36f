################################################################################
# Log group (created before the function, so Lambda never creates an unmanaged one) and function
################################################################################

locals {
  lambda_zip_path         = coalesce(var.lambda_zip_path, "${path.module}/dist/ecr-token-rotator.zip")
  lambda_source_code_hash = filebase64sha256(local.lambda_zip_path)

  # Probe images on a host the docker config does not list (wrong account, region, endpoint
  # type, or ECR Public while it is off): the probe would fail on every run.
  probe_images_not_listed = [for image in var.probe_images : image if !contains(local.registry_hosts, split("/", image)[0])]

  # Lambda descriptions hold at most 256 characters and a secret name up to 512: name the secret
  # when it fits, else point to the function's SECRET_ID.
  lambda_description = (
    length(local.lambda_description_with_name) <= 256
    ? local.lambda_description_with_name
    : "Keeps the ECR pull credentials in the Secrets Manager secret of its SECRET_ID fresh."
  )
  lambda_description_with_name = "Keeps the ECR pull credentials in Secrets Manager secret ${coalesce(local.secret_name, "(created by this module)")} fresh."

  # Provider 6 has data.aws_region.region; provider 5 has only `name`, and no 5.x release
  # accepts runtime python3.14 (it came with 6.20.0).
  provider_major_is_5 = lookup(data.aws_region.current, "region", null) == null
}

resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.cloudwatch_log_group_retention_in_days
  kms_key_id        = var.cloudwatch_log_group_kms_key_arn

  tags = var.tags

  # KMS keys are regional, and CloudWatch Logs encrypts a log group with a key of the log group's
  # region (inferred as for the secret's key, see main.tf; the error AWS answers otherwise is "The
  # specified KMS key does not exist or is not allowed to be used with Arn ...").
  lifecycle {
    precondition {
      condition     = try(split(":", var.cloudwatch_log_group_kms_key_arn)[3] == local.region, true)
      error_message = "cloudwatch_log_group_kms_key_arn is a key in ${try(split(":", var.cloudwatch_log_group_kms_key_arn)[3], "?")}, and the function's log group is in ${local.region} (the provider's region): CloudWatch Logs encrypts a log group only with a KMS key of its own region. Use a key in ${local.region}."
    }
  }
}

resource "aws_lambda_function" "this" {
  count = local.create ? 1 : 0

  function_name = var.name
  description   = local.lambda_description
  role          = aws_iam_role.this[0].arn

  filename         = local.lambda_zip_path
  source_code_hash = local.lambda_source_code_hash
  handler          = "ecr_token_rotator.handler.lambda_handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_size
  timeout          = var.lambda_timeout

  reserved_concurrent_executions = var.lambda_reserved_concurrent_executions

  environment {
    variables = local.environment
  }

  # JSON logs; the success metric (EMF) is filed at INFO, hence log_level is DEBUG or INFO.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this[0].name
    application_log_level = var.log_level
    system_log_level      = "INFO"
  }

  tracing_config {
    mode = var.enable_xray_tracing ? "Active" : "PassThrough"
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = var.tags

  # The log group exists and the role can act before the first invocation.
  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]

  lifecycle {
    precondition {
      condition     = var.create_secret || length(var.secret_replicas) == 0
      error_message = "secret_replicas applies to a secret this module creates; replicate an existing secret where it is managed."
    }

    precondition {
      condition     = var.schedule_timezone == "UTC" || (local.schedule_mode && var.schedule_engine == "scheduler")
      error_message = "schedule_timezone applies to schedule_engine = \"scheduler\" in schedule mode; ${local.schedule_mode ? "an EventBridge rule runs in UTC only" : "in rotation mode Secrets Manager schedules the rotation"}. Remove schedule_timezone${local.schedule_mode ? ", or use schedule_engine = \"scheduler\"" : ""}."
    }

    precondition {
      condition     = var.schedule_dead_letter_arn == null || (local.schedule_mode && var.schedule_engine == "scheduler")
      error_message = "schedule_dead_letter_arn applies to schedule_engine = \"scheduler\" in schedule mode; ${local.schedule_mode ? "with the rule engine it would be ignored" : "in rotation mode Secrets Manager invokes the function and retries the rotation itself"}. Remove it${local.schedule_mode ? ", or use schedule_engine = \"scheduler\"" : ""}; on_failure_destination_arn records runs of the function that failed, with either engine."
    }

    precondition {
      condition     = local.schedule_mode || var.on_failure_destination_arn == null
      error_message = "on_failure_destination_arn applies to schedule mode (asynchronous invocations); in rotation mode Secrets Manager retries the rotation itself."
    }

    precondition {
      condition     = length(local.ecr_regions_of_other_partitions) == 0
      error_message = "ecr_regions ${join(", ", local.ecr_regions_of_other_partitions)}: not in this provider's partition (${local.partition}); the function's credentials reach the registries of their own partition only. Use a module instance in that partition."
    }

    precondition {
      condition     = length(local.ecr_regions_without_fips) == 0
      error_message = "ecr_endpoint_types: ${join(" and ", local.ecr_fips_types)} ${length(local.ecr_fips_types) > 1 ? "are" : "is"} not offered in ${join(", ", local.ecr_regions_without_fips)}: ECR has FIPS registry endpoints only in ${join(", ", local.ecr_fips_regions)}. Remove the type, or the region from ecr_regions."
    }

    precondition {
      condition     = length(local.ecr_dualstack_types) == 0 || local.ecr_dualstack_suffix != null
      error_message = "ecr_endpoint_types: ${join(" and ", local.ecr_dualstack_types)} ${length(local.ecr_dualstack_types) > 1 ? "are" : "is"} not offered in ${join(", ", local.ecr_regions)}: AWS documents dual-stack registry hosts for the ${join(", ", keys(local.ecr_dualstack_suffixes))} partitions only, and this is ${local.partition}. Remove the type."
    }

    precondition {
      condition     = !var.ecr_public || local.partition == "aws"
      error_message = "ecr_public: ECR Public exists only in the aws partition (its token comes from us-east-1), and this is ${local.partition}. Set ecr_public = false here."
    }

    precondition {
      condition     = local.registry_host_count <= local.max_registry_hosts
      error_message = "The docker config would hold ${local.registry_host_count} registry hosts (ecr_regions: ${length(local.ecr_regions)} x ecr_registry_ids: ${length(local.ecr_registry_ids)} x ecr_endpoint_types: ${length(var.ecr_endpoint_types)}${var.ecr_public ? " + ${length(local.ecr_public_hosts)} of ECR Public" : ""}); at most ${local.max_registry_hosts} fit in one secret (SecretString is capped at 65,536 characters and each host entry carries a ~4.3 KB auth). Use fewer regions, registry IDs or endpoint types, or split the registries over several module instances."
    }

    precondition {
      condition     = var.secret_kms_key_arn == null || local.secret_region == null || local.secret_kms_key_region == local.secret_region
      error_message = "secret_kms_key_arn is a key in ${coalesce(local.secret_kms_key_region, "?")}, and the secret is in ${coalesce(local.secret_region, "?")} (${var.create_secret ? "the provider's region, where the module creates it" : "the region of secret_arn"}): Secrets Manager encrypts a secret only with a KMS key in the secret's own region, and KMS keys are regional. Use a key in ${coalesce(local.secret_region, "the secret's region")} (a multi-Region key's replica there works too)."
    }

    precondition {
      condition     = !(local.provider_major_is_5 && var.lambda_runtime == "python3.14")
      error_message = "lambda_runtime python3.14 needs hashicorp/aws 6.20.0 or newer; no 5.x release accepts it. Use python3.13 on provider 5.x."
    }

    precondition {
      condition     = length(local.probe_images_not_listed) == 0
      error_message = "probe_images ${join(", ", local.probe_images_not_listed)}: not on a host the docker config lists (${join(", ", local.registry_hosts)}). Each image must be in a covered registry (ecr_registry_ids, default this account) and region (ecr_regions, default this region), on one of ecr_endpoint_types, or on ECR Public with ecr_public = true."
    }
  }
}

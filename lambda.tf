################################################################################
# Log group (created before the function, so Lambda never creates an unmanaged one) and function
################################################################################

locals {
  lambda_zip_path         = coalesce(var.lambda_zip_path, "${path.module}/dist/ecr-token-rotator.zip")
  lambda_source_code_hash = filebase64sha256(local.lambda_zip_path)

  # Where each probe image's registry is, to check it against the registries the token covers.
  probe_registries = [
    for image in var.probe_images : regex("^(?P<registry_id>[0-9]{12})\\.dkr\\.ecr(?:-fips)?\\.(?P<region>[a-z0-9-]+)\\.", image)
  ]

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
      condition     = local.schedule_mode || var.on_failure_destination_arn == null
      error_message = "on_failure_destination_arn applies to schedule mode (asynchronous invocations); in rotation mode Secrets Manager retries the rotation itself."
    }

    precondition {
      condition     = length(local.registry_hosts) <= local.max_registry_hosts
      error_message = "The docker config would hold ${length(local.registry_hosts)} registry hosts (ecr_regions: ${length(local.ecr_regions)} x ecr_registry_ids: ${length(local.ecr_registry_ids)}); at most ${local.max_registry_hosts} fit in one secret (SecretString is capped at 65,536 characters and each host entry carries a ~4.3 KB auth). Split the registries over several module instances."
    }

    precondition {
      condition     = !(local.provider_major_is_5 && var.lambda_runtime == "python3.14")
      error_message = "lambda_runtime python3.14 needs hashicorp/aws 6.20.0 or newer; no 5.x release accepts it. Use python3.13 on provider 5.x."
    }

    precondition {
      condition = alltrue([
        for registry in local.probe_registries :
        contains(local.ecr_registry_ids, registry.registry_id) && contains(local.ecr_regions, registry.region)
      ])
      error_message = "Every probe_images entry must be in a registry the token covers: its account in ecr_registry_ids (default: this account) and its region in ecr_regions (default: this region)."
    }
  }
}

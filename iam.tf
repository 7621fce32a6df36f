################################################################################
# The function's IAM role: exactly what the code calls, plus what others do with its
# credentials (the Lambda runtime, Secrets Manager, the kubelet pulling with the token).
# Remember: the ECR token carries exactly this role's ECR permissions.
################################################################################

locals {
  lambda_role_name = coalesce(var.lambda_role_name, var.name)
  # The ARN the log group below gets, known at plan (so is the policy, for an existing secret).
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}"

  # The Secrets Manager actions the function's code calls on its secret, per trigger mode
  # (lambda_src/ecr_token_rotator/secret_store.py). One list each, so a change of the code is one
  # edit; tests/terraform/test_iam_enforcement.py runs the code on exactly what Terraform renders.
  secret_actions = {
    # read the document, write the new version under the function's own label, and move
    # AWSCURRENT to it with a compare-and-swap (UpdateSecretVersionStage)
    schedule = [
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ]
    # also read the version stages of the rotation's version
    rotation = [
      "secretsmanager:GetSecretValue",
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
      "secretsmanager:DescribeSecret",
    ]
  }

  # On-failure destination (schedule mode): the action its type needs, from the ARN's service.
  destination_service = try(split(":", var.on_failure_destination_arn)[2], null)
  destination_actions = {
    sqs    = "sqs:SendMessage"
    sns    = "sns:Publish"
    lambda = "lambda:InvokeFunction"
    events = "events:PutEvents"
  }
  destination_enabled = local.schedule_mode && var.on_failure_destination_arn != null
}

data "aws_iam_policy_document" "assume_role" {
  count = local.create ? 1 : 0

  # The Lambda service assumes the role to run the function.
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = local.create ? 1 : 0

  name                 = local.lambda_role_name
  path                 = var.role_path
  description          = "Role of the ${var.name} Lambda function: refreshes the ECR pull credentials in one Secrets Manager secret."
  assume_role_policy   = data.aws_iam_policy_document.assume_role[0].json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "function" {
  count = local.create ? 1 : 0

  # The function reads the current docker config and publishes the refreshed one (the actions
  # of its trigger mode, see local.secret_actions).
  statement {
    sid       = "SecretReadWrite"
    actions   = local.secret_actions[var.trigger_mode]
    resources = [local.secret_arn]
  }

  # The function fetches the ECR tokens; GetAuthorizationToken has no resource-level permissions.
  statement {
    sid       = "EcrAuthorizationToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # ECR Public (ecr_public): the function fetches its token in us-east-1; ECR Public issues it
  # only with a service bearer token from STS. Neither action has resource-level permissions.
  dynamic "statement" {
    for_each = var.ecr_public ? ["ecr-public"] : []
    content {
      sid       = "EcrPublicAuthorizationToken"
      actions   = ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"]
      resources = ["*"]
    }
  }

  # Pulls made with the token: the function's probe (manifest HEAD) and the kubelet's image pulls.
  statement {
    sid       = "EcrPull"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = local.ecr_repository_arns
  }

  # The Lambda runtime writes the function's logs to its own log group.
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  # Secrets Manager decrypts and encrypts the secret under its customer-managed key with the
  # function's credentials; only through Secrets Manager in the secret's region.
  dynamic "statement" {
    for_each = local.kms_enabled ? ["kms"] : []
    content {
      sid       = "SecretKmsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.secret_kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.secret_region}.${local.dns_suffix}"]
      }
    }
  }

  # Replicas under customer-managed keys: Secrets Manager re-encrypts every version the function
  # writes with each replica's key, with the function's credentials (forward access session),
  # and only through Secrets Manager. (Decrypting the primary is the statement above.)
  dynamic "statement" {
    for_each = length(local.secret_replica_kms_key_arns) > 0 ? ["replica-kms"] : []
    content {
      sid       = "SecretReplicaKmsKeys"
      actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources = local.secret_replica_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for region in concat([local.region], keys(local.secret_replica_arns)) : "secretsmanager.${region}.${local.dns_suffix}"]
      }
    }
  }

  # Active tracing: the Lambda runtime sends trace segments; these X-Ray actions take only "*".
  dynamic "statement" {
    for_each = var.enable_xray_tracing ? ["xray"] : []
    content {
      sid       = "XRayWrite"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  # VPC mode: the Lambda service creates and removes the function's network interfaces with the
  # function's role (the actions of AWSLambdaVPCAccessExecutionRole; the Describe actions take
  # only "*", and the interfaces do not exist yet when the role is written).
  dynamic "statement" {
    for_each = var.vpc_config != null ? ["vpc"] : []
    content {
      sid = "VpcNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }

  # Schedule mode, on-failure destination: the Lambda service sends the failed invocation's
  # record to the SQS queue / SNS topic / Lambda function / event bus with the function's role.
  dynamic "statement" {
    for_each = local.destination_enabled && local.destination_service != "s3" ? [local.destination_service] : []
    content {
      sid       = "OnFailureDestination"
      actions   = [local.destination_actions[statement.value]]
      resources = [var.on_failure_destination_arn]
    }
  }

  # The same for an S3 bucket destination: the Lambda service lists the bucket...
  dynamic "statement" {
    for_each = local.destination_enabled && local.destination_service == "s3" ? ["s3"] : []
    content {
      sid       = "OnFailureDestinationBucket"
      actions   = ["s3:ListBucket"]
      resources = [var.on_failure_destination_arn]
    }
  }

  # ...and writes the failed invocation's record into it as an object.
  dynamic "statement" {
    for_each = local.destination_enabled && local.destination_service == "s3" ? ["s3"] : []
    content {
      sid       = "OnFailureDestinationObjects"
      actions   = ["s3:PutObject"]
      resources = ["${var.on_failure_destination_arn}/*"]
    }
  }

  # Checked here, before the first use of the secret's ARN.
  lifecycle {
    precondition {
      condition     = var.create_secret || var.secret_arn != null
      error_message = "With create_secret = false, set secret_arn to the existing secret's full ARN."
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = local.create ? 1 : 0

  name   = "ecr-token-rotator"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.function[0].json
}

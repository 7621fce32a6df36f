################################################################################
# The function's IAM role: exactly what the code calls, plus what others do with its
# credentials (the Lambda runtime, Secrets Manager, the kubelet pulling with the token).
# Remember: the ECR token carries exactly this role's ECR permissions.
################################################################################

locals {
  # The ARN the log group below gets, known at plan (so is the policy, for an existing secret).
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${var.name}"

  # The Secrets Manager actions the function's code calls on its secret, in both trigger modes
  # (lambda_src/ecr_token_rotator/secret_store.py, publish.py, rotation.py): read the document,
  # write the new version under the function's own label, move AWSCURRENT to it with a
  # compare-and-swap (UpdateSecretVersionStage), and describe the secret (rotation: the version
  # stages and RotationRules at every step; a refresh: whether a secret without a value exists
  # at all). One list, so a change of the code is one edit; tests/terraform/test_iam_enforcement.py
  # runs the code on exactly what Terraform renders.
  secret_actions = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
    "secretsmanager:DescribeSecret",
  ]

  # On-failure destination (schedule mode): the action its type needs, from the ARN's service.
  destination_service = try(split(":", var.on_failure_destination_arn)[2], null)
  destination_actions = {
    sqs    = "sqs:SendMessage"
    sns    = "sns:Publish"
    lambda = "lambda:InvokeFunction"
    events = "events:PutEvents"
  }
  destination_enabled = local.schedule_mode && var.on_failure_destination_arn != null

  # Pull-through cache repositories: repository/<prefix>/* of each covered registry and region
  # (ECR reads a rule's prefix with a trailing /, written or not).
  ecr_pull_through_cache_arns = flatten([
    for region in local.ecr_regions : [
      for registry_id in local.ecr_registry_ids : [
        for prefix in var.ecr_pull_through_cache_prefixes :
        "arn:${local.partition}:ecr:${region}:${registry_id}:repository/${trimsuffix(prefix, "/")}/*"
      ]
    ]
  ])
  # Tags are listed where the token pulls; the default repository/* already holds the cache's.
  ecr_list_tags_arns = concat(local.ecr_repository_arns, length(var.ecr_repository_arns) > 0 ? local.ecr_pull_through_cache_arns : [])
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

  name                 = local.role_names.lambda
  path                 = var.role_path
  description          = "Role of the ${var.name} Lambda function: refreshes the ECR pull credentials in one Secrets Manager secret."
  assume_role_policy   = data.aws_iam_policy_document.assume_role[0].json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.role_names.lambda) <= 64
      error_message = local.role_name_errors.lambda
    }
  }
}

data "aws_iam_policy_document" "function" {
  count = local.create ? 1 : 0

  # The function reads the current docker config and publishes the refreshed one (see
  # local.secret_actions).
  statement {
    sid       = "SecretReadWrite"
    actions   = local.secret_actions
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

  # Pull-through cache (ecr_pull_through_cache_prefixes): the kubelet's first pull of an image
  # under a rule's prefix makes ECR fetch it upstream with the token's permissions
  # (BatchImportUpstreamImage), into a cache repository it creates at that pull (CreateRepository);
  # the pulls as above. Only in the prefixes' repositories.
  dynamic "statement" {
    for_each = length(local.ecr_pull_through_cache_arns) > 0 ? ["pull-through-cache"] : []
    content {
      sid = "EcrPullThroughCache"
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",
      ]
      resources = local.ecr_pull_through_cache_arns
    }
  }

  # Tag listing (ecr_list_tags): Flux semver refs, Argo CD version ranges and image updaters list
  # a repository's tags with the token (the registry API's tags/list is ecr:ListImages).
  dynamic "statement" {
    for_each = var.ecr_list_tags ? ["list-tags"] : []
    content {
      sid       = "EcrListTags"
      actions   = ["ecr:ListImages"]
      resources = local.ecr_list_tags_arns
    }
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

  lifecycle {
    # Repository ARNs multiply: regions x registries x (repositories + pull-through cache
    # prefixes, again for tag listing). IAM counts a role's inline policies without whitespace.
    precondition {
      condition     = length(replace(data.aws_iam_policy_document.function[0].json, "/\\s/", "")) <= 10240
      error_message = "The function role's policy has ${length(replace(data.aws_iam_policy_document.function[0].json, "/\\s/", ""))} characters (without whitespace); IAM allows 10,240 per role. List fewer ecr_repository_arns (a trailing * covers a path) or ecr_pull_through_cache_prefixes, or cover fewer ecr_regions x ecr_registry_ids with one module call."
    }
  }
}

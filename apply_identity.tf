################################################################################
# The identity that runs `terraform apply`: what it needs beyond creating, reading, updating and
# deleting the module's resources (IAM roles and inline policies, the Lambda function and its
# permissions, CloudWatch Logs and alarms, EventBridge Scheduler or EventBridge, Secrets Manager,
# EKS Pod Identity), for this configuration: output apply_identity_policy_json (docs/security.md,
# "The identity that runs `terraform apply`"). Every ARN is built from the inputs, so `terraform plan` shows the policy before
# the first apply.
################################################################################

locals {
  lambda_function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.name}"
  role_arns           = { for role, name in local.role_names : role => "arn:${local.partition}:iam::${local.account_id}:role${var.role_path}${name}" }
}

data "aws_iam_policy_document" "apply_identity" {
  count = local.create ? 1 : 0

  # Lambda's CreateFunction and UpdateFunctionConfiguration pass the function's role to Lambda
  # (Lambda API reference: iam:PassRole on the execution role).
  statement {
    sid       = "PassFunctionRole"
    actions   = ["iam:PassRole"]
    resources = [local.role_arns.lambda]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  # schedule_engine = "scheduler": CreateSchedule and UpdateSchedule pass the schedule's execution
  # role to Scheduler (Scheduler user guide: iam:PassRole, iam:PassedToService
  # scheduler.amazonaws.com).
  dynamic "statement" {
    for_each = local.scheduler_engine ? ["scheduler"] : []
    content {
      sid       = "PassSchedulerRole"
      actions   = ["iam:PassRole"]
      resources = [local.role_arns.scheduler]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["scheduler.amazonaws.com"]
      }
    }
  }

  # The module's EKS Pod Identity association names the ESO role: CreatePodIdentityAssociation
  # and UpdatePodIdentityAssociation pass it to EKS (inferred, as for every API that takes a role
  # ARN for a service to assume; AWS does not document the PassedToService value, so there is no
  # condition: the resource is this one role).
  dynamic "statement" {
    for_each = local.create_eso_pod_identity_association ? ["eso"] : []
    content {
      sid       = "PassEsoRole"
      actions   = ["iam:PassRole"]
      resources = [local.role_arns.eso]
    }
  }

  # The apply-time invocation (aws_lambda_invocation) invokes the function; in rotation mode
  # RotateSecret also requires its caller to be allowed to invoke the rotation function.
  dynamic "statement" {
    for_each = var.invoke_on_apply || local.rotation_mode ? ["invoke"] : []
    content {
      sid       = "InvokeFunction"
      actions   = ["lambda:InvokeFunction"]
      resources = [local.lambda_function_arn]
    }
  }

  # CreateSecret under a customer-managed key needs kms:GenerateDataKey and kms:Decrypt on it,
  # which Secrets Manager uses with the caller's credentials, in the secret's region.
  dynamic "statement" {
    for_each = var.create_secret && local.kms_enabled ? ["kms"] : []
    content {
      sid       = "SecretKmsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.secret_kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${local.region}.${local.dns_suffix}"]
      }
    }
  }

  # Replicas under customer-managed keys: ReplicateSecretToRegions (and CreateSecret with replica
  # regions) needs kms:Encrypt and kms:GenerateDataKey on each replica's key, through Secrets
  # Manager in that key's region (decrypting the primary is the statement above).
  dynamic "statement" {
    for_each = length(local.secret_replica_kms_key_arns) > 0 ? ["replica-kms"] : []
    content {
      sid       = "SecretReplicaKmsKeys"
      actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
      resources = local.secret_replica_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for region in keys(local.secret_replica_arns) : "secretsmanager.${region}.${local.dns_suffix}"]
      }
    }
  }

  # VPC mode: Lambda checks the function's subnets and security groups with the caller's
  # credentials (Lambda developer guide, VPC access, "User permissions"); these Describe actions
  # take only "*".
  dynamic "statement" {
    for_each = var.vpc_config != null ? ["vpc"] : []
    content {
      sid       = "VpcDescribe"
      actions   = ["ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]
      resources = ["*"]
    }
  }
}

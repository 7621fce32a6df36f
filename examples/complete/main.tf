# Every feature on: a customer-managed KMS key (secret, logs, alarm topic), alarms that notify an
# SNS topic, an on-failure destination (SQS), a pull probe, X-Ray tracing, and an IAM role for
# External Secrets Operator bound to its controller with EKS Pod Identity. Schedule mode on
# EventBridge Scheduler, in the team's time zone, with a dead-letter queue (SQS).

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  # The function's log group, named by the module after the function; its key policy needs the ARN.
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${var.name}"
  # An image the new credential must be able to pull before the function publishes it: the image
  # the example Deployment runs, so the probe fails exactly when the pods would.
  probe_image = "${local.account_id}.dkr.ecr.${var.region}.${data.aws_partition.current.dns_suffix}/${var.probe_repository}:${var.probe_tag}"

  # A fresh token every 6 hours. Tokens live 12 hours, so a missed refresh and its retries still
  # leave hours of validity: the expiry alarm fires when runs keep failing or stop, over 5 hours
  # before the credential in the secret expires (docs/operations.md, the expiry alarm's rule).
  refresh_hours = 6
  # The cluster-side alert: the credential ESO copied expires within this many hours. With
  # everything working the copy is at most refresh_hours + ESO's refreshInterval (1h) old, so it
  # has 5 hours or more left; the AWS alarm fires first when the function is the cause.
  cluster_expiry_alert_hours = 4
}

################################################################################
# The module
################################################################################

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  name = var.name

  secret_name        = var.secret_name
  secret_kms_key_arn = aws_kms_key.this.arn

  probe_images = [local.probe_image]

  trigger_mode        = "schedule"
  schedule_expression = "rate(${local.refresh_hours} hours)"
  # EventBridge Scheduler (the default engine) retries an invocation Lambda refused, then sends
  # it to the dead-letter queue; Lambda retries a run that failed, then records it in failures.
  schedule_engine            = "scheduler"
  schedule_timezone          = var.schedule_timezone
  schedule_dead_letter_arn   = aws_sqs_queue.dead_letters.arn
  on_failure_destination_arn = aws_sqs_queue.failures.arn

  enable_xray_tracing                    = true
  cloudwatch_log_group_kms_key_arn       = aws_kms_key.this.arn
  cloudwatch_log_group_retention_in_days = 365

  alarms = {
    alarm_actions = [aws_sns_topic.alarms.arn]
    ok_actions    = [aws_sns_topic.alarms.arn]
  }

  create_eso_role               = true
  eso_namespace                 = var.eso_namespace
  eso_service_account           = var.eso_service_account
  eso_pod_identity              = true
  eso_pod_identity_cluster_name = var.cluster_name

  tags = var.tags
}

################################################################################
# KMS key: the secret, the function's log group and the alarm topic
################################################################################

# The key policy is set in the key itself, not in a separate aws_kms_key_policy: the log group
# (created with the key, in the same apply) depends on the key only, and hashicorp/aws creates a
# key with its policy and then waits until KMS answers with that policy several times in a row
# (KMS is eventually consistent). CloudWatch Logs checks at CreateLogGroup that it may use the key.
resource "aws_kms_key" "this" {
  description             = "Encrypts the ECR pull credential secret of ${var.name}, its logs and its alarm topic."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key; the account root statement is the standard delegation to IAM policies.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key; the account root statement is the standard delegation to IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key, not every resource.

  # The account's IAM policies decide who uses the key: the module grants the function
  # kms:Decrypt/GenerateDataKey and ESO kms:Decrypt, both only through Secrets Manager.
  statement {
    sid       = "AccountIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the function's log group, and nothing else, with the key.
  statement {
    sid       = "CloudWatchLogsLogGroup"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = [local.log_group_arn]
    }
  }

  # CloudWatch alarms of this account publish to the encrypted SNS topic.
  statement {
    sid       = "CloudWatchAlarmsToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

################################################################################
# Where alarms and failed invocations go
################################################################################

# Subscribe your on-call tooling to this topic (email, chat, incident management).
resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn

  tags = var.tags
}

# The record of an invocation that failed every retry (the module grants sqs:SendMessage on it).
resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600

  tags = var.tags
}

# Scheduler's dead letters: invocations it could not hand to Lambda after its retries. A standard
# queue (Scheduler takes no FIFO queue) with SQS-managed encryption, so the Scheduler role's
# sqs:SendMessage is all it needs (a customer-managed key would need the role in its key policy).
resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.name}-dead-letters"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600

  tags = var.tags
}

################################################################################
# ESO manifests, rendered from the module's outputs (kubectl apply -f manifests/generated/)
################################################################################

locals {
  manifest_values = {
    secret_name      = module.ecr_token_rotator.secret_name
    region           = module.ecr_token_rotator.region
    function_name    = module.ecr_token_rotator.lambda_function_name
    store_name       = var.name
    eso_namespace    = var.eso_namespace
    eso_sa           = var.eso_service_account
    app_namespace    = var.app_namespace
    pull_secret_name = var.pull_secret_name
    refresh_interval = var.eso_refresh_interval
    refresh_period   = "${local.refresh_hours}h"
    expiry_alert     = "${local.cluster_expiry_alert_hours}h"
    expiry_alert_s   = local.cluster_expiry_alert_hours * 3600
    image            = local.probe_image
  }

  eso_manifests = {
    "00-namespace.yaml"                   = templatefile("${path.module}/templates/namespace.yaml.tftpl", local.manifest_values)
    "10-cluster-secret-store.yaml"        = templatefile("${path.module}/templates/cluster-secret-store.yaml.tftpl", local.manifest_values)
    "20-external-secret.yaml"             = templatefile("${path.module}/templates/external-secret.yaml.tftpl", local.manifest_values)
    "21-external-secret-from-fields.yaml" = templatefile("${path.module}/templates/external-secret-from-fields.yaml.tftpl", local.manifest_values)
    "30-cluster-external-secret.yaml"     = templatefile("${path.module}/templates/cluster-external-secret.yaml.tftpl", local.manifest_values)
    "40-workload.yaml"                    = templatefile("${path.module}/templates/workload.yaml.tftpl", local.manifest_values)
    "50-prometheus-rule.yaml"             = templatefile("${path.module}/templates/prometheus-rule.yaml.tftpl", local.manifest_values)
    "51-credential-expiry.yaml"           = templatefile("${path.module}/templates/credential-expiry.yaml.tftpl", local.manifest_values)
  }
}

resource "local_file" "eso_manifests" {
  for_each = var.write_manifests ? local.eso_manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

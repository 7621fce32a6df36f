################################################################################
# Secret
################################################################################

output "secret_arn" {
  description = "ARN of the secret holding the docker config (created or existing). ESO's ExternalSecret reads it."
  value       = local.create ? local.secret_arn : null
}

output "secret_name" {
  description = "Name of the secret (the remoteRef key for ESO)."
  value       = local.create ? local.secret_name : null
}

output "secret_replica_arns" {
  description = "ARNs of the secret's replicas, by region."
  value       = local.create ? local.secret_replica_arns : null
}

output "secret_replica_status" {
  description = "Replication of each replica, by region, as of the last refresh: status (InSync, InProgress or Failed) and status_message. Replication is asynchronous and apply does not wait for it, so apply can end green with a Failed replica: read this after apply (terraform apply -refresh-only updates it; docs/troubleshooting.md)."
  value = local.create ? {
    for replica in try(aws_secretsmanager_secret.this[0].replica, []) :
    replica.region => { status = replica.status, status_message = replica.status_message }
  } : null
}

################################################################################
# Lambda function
################################################################################

output "lambda_function_arn" {
  description = "ARN of the Lambda function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "lambda_function_name" {
  description = "Name of the Lambda function (also the FunctionName dimension of its metrics)."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "lambda_role_arn" {
  description = "ARN of the function's IAM role. The ECR token carries this role's ECR permissions: repositories in other accounts must allow it in their repository policies."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "lambda_role_name" {
  description = "Name of the function's IAM role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "cloudwatch_log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "cloudwatch_log_group_arn" {
  description = "ARN of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].arn, null)
}

output "region" {
  description = "Region of the function (and of a secret the module creates)."
  value       = local.create ? local.region : null
}

################################################################################
# Trigger
################################################################################

output "trigger_mode" {
  description = "schedule or rotation."
  value       = local.create ? var.trigger_mode : null
}

output "schedule_engine" {
  description = "What invokes the function in schedule mode: scheduler (EventBridge Scheduler) or rule (an EventBridge rule); null in rotation mode."
  value       = local.create && local.schedule_mode ? var.schedule_engine : null
}

output "scheduler_schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule (null unless schedule_engine = \"scheduler\" in schedule mode)."
  value       = try(aws_scheduler_schedule.this[0].arn, null)
}

output "scheduler_schedule_name" {
  description = "Name of the EventBridge Scheduler schedule (null unless schedule_engine = \"scheduler\")."
  value       = try(aws_scheduler_schedule.this[0].name, null)
}

output "scheduler_schedule_group_name" {
  description = "Name of the schedule's own schedule group: the ScheduleGroup dimension of its AWS/Scheduler metrics (null unless schedule_engine = \"scheduler\")."
  value       = try(aws_scheduler_schedule_group.this[0].name, null)
}

output "scheduler_schedule_group_arn" {
  description = "ARN of the schedule's schedule group (null unless schedule_engine = \"scheduler\")."
  value       = try(aws_scheduler_schedule_group.this[0].arn, null)
}

output "scheduler_role_arn" {
  description = "ARN of the IAM role EventBridge Scheduler assumes to invoke the function (null unless schedule_engine = \"scheduler\"). A dead-letter queue under a customer-managed KMS key must allow it in the key policy."
  value       = try(aws_iam_role.scheduler[0].arn, null)
}

output "scheduler_role_name" {
  description = "Name of the IAM role EventBridge Scheduler assumes (null unless schedule_engine = \"scheduler\")."
  value       = try(aws_iam_role.scheduler[0].name, null)
}

output "eventbridge_rule_arn" {
  description = "ARN of the EventBridge schedule rule (null unless schedule_engine = \"rule\" in schedule mode)."
  value       = try(aws_cloudwatch_event_rule.this[0].arn, null)
}

output "eventbridge_rule_name" {
  description = "Name of the EventBridge schedule rule (null unless schedule_engine = \"rule\" in schedule mode)."
  value       = try(aws_cloudwatch_event_rule.this[0].name, null)
}

output "rotation_enabled" {
  description = "Whether Secrets Manager native rotation is enabled on the secret (true in rotation mode)."
  value       = try(aws_secretsmanager_secret_rotation.this[0].rotation_enabled, local.create ? false : null)
}

################################################################################
# Registries the docker config covers
################################################################################

output "registry_hosts" {
  description = "Registry hosts the docker config holds credentials for, in the function's order: for each region, each registry ID, each of ecr_endpoint_types (e.g. <registry id>.dkr.ecr.<region>.amazonaws.com, <registry id>.dkr-ecr.<region>.on.aws); then ECR Public's (public.ecr.aws, and ecr-public.aws.com with a dual-stack type) when ecr_public is on. kubelet matches image references against these exact hosts."
  value       = local.create ? local.registry_hosts : null
}

output "ecr_regions" {
  description = "Regions whose registries the docker config covers."
  value       = local.create ? local.ecr_regions : null
}

output "ecr_registry_ids" {
  description = "Account IDs whose registries the docker config covers."
  value       = local.create ? local.ecr_registry_ids : null
}

output "ecr_repository_arns" {
  description = "Repositories the token may pull from (the role's ECR pull permissions)."
  value       = local.create ? local.ecr_repository_arns : null
}

################################################################################
# Alarms and metrics
################################################################################

output "expiry_alarm_arn" {
  description = "ARN of the alarm on the outcome: it fires when the credential in AWSCURRENT nears its expiry because runs keep failing or stopped (alarms.expiry_warning_hours before it, by default 3 hours)."
  value       = try(aws_cloudwatch_metric_alarm.expiry[0].arn, null)
}

output "schedule_alarm_arn" {
  description = "ARN of the alarm on the schedule group's AWS/Scheduler metrics: Scheduler could not invoke the function (null unless schedule_engine = \"scheduler\" with alarms enabled)."
  value       = try(aws_cloudwatch_metric_alarm.schedule[0].arn, null)
}

output "errors_alarm_arn" {
  description = "ARN of the alarm on failed invocations."
  value       = try(aws_cloudwatch_metric_alarm.errors[0].arn, null)
}

output "cloudwatch_metric_namespace" {
  description = "CloudWatch namespace of the function's metrics (RefreshSuccess, TokenSecondsToExpiry; dimension FunctionName)."
  value       = local.create ? local.metric_namespace : null
}

################################################################################
# External Secrets Operator access
################################################################################

output "eso_read_policy_json" {
  description = "IAM policy JSON that lets a principal (e.g. ESO's role) read the secret and its replicas: GetSecretValue and DescribeSecret, plus kms:Decrypt through Secrets Manager when a CMK encrypts them."
  value       = try(data.aws_iam_policy_document.eso_read[0].json, null)
}

output "eso_role_arn" {
  description = "ARN of the ESO role (null unless create_eso_role): the eks.amazonaws.com/role-arn annotation for IRSA."
  value       = try(aws_iam_role.eso[0].arn, null)
}

output "eso_role_name" {
  description = "Name of the ESO role (null unless create_eso_role)."
  value       = try(aws_iam_role.eso[0].name, null)
}

output "eso_pod_identity_association_arn" {
  description = "ARN of the EKS Pod Identity association for ESO's service account (null unless created)."
  value       = try(aws_eks_pod_identity_association.eso[0].association_arn, null)
}

################################################################################
# The identity that runs terraform apply
################################################################################

output "apply_identity_policy_json" {
  description = "IAM policy JSON with what the identity running terraform apply needs for this configuration beyond managing the module's resources: iam:PassRole on the roles it passes, lambda:InvokeFunction for the apply-time invocation and rotation, KMS on the keys it names, EC2 Describe in VPC mode. Known at plan (docs/security.md: the identity that runs terraform apply)."
  value       = try(data.aws_iam_policy_document.apply_identity[0].json, null)
}

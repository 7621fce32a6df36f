output "secret_arn" {
  description = "ARN of the secret holding the docker config."
  value       = module.ecr_token_rotator.secret_arn
}

output "secret_name" {
  description = "Name of the secret (the ExternalSecret's remoteRef key)."
  value       = module.ecr_token_rotator.secret_name
}

output "lambda_function_name" {
  description = "Name of the function: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "cloudwatch_log_group_name" {
  description = "The function's log group."
  value       = module.ecr_token_rotator.cloudwatch_log_group_name
}

output "registry_hosts" {
  description = "Registry hosts the docker config covers."
  value       = module.ecr_token_rotator.registry_hosts
}

output "eso_role_arn" {
  description = "IAM role ESO's controller gets through EKS Pod Identity."
  value       = module.ecr_token_rotator.eso_role_arn
}

output "eso_pod_identity_association_arn" {
  description = "The EKS Pod Identity association of ESO's service account."
  value       = module.ecr_token_rotator.eso_pod_identity_association_arn
}

output "scheduler_schedule_arn" {
  description = "The EventBridge Scheduler schedule that invokes the function."
  value       = module.ecr_token_rotator.scheduler_schedule_arn
}

output "dead_letter_queue_url" {
  description = "Scheduler's dead-letter queue: invocations it could not hand to the function (README, Troubleshooting)."
  value       = aws_sqs_queue.dead_letters.url
}

output "alarm_topic_arn" {
  description = "SNS topic the errors, schedule and expiry alarms notify: subscribe your on-call tooling."
  value       = aws_sns_topic.alarms.arn
}

output "failure_queue_url" {
  description = "SQS queue that receives the record of an invocation that failed every retry."
  value       = aws_sqs_queue.failures.url
}

output "kms_key_arn" {
  description = "The KMS key of the secret, the log group and the alarm topic."
  value       = aws_kms_key.this.arn
}

output "eso_manifests" {
  description = "The ESO and workload manifests rendered for this deployment, by file name (also written to manifests/generated/)."
  value       = local.eso_manifests
}

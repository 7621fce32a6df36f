output "secret_arn" {
  description = "ARN of the secret in the primary region."
  value       = module.ecr_token_rotator.secret_arn
}

output "secret_replica_arns" {
  description = "ARNs of the secret's replicas, by region."
  value       = module.ecr_token_rotator.secret_replica_arns
}

output "rotation_enabled" {
  description = "Whether native rotation is enabled on the secret."
  value       = module.ecr_token_rotator.rotation_enabled
}

output "lambda_function_name" {
  description = "Name of the rotation function (the FunctionName dimension of its metrics)."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "lambda_role_arn" {
  description = "The function's role: the tokens carry its ECR permissions."
  value       = module.ecr_token_rotator.lambda_role_arn
}

output "registry_hosts" {
  description = "The four registry hosts (2 regions x 2 accounts) the docker config covers."
  value       = module.ecr_token_rotator.registry_hosts
}

output "eso_role_arn" {
  description = "IAM role both clusters' ESO controllers get through EKS Pod Identity."
  value       = module.ecr_token_rotator.eso_role_arn
}

output "shared_registry_repository_policy_json" {
  description = "Repository policy for the repositories of the shared registry account: lets the function's role (and so the token) pull."
  value       = data.aws_iam_policy_document.shared_registry_pull.json
}

output "eso_manifests" {
  description = "The manifests rendered for each cluster, by <region>/<file name> (also written to manifests/generated/)."
  value       = local.eso_manifests
}

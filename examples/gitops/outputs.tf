output "secret_name" {
  description = "Name of the secret (the ExternalSecrets' remoteRef key)."
  value       = module.ecr_token_rotator.secret_name
}

output "lambda_function_name" {
  description = "Name of the function: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "eso_role_arn" {
  description = "The role the reader service account's eks.amazonaws.com/role-arn annotation names."
  value       = module.ecr_token_rotator.eso_role_arn
}

output "registry_hosts" {
  description = "Registry hosts the docker config covers: Argo CD gets a repository credential for each."
  value       = module.ecr_token_rotator.registry_hosts
}

output "chart_reference" {
  description = "The chart as Helm, Flux and Argo CD's native OCI source name it: oci://<host>/<chart_repository>, tag chart_version."
  value       = "oci://${local.chart_host}/${var.chart_repository}"
}

output "manifests" {
  description = "The manifests rendered for this deployment, by file name (also written to manifests/generated/)."
  value       = local.manifests
}

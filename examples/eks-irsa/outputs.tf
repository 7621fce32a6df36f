output "secret_name" {
  description = "Name of the secret (the ExternalSecret's remoteRef key)."
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
  description = "Registry hosts the docker config covers."
  value       = module.ecr_token_rotator.registry_hosts
}

output "expiry_alarm_arn" {
  description = "Alarm that fires hours before the credential in the secret expires, when runs keep failing or stop."
  value       = module.ecr_token_rotator.expiry_alarm_arn
}

output "eso_manifests" {
  description = "The manifests rendered for this deployment, by file name (also written to manifests/generated/)."
  value       = local.eso_manifests
}

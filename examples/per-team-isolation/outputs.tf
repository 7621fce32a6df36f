output "secret_names" {
  description = "Each team's secret name (its ExternalSecret's remoteRef key), by team."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.secret_name }
}

output "secret_arns" {
  description = "Each team's secret ARN, by team: the only secret its ESO role may read."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.secret_arn }
}

output "lambda_function_names" {
  description = "Each team's function, by team: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh of that team's secret."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.lambda_function_name }
}

output "lambda_role_arns" {
  description = "Each team's function role, by team: its tokens carry exactly this role's ECR permissions."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.lambda_role_arn }
}

output "ecr_repository_arns" {
  description = "The repositories each team's token may pull, by team."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.ecr_repository_arns }
}

output "eso_role_arns" {
  description = "Each team's ESO role, by team: the eks.amazonaws.com/role-arn annotation of the reader service account in that team's namespace."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.eso_role_arn }
}

output "registry_hosts" {
  description = "Registry hosts the teams' docker configs cover (the same host for every team: what differs is what each team's token may pull there)."
  value       = distinct(flatten([for rotator in module.ecr_token_rotator : rotator.registry_hosts]))
}

output "expiry_alarm_arns" {
  description = "Each team's expiry alarm, by team: fires hours before the credential in that team's secret expires (runs failing or stopped)."
  value       = { for team, rotator in module.ecr_token_rotator : team => rotator.expiry_alarm_arn }
}

output "eso_manifests" {
  description = "The manifests rendered for each team, by <team>/<file name> (also written to manifests/generated/)."
  value       = local.eso_manifests
}

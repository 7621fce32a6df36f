output "eso_iam_user_name" {
  description = "IAM user whose access key ESO uses: aws iam create-access-key --user-name <this> (see README)."
  value       = aws_iam_user.eso.name
}

output "secret_name" {
  description = "Name of the secret (the ExternalSecret's remoteRef key)."
  value       = module.ecr_token_rotator.secret_name
}

output "lambda_function_name" {
  description = "Name of the function: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "registry_hosts" {
  description = "Registry hosts the docker config covers."
  value       = module.ecr_token_rotator.registry_hosts
}

output "eso_manifests" {
  description = "The manifests rendered for this deployment, by file name (also written to manifests/generated/)."
  value       = local.eso_manifests
}

output "secret_arn" {
  description = "ARN of the secret: the ExternalSecret in the reader's cluster names it by this ARN (remoteRef.key), as Secrets Manager requires for another account's secret."
  value       = module.ecr_token_rotator.secret_arn
}

output "kms_key_arn" {
  description = "The customer-managed key of the secret; its key policy lets the reader's role decrypt through Secrets Manager."
  value       = aws_kms_key.secret.arn
}

output "reader_role_arn" {
  description = "The reader's role in its own account: the eks.amazonaws.com/role-arn annotation of the reader service account."
  value       = aws_iam_role.reader.arn
}

output "lambda_function_name" {
  description = "Name of the function: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "registry_hosts" {
  description = "Registry hosts the docker config covers (the owner's registry)."
  value       = module.ecr_token_rotator.registry_hosts
}

output "eso_manifests" {
  description = "The manifests rendered for the reader's cluster, by file name (also written to manifests/generated/)."
  value       = local.eso_manifests
}

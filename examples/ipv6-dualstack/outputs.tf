output "secret_name" {
  description = "Name of the secret (the ExternalSecret's remoteRef key)."
  value       = module.ecr_token_rotator.secret_name
}

output "lambda_function_name" {
  description = "Name of the function: aws lambda invoke --function-name <this> --cli-binary-format raw-in-base64-out --payload '{}' out.json forces a refresh (and the probe of the dual-stack host)."
  value       = module.ecr_token_rotator.lambda_function_name
}

output "eso_role_arn" {
  description = "The role the reader service account's eks.amazonaws.com/role-arn annotation names."
  value       = module.ecr_token_rotator.eso_role_arn
}

output "registry_hosts" {
  description = "Registry hosts the docker config covers: this account's dual-stack host (and the IPv4 one with ipv4), then ECR Public's with ecr_public."
  value       = module.ecr_token_rotator.registry_hosts
}

output "app_image" {
  description = "The image the Deployment runs and the function probes, on the dual-stack registry host."
  value       = local.app_image
}

output "cluster_ip_family" {
  description = "The cluster's IP family as EKS reports it: ipv6 for the cluster this example is for."
  value       = try(data.aws_eks_cluster.this.kubernetes_network_config[0].ip_family, null)
}

output "expiry_alarm_arn" {
  description = "Alarm that fires hours before the credential in the secret expires, when runs keep failing or stop."
  value       = module.ecr_token_rotator.expiry_alarm_arn
}

output "eso_manifests" {
  description = "The manifests rendered for this deployment, by file name (also written to manifests/generated/)."
  value       = local.eso_manifests
}

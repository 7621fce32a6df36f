variable "region" {
  description = "Region of the function, the secret, its KMS key and the ECR registry, in the owner's account."
  type        = string
  default     = "eu-central-1"
}

variable "reader_region" {
  description = "Region of the reader's EKS cluster (ESO there reads the secret in var.region)."
  type        = string
  default     = "eu-central-1"
}

variable "reader_account_role_arn" {
  description = "Existing IAM role in the reader's account that Terraform assumes to create the reader's role there (e.g. OrganizationAccountAccessRole)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.reader_account_role_arn))
    error_message = "reader_account_role_arn must be an IAM role ARN, e.g. arn:aws:iam::210987654321:role/OrganizationAccountAccessRole."
  }
}

variable "reader_cluster_name" {
  description = "Existing EKS cluster in the reader's account whose ESO reads the secret. Its IAM OIDC provider must exist (IRSA: eksctl utils associate-iam-oidc-provider, or your cluster module)."
  type        = string
}

variable "name" {
  description = "Name of the function and of the secret (and of the ClusterSecretStore); the reader's role is <name>-reader."
  type        = string
  default     = "ecr-token-rotator"
}

variable "eso_namespace" {
  description = "Namespace of the External Secrets Operator controller in the reader's cluster, where the reader service account lives."
  type        = string
  default     = "external-secrets"
}

variable "reader_service_account" {
  description = "Service account that the ClusterSecretStore authenticates as (auth.jwt.serviceAccountRef) and that the reader's role trusts. No pod runs as it: ESO requests tokens for it."
  type        = string
  default     = "ecr-pull-secret-reader"
}

variable "app_namespace" {
  description = "Namespace of the example workload and its pull secret."
  type        = string
  default     = "apps"
}

variable "pull_secret_name" {
  description = "Name of the kubernetes.io/dockerconfigjson Secret ESO creates (and of the ExternalSecret)."
  type        = string
  default     = "ecr-pull-secret"
}

variable "eso_refresh_interval" {
  description = "How often ESO re-reads the secret (refreshInterval). The credential in the cluster is at most the refresh period (6 hours) plus this old; tokens live 12 hours."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.eso_refresh_interval)) && var.eso_refresh_interval != ""
    error_message = "eso_refresh_interval must be a Go duration in hours, minutes and seconds, e.g. 1h or 30m."
  }
}

variable "app_image_repository" {
  description = "Repository in the owner's registry (in var.region) of the image the example Deployment runs in the reader's cluster."
  type        = string
  default     = "platform/app"
}

variable "app_image_tag" {
  description = "Tag of that image."
  type        = string
  default     = "1.0.0"
}

variable "write_manifests" {
  description = "Whether to write the rendered manifests to manifests/generated/ (they are also in the eso_manifests output)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "region" {
  description = "Primary region: the function, the secret, and the first ECR region of the docker config."
  type        = string
  default     = "eu-central-1"
}

variable "secondary_region" {
  description = "Second ECR region of the docker config, where the secret is replicated for the cluster there."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name of the function and of the secret (and of the ClusterSecretStore)."
  type        = string
  default     = "ecr-token-rotator"
}

variable "cluster_name" {
  description = "Existing EKS cluster in the primary region (with the EKS Pod Identity Agent add-on): its ESO controller gets the ESO role through EKS Pod Identity."
  type        = string
}

variable "secondary_cluster_name" {
  description = "Existing EKS cluster in the secondary region (with the EKS Pod Identity Agent add-on)."
  type        = string
}

variable "shared_registry_account_id" {
  description = "A second account whose registries the docker config also covers (e.g. a shared base-image account). Its repository policies must allow the function's role (see the shared_registry_repository_policy_json output)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.shared_registry_account_id))
    error_message = "shared_registry_account_id must be a 12-digit AWS account ID."
  }
}

variable "eso_namespace" {
  description = "Namespace of the External Secrets Operator controller in both clusters."
  type        = string
  default     = "external-secrets"
}

variable "eso_service_account" {
  description = "Service account of the External Secrets Operator controller in both clusters (the Helm chart's default name)."
  type        = string
  default     = "external-secrets"
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
  description = "How often ESO re-reads the secret (refreshInterval). The credential in the cluster is at most the rotation period (6 hours) plus the rotation window (1 hour) plus this old; tokens live 12 hours."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.eso_refresh_interval)) && var.eso_refresh_interval != ""
    error_message = "eso_refresh_interval must be a Go duration in hours, minutes and seconds, e.g. 1h or 30m."
  }
}

variable "app_image_repository" {
  description = "Repository of the example workload's image in this account's registry (in each cluster's region)."
  type        = string
  default     = "platform/app"
}

variable "app_image_tag" {
  description = "Tag of that image."
  type        = string
  default     = "1.0.0"
}

variable "shared_image_repository" {
  description = "Repository of the example workload's second image, in the shared registry account (in each cluster's region)."
  type        = string
  default     = "shared/log-shipper"
}

variable "shared_image_tag" {
  description = "Tag of that image."
  type        = string
  default     = "2.3.0"
}

variable "write_manifests" {
  description = "Whether to write the rendered manifests to manifests/generated/<region>/ (they are also in the eso_manifests output)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

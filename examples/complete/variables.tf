variable "region" {
  description = "Region of the function, the secret and the ECR registry."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Name of the function (and of its role, log group, alarms, KMS alias, SNS topic, SQS queue and ClusterSecretStore)."
  type        = string
  default     = "ecr-token-rotator"
}

variable "secret_name" {
  description = "Name of the Secrets Manager secret holding the docker config."
  type        = string
  default     = "platform/ecr-pull-credential"
}

variable "schedule_timezone" {
  description = "IANA time zone of the refresh schedule (EventBridge Scheduler)."
  type        = string
  default     = "Europe/Berlin"
}

variable "cluster_name" {
  description = "Existing EKS cluster (with the EKS Pod Identity Agent add-on) whose External Secrets Operator reads the secret: the module creates the Pod Identity association there."
  type        = string
}

variable "eso_namespace" {
  description = "Namespace of the External Secrets Operator controller."
  type        = string
  default     = "external-secrets"
}

variable "eso_service_account" {
  description = "Service account of the External Secrets Operator controller (the Helm chart's default name)."
  type        = string
  default     = "external-secrets"
}

variable "probe_repository" {
  description = "Repository of an image that exists in this account's registry (in var.region), e.g. platform/base: the function pulls its manifest with every new credential before publishing it (the apply-time refresh fails if it does not exist), and the example Deployment runs it."
  type        = string
}

variable "probe_tag" {
  description = "Tag of that image (it must exist), e.g. stable."
  type        = string
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

variable "write_manifests" {
  description = "Whether to write the rendered ESO manifests to manifests/generated/ (they are also in the eso_manifests output)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "region" {
  description = "Region of the function, the secret, the ECR registry and the EKS cluster."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Name of the function and of the secret (and of the ClusterSecretStore)."
  type        = string
  default     = "ecr-token-rotator"
}

variable "cluster_name" {
  description = "Existing IPv6 EKS cluster (created with ip_family ipv6, in a dual-stack VPC) whose IAM OIDC provider the ESO role trusts (IRSA). The provider must exist (eksctl utils associate-iam-oidc-provider, or your cluster module)."
  type        = string
}

variable "ecr_endpoint_types" {
  description = "Registry endpoint types the docker config lists a host for (the module's ecr_endpoint_types). dualstack: <account>.dkr-ecr.<region>.on.aws, the host the Deployment and the probe use. Add ipv4 while some workloads still name images on <account>.dkr.ecr.<region>.amazonaws.com: kubelet matches the exact host."
  type        = list(string)
  default     = ["dualstack"]

  validation {
    condition     = contains(var.ecr_endpoint_types, "dualstack")
    error_message = "This example's Deployment and pull probe use the dual-stack host (<account>.dkr-ecr.<region>.on.aws): keep \"dualstack\" in ecr_endpoint_types, and add \"ipv4\" for images referenced on the IPv4 host."
  }
}

variable "ecr_public" {
  description = "Whether the docker config also lists ECR Public's hosts (public.ecr.aws, and ecr-public.aws.com, its dual-stack host), so that pods pull public images authenticated: authenticated pulls have higher quotas than anonymous ones. The aws partition only."
  type        = bool
  default     = true
}

variable "app_image_repository" {
  description = "Repository of an image that exists in this account's registry (in var.region), e.g. platform/app: the example Deployment runs it from the dual-stack host, and the function pulls its manifest from there with every new credential before publishing it (the apply-time refresh fails if it does not exist)."
  type        = string
}

variable "app_image_tag" {
  description = "Tag of that image (it must exist), e.g. 1.0.0."
  type        = string
}

variable "eso_namespace" {
  description = "Namespace of the External Secrets Operator controller, where the reader service account lives."
  type        = string
  default     = "external-secrets"
}

variable "reader_service_account" {
  description = "Service account that the ClusterSecretStore authenticates as (auth.jwt.serviceAccountRef) and that the module's ESO role trusts. No pod runs as it: ESO requests tokens for it."
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

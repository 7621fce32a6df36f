variable "region" {
  description = "Region of the function, the secret and the ECR registry holding the charts."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Name of the function and of the secret (and of the ClusterSecretStore)."
  type        = string
  default     = "ecr-token-rotator"
}

variable "oidc_provider_arn" {
  description = "Existing IAM OIDC provider of the cluster's service account issuer, which the ESO role trusts (auth.jwt): EKS's IRSA provider, or one registered in IAM for another cluster whose service account issuer is published."
  type        = string
}

variable "ecr_regions" {
  description = "Regions whose registries the docker config covers, the charts' region first (empty: var.region). Argo CD gets one credential per registry host."
  type        = list(string)
  default     = []
}

variable "ecr_registry_ids" {
  description = "Account IDs whose registries the docker config covers, the charts' registry first (empty: this account). Argo CD gets one credential per registry host."
  type        = list(string)
  default     = []
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

variable "argocd_namespace" {
  description = "Namespace Argo CD runs in: its repository credentials and Applications live there."
  type        = string
  default     = "argocd"
}

variable "argocd_repository_type" {
  description = "How Argo CD pulls the chart: helm (a Helm repository with enableOCI, repoURL without a scheme; Argo CD 2.x and 3.x) or oci (native OCI sources, oci:// URLs; Argo CD 3.1 or newer). Picks the credentials' type and the Application's source."
  type        = string
  default     = "helm"

  validation {
    condition     = contains(["helm", "oci"], var.argocd_repository_type)
    error_message = "argocd_repository_type must be helm or oci."
  }
}

variable "app_namespace" {
  description = "Namespace the chart is installed into; it also holds the pull secret (for the chart's pods and Flux's OCIRepository) and Flux's objects."
  type        = string
  default     = "apps"
}

variable "pull_secret_name" {
  description = "Name of the kubernetes.io/dockerconfigjson Secret ESO creates in app_namespace (and of its ExternalSecret)."
  type        = string
  default     = "ecr-pull-secret"
}

variable "chart_repository" {
  description = "ECR repository of the Helm chart on the first registry host, e.g. charts/app for a chart app pushed with helm push app-1.0.0.tgz oci://<host>/charts. Its last path segment is the chart's name."
  type        = string
  default     = "charts/app"

  validation {
    condition     = can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", var.chart_repository))
    error_message = "chart_repository must be an ECR repository name such as charts/app (lower case, path segments separated by /)."
  }
}

variable "chart_version" {
  description = "Version of the chart (its OCI tag) that Argo CD and Flux install."
  type        = string
  default     = "1.0.0"
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

variable "flux_interval" {
  description = "How often Flux checks the OCIRepository and reconciles the HelmRelease (spec.interval)."
  type        = string
  default     = "10m"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.flux_interval)) && var.flux_interval != ""
    error_message = "flux_interval must be a Go duration, e.g. 10m."
  }
}

variable "write_manifests" {
  description = "Whether to write the rendered manifests to manifests/generated/ (they are also in the manifests output)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

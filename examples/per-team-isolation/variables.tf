variable "region" {
  description = "Region of the functions, the secrets, the ECR registry and the EKS cluster."
  type        = string
  default     = "eu-central-1"
}

variable "cluster_name" {
  description = "Existing EKS cluster whose IAM OIDC provider every team's ESO role trusts (IRSA). The provider must exist (eksctl utils associate-iam-oidc-provider, or your cluster module)."
  type        = string
}

variable "name" {
  description = "Prefix of each team's function, secret and roles: <name>-<team>."
  type        = string
  default     = "ecr-token-rotator"
}

variable "teams" {
  description = "The teams, by the name of their Kubernetes namespace: the repositories of this account's registry (in var.region) each team's token may pull (repository names, or name prefixes ending in *), and the image its example Deployment runs (<repository>:<tag>, in one of those repositories; its function probes it before publishing a token). The image must exist."
  type = map(object({
    repositories = list(string)
    app_image    = string
  }))
  default = {
    team-a = { repositories = ["team-a/*"], app_image = "team-a/api:1.0.0" }
    team-b = { repositories = ["team-b/*"], app_image = "team-b/web:2.3.1" }
  }

  validation {
    # The namespace, and a part of <name>-<team>-eso (IAM role names: 64 characters).
    condition     = length(var.teams) > 0 && alltrue([for team in keys(var.teams) : can(regex("^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$", team))])
    error_message = "teams needs at least one team, each named by its namespace: a DNS label of at most 20 characters (it is also part of the team's function and role names)."
  }

  validation {
    # A bare * would hand the team every repository of the registry.
    condition = alltrue(flatten([
      for team in values(var.teams) : [
        length(team.repositories) > 0,
        [for repository in team.repositories : can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(/?\\*)?$", repository))],
      ]
    ]))
    error_message = "Each team lists at least one repository: a repository name (team-a/api) or a name prefix ending in * (team-a/*); never a bare *, which is every repository of the registry."
  }

  validation {
    # Two teams whose repository patterns can match the same name would share those images.
    condition = alltrue(flatten([
      for team, spec in var.teams : [
        for other, other_spec in var.teams : [
          for mine in spec.repositories : [
            for theirs in other_spec.repositories :
            team == other || !(
              mine == theirs ||
              (endswith(mine, "*") && startswith(trimsuffix(theirs, "*"), trimsuffix(mine, "*"))) ||
              (endswith(theirs, "*") && startswith(trimsuffix(mine, "*"), trimsuffix(theirs, "*")))
            )
          ]
        ]
      ]
    ]))
    error_message = "Two teams list repositories that can name the same repository (e.g. team-a/* and team-a/api): each repository must belong to one team only."
  }

  validation {
    condition = alltrue([
      for team in values(var.teams) :
      can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", team.app_image)) &&
      anytrue([
        for repository in team.repositories :
        endswith(repository, "*") ? startswith(split(":", team.app_image)[0], trimsuffix(repository, "*")) : split(":", team.app_image)[0] == repository
      ])
    ])
    error_message = "Each team's app_image must be <repository>:<tag> in one of that team's repositories."
  }
}

variable "reader_service_account" {
  description = "Name of the service account, in each team's namespace, that the team's SecretStore authenticates as (auth.jwt.serviceAccountRef) and that the team's ESO role trusts. No pod runs as it: ESO requests tokens for it."
  type        = string
  default     = "ecr-pull-secret-reader"
}

variable "pull_secret_name" {
  description = "Name of the kubernetes.io/dockerconfigjson Secret ESO creates in each team's namespace (and of the ExternalSecret and the SecretStore)."
  type        = string
  default     = "ecr-pull-secret"
}

variable "eso_refresh_interval" {
  description = "How often ESO re-reads each team's secret (refreshInterval). The credential in the cluster is at most the refresh period (6 hours) plus this old; tokens live 12 hours."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", var.eso_refresh_interval)) && var.eso_refresh_interval != ""
    error_message = "eso_refresh_interval must be a Go duration in hours, minutes and seconds, e.g. 1h or 30m."
  }
}

variable "write_manifests" {
  description = "Whether to write the rendered manifests to manifests/generated/<team>/ (they are also in the eso_manifests output)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource (each team's also get team = <team>)."
  type        = map(string)
  default     = {}
}

# GitOps tools pulling Helm charts from ECR's OCI registry with the credential the module keeps
# fresh: Argo CD through a repository credential per registry host (a Secret labelled
# argocd.argoproj.io/secret-type: repo-creds), Flux through an OCIRepository whose secretRef is the
# kubernetes.io/dockerconfigjson pull secret. External Secrets Operator renders both from the one
# secret; neither tool needs AWS credentials or ECR permissions of its own.
#
# ESO authenticates with OIDC federation (auth.jwt): the module's ESO role trusts one service
# account through the cluster's IAM OIDC provider. EKS's IRSA provider is one; a cluster outside
# AWS whose service account issuer is published can have one too. Static keys: ../static-credentials.

provider "aws" {
  region = var.region
}

locals {
  # A fresh token every 6 hours (the module's default); tokens live 12 hours.
  refresh_hours = 6
}

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  name                = var.name
  schedule_expression = "rate(${local.refresh_hours} hours)"
  ecr_regions         = var.ecr_regions
  ecr_registry_ids    = var.ecr_registry_ids

  create_eso_role       = true
  eso_oidc_provider_arn = var.oidc_provider_arn
  eso_namespace         = var.eso_namespace
  eso_service_account   = var.reader_service_account

  tags = var.tags
}

################################################################################
# Manifests, rendered from the module's outputs: kubectl apply -f manifests/generated/, then
# manifests/generated/argocd/ or manifests/generated/flux/ (the tool you run)
################################################################################

locals {
  registry_hosts = module.ecr_token_rotator.registry_hosts

  # The chart is <host>/<chart_repository>:<chart_version> on the first host the docker config
  # lists. `helm push app-1.0.0.tgz oci://<host>/charts` stores chart app in repository charts/app.
  chart_host        = local.registry_hosts[0]
  chart_path        = split("/", var.chart_repository)
  chart_name        = local.chart_path[length(local.chart_path) - 1]
  chart_parent_path = join("/", slice(local.chart_path, 0, length(local.chart_path) - 1))

  # One Argo CD credential per registry host the docker config lists: a credential template
  # (repo-creds) whose url is a prefix of every repository URL on that host. A Helm-type
  # repository URL has no scheme; a native OCI one (Argo CD 3.1+) starts with oci://.
  argocd_credentials = [
    for host in local.registry_hosts : {
      name = "ecr-${var.argocd_repository_type}-${replace(host, ".", "-")}"
      host = host
      url  = var.argocd_repository_type == "oci" ? "oci://${host}" : host
    }
  ]

  manifest_values = {
    secret_name            = module.ecr_token_rotator.secret_name
    region                 = module.ecr_token_rotator.region
    eso_role_arn           = module.ecr_token_rotator.eso_role_arn
    store_name             = var.name
    eso_namespace          = var.eso_namespace
    reader_service_account = var.reader_service_account
    argocd_namespace       = var.argocd_namespace
    app_namespace          = var.app_namespace
    pull_secret_name       = var.pull_secret_name
    refresh_interval       = var.eso_refresh_interval
    refresh_period         = "${local.refresh_hours}h"
    argocd_repository_type = var.argocd_repository_type
    argocd_credentials     = local.argocd_credentials
    chart_host             = local.chart_host
    chart_repository       = var.chart_repository
    chart_name             = local.chart_name
    chart_parent_path      = local.chart_parent_path
    chart_version          = var.chart_version
    flux_interval          = var.flux_interval
  }

  manifests = {
    "00-namespace.yaml"              = templatefile("${path.module}/templates/namespace.yaml.tftpl", local.manifest_values)
    "10-reader-service-account.yaml" = templatefile("${path.module}/templates/reader-service-account.yaml.tftpl", local.manifest_values)
    "20-cluster-secret-store.yaml"   = templatefile("${path.module}/templates/cluster-secret-store.yaml.tftpl", local.manifest_values)
    "30-pull-secret.yaml"            = templatefile("${path.module}/templates/pull-secret.yaml.tftpl", local.manifest_values)
    "argocd/40-repo-creds.yaml"      = templatefile("${path.module}/templates/argocd-repo-creds.yaml.tftpl", local.manifest_values)
    "argocd/50-application.yaml"     = templatefile("${path.module}/templates/argocd-application.yaml.tftpl", local.manifest_values)
    "flux/40-oci-repository.yaml"    = templatefile("${path.module}/templates/flux-oci-repository.yaml.tftpl", local.manifest_values)
    "flux/50-helm-release.yaml"      = templatefile("${path.module}/templates/flux-helm-release.yaml.tftpl", local.manifest_values)
  }
}

resource "local_file" "manifests" {
  for_each = var.write_manifests ? local.manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

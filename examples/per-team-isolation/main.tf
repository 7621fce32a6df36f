# One module call per team (for_each): each team gets its own function, whose role may pull only
# that team's repositories (an ECR token carries exactly its role's ECR permissions), its own
# secret, and its own ESO role, which only the reader service account in the team's namespace can
# assume (IRSA) and which may read only that team's secret. In the cluster, each team namespace
# has its own SecretStore: a namespaced store authenticates only as a service account of its own
# namespace, so no team's ExternalSecret can reach another team's role, secret or images.

provider "aws" {
  region = var.region
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# The cluster's IAM OIDC provider: the issuer of its service account tokens.
data "aws_eks_cluster" "this" {
  name = var.cluster_name
}

data "aws_iam_openid_connect_provider" "this" {
  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}

locals {
  # A fresh token every 6 hours (the module's default); tokens live 12 hours.
  refresh_hours = 6

  account_id = data.aws_caller_identity.current.account_id
  registry   = "${local.account_id}.dkr.ecr.${var.region}.${data.aws_partition.current.dns_suffix}"

  # Each team's repositories, as the ARNs its function's role may pull: never repository/*.
  repository_arns = {
    for team, spec in var.teams : team => [
      for repository in spec.repositories :
      "arn:${data.aws_partition.current.partition}:ecr:${var.region}:${local.account_id}:repository/${repository}"
    ]
  }
}

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source   = "../.."
  for_each = var.teams

  name                = "${var.name}-${each.key}"
  schedule_expression = "rate(${local.refresh_hours} hours)"

  # The token may pull these repositories and no others. The probe pulls the team's own image
  # with every new token before it is published.
  ecr_repository_arns = local.repository_arns[each.key]
  probe_images        = ["${local.registry}/${each.value.app_image}"]

  # The team's reader: the service account of the team's namespace, through the cluster's OIDC
  # provider (the role's trust names system:serviceaccount:<team>:<reader>).
  create_eso_role       = true
  eso_oidc_provider_arn = data.aws_iam_openid_connect_provider.this.arn
  eso_namespace         = each.key
  eso_service_account   = var.reader_service_account

  tags = merge(var.tags, { team = each.key })
}

################################################################################
# Manifests, one directory per team, rendered from that team's module outputs:
#   kubectl apply -f manifests/generated/<team>/
################################################################################

locals {
  manifest_values = {
    for team, spec in var.teams : team => {
      team                   = team
      secret_name            = module.ecr_token_rotator[team].secret_name
      region                 = module.ecr_token_rotator[team].region
      eso_role_arn           = module.ecr_token_rotator[team].eso_role_arn
      reader_service_account = var.reader_service_account
      pull_secret_name       = var.pull_secret_name
      refresh_interval       = var.eso_refresh_interval
      refresh_period         = "${local.refresh_hours}h"
      image                  = "${local.registry}/${spec.app_image}"
    }
  }

  manifest_templates = {
    "00-namespace.yaml"              = "namespace.yaml.tftpl"
    "10-reader-service-account.yaml" = "reader-service-account.yaml.tftpl"
    "20-secret-store.yaml"           = "secret-store.yaml.tftpl"
    "30-external-secret.yaml"        = "external-secret.yaml.tftpl"
    "40-deployment.yaml"             = "deployment.yaml.tftpl"
  }

  eso_manifests = merge([
    for team, settings in local.manifest_values : {
      for file, template in local.manifest_templates :
      "${team}/${file}" => templatefile("${path.module}/templates/${template}", settings)
    }
  ]...)
}

resource "local_file" "eso_manifests" {
  for_each = var.write_manifests ? local.eso_manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

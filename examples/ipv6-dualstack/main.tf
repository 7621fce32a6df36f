# An IPv6 EKS cluster whose pods name images on the dual-stack registry host,
# <account>.dkr-ecr.<region>.on.aws, which nodes reach over IPv6 (the IPv4 host has no IPv6
# address). kubelet looks a pull secret's login up by the exact host of the image reference, so
# the docker config must list the dual-stack host: ecr_endpoint_types = ["dualstack"]. ECR
# Public's hosts are listed too (ecr_public), for authenticated pulls of public images.
# External Secrets Operator reads the secret with IRSA, as in ../eks-irsa.

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

  # This account's registry on its dual-stack host. AWS documents dual-stack registry hosts in
  # the aws and aws-us-gov partitions (on.aws) and in China (on.amazonwebservices.com.cn).
  dualstack_suffix   = data.aws_partition.current.partition == "aws-cn" ? "on.amazonwebservices.com.cn" : "on.aws"
  dualstack_registry = "${data.aws_caller_identity.current.account_id}.dkr-ecr.${var.region}.${local.dualstack_suffix}"

  # The image the Deployment runs, on the dual-stack host. The function pulls its manifest from
  # that host with every new token before publishing it: the probe fails exactly when the pods
  # would, and proves that the region's token is accepted on the dual-stack host.
  app_image = "${local.dualstack_registry}/${var.app_image_repository}:${var.app_image_tag}"
}

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  name                = var.name
  schedule_expression = "rate(${local.refresh_hours} hours)"

  ecr_endpoint_types = var.ecr_endpoint_types
  ecr_public         = var.ecr_public
  probe_images       = [local.app_image]

  create_eso_role       = true
  eso_oidc_provider_arn = data.aws_iam_openid_connect_provider.this.arn
  eso_namespace         = var.eso_namespace
  eso_service_account   = var.reader_service_account

  tags = var.tags
}

################################################################################
# Manifests, rendered from the module's outputs (kubectl apply -f manifests/generated/)
################################################################################

locals {
  manifest_values = {
    secret_name            = module.ecr_token_rotator.secret_name
    region                 = module.ecr_token_rotator.region
    eso_role_arn           = module.ecr_token_rotator.eso_role_arn
    store_name             = var.name
    eso_namespace          = var.eso_namespace
    reader_service_account = var.reader_service_account
    app_namespace          = var.app_namespace
    pull_secret_name       = var.pull_secret_name
    refresh_interval       = var.eso_refresh_interval
    refresh_period         = "${local.refresh_hours}h"
    image                  = local.app_image
  }

  eso_manifests = {
    "00-namespace.yaml"              = templatefile("${path.module}/templates/namespace.yaml.tftpl", local.manifest_values)
    "10-reader-service-account.yaml" = templatefile("${path.module}/templates/reader-service-account.yaml.tftpl", local.manifest_values)
    "20-cluster-secret-store.yaml"   = templatefile("${path.module}/templates/cluster-secret-store.yaml.tftpl", local.manifest_values)
    "30-external-secret.yaml"        = templatefile("${path.module}/templates/external-secret.yaml.tftpl", local.manifest_values)
    "40-deployment.yaml"             = templatefile("${path.module}/templates/deployment.yaml.tftpl", local.manifest_values)
  }
}

resource "local_file" "eso_manifests" {
  for_each = var.write_manifests ? local.eso_manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

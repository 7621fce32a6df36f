# A cluster outside AWS: External Secrets Operator authenticates with an IAM user's access key,
# held in a Kubernetes Secret that you create by hand (see README). Terraform creates the user and
# gives it read access to the one secret; it does not create the access key, so the key never
# enters Terraform state.

provider "aws" {
  region = var.region
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # A fresh token every 6 hours (the module's default); tokens live 12 hours.
  refresh_hours = 6
}

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  name                = var.name
  schedule_expression = "rate(${local.refresh_hours} hours)"

  tags = var.tags
}

################################################################################
# The IAM user ESO signs in as: read access to the secret only, through a group
################################################################################

resource "aws_iam_user" "eso" {
  #checkov:skip=CKV_AWS_273:A cluster outside AWS has no AWS-issued workload identity; the user holds one read-only permission and its key lives in the cluster (IAM Roles Anywhere is the alternative, see README).
  name = "${var.name}-eso-reader"
  # The access key is created outside Terraform (README); let `terraform destroy` delete it too.
  force_destroy = true

  tags = var.tags
}

resource "aws_iam_group" "eso" {
  name = "${var.name}-eso-readers"
}

resource "aws_iam_group_policy" "eso" {
  name   = "read-ecr-pull-secret"
  group  = aws_iam_group.eso.name
  policy = module.ecr_token_rotator.eso_read_policy_json
}

resource "aws_iam_user_group_membership" "eso" {
  user   = aws_iam_user.eso.name
  groups = [aws_iam_group.eso.name]
}

################################################################################
# Manifests, rendered from the module's outputs (kubectl apply -f manifests/generated/)
################################################################################

locals {
  manifest_values = {
    secret_name             = module.ecr_token_rotator.secret_name
    region                  = module.ecr_token_rotator.region
    store_name              = var.name
    app_namespace           = var.app_namespace
    credentials_secret_name = var.credentials_secret_name
    pull_secret_name        = var.pull_secret_name
    refresh_interval        = var.eso_refresh_interval
    refresh_period          = "${local.refresh_hours}h"
    image                   = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${var.region}.${data.aws_partition.current.dns_suffix}/${var.app_image_repository}:${var.app_image_tag}"
  }

  eso_manifests = {
    "00-namespace.yaml"       = templatefile("${path.module}/templates/namespace.yaml.tftpl", local.manifest_values)
    "10-secret-store.yaml"    = templatefile("${path.module}/templates/secret-store.yaml.tftpl", local.manifest_values)
    "20-external-secret.yaml" = templatefile("${path.module}/templates/external-secret.yaml.tftpl", local.manifest_values)
    "30-pod.yaml"             = templatefile("${path.module}/templates/pod.yaml.tftpl", local.manifest_values)
  }
}

resource "local_file" "eso_manifests" {
  for_each = var.write_manifests ? local.eso_manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

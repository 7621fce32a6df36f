# Native Secrets Manager rotation (for rules that require rotation on every secret), one docker
# config for two regions and two registry accounts, the secret replicated to the second region,
# and one EKS cluster per region whose ESO reads its local copy.

provider "aws" {
  region = var.region
}

provider "aws" {
  alias  = "secondary"
  region = var.secondary_region
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Secrets Manager rotates every 6 hours, at some point of a window of up to an hour.
  rotation_hours = 6
  regions        = [var.region, var.secondary_region]
  registry_ids   = [data.aws_caller_identity.current.account_id, var.shared_registry_account_id]
}

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  name = var.name

  trigger_mode                 = "rotation"
  rotation_schedule_expression = "rate(${local.rotation_hours} hours)"

  # One token per region; each token serves every registry of its region the role may pull from:
  # 2 regions x 2 accounts = 4 hosts in one docker config.
  ecr_regions      = local.regions
  ecr_registry_ids = local.registry_ids

  # The cluster in the secondary region reads the replica there.
  secret_replicas = [{ region = var.secondary_region }]

  # EKS Pod Identity without a cluster name: the role trusts the ESO service account of every
  # cluster in this account that has an association (created below, one per cluster).
  create_eso_role                     = true
  eso_pod_identity                    = true
  create_eso_pod_identity_association = false
  eso_namespace                       = var.eso_namespace
  eso_service_account                 = var.eso_service_account

  tags = var.tags
}

resource "aws_eks_pod_identity_association" "primary" {
  cluster_name    = var.cluster_name
  namespace       = var.eso_namespace
  service_account = var.eso_service_account
  role_arn        = module.ecr_token_rotator.eso_role_arn

  tags = var.tags
}

resource "aws_eks_pod_identity_association" "secondary" {
  provider = aws.secondary

  cluster_name    = var.secondary_cluster_name
  namespace       = var.eso_namespace
  service_account = var.eso_service_account
  role_arn        = module.ecr_token_rotator.eso_role_arn

  tags = var.tags
}

# The statement each repository in the shared account needs in its repository policy, so that
# the token (which carries the function role's permissions) can pull from it. Apply it there:
#   aws ecr set-repository-policy --repository-name <repo> --policy-text "$(terraform output -raw shared_registry_repository_policy_json)"
data "aws_iam_policy_document" "shared_registry_pull" {
  # The kubelet (and the function's probe) pull with tokens of the function's role.
  statement {
    sid     = "EcrTokenRotatorPull"
    actions = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "AWS"
      identifiers = [module.ecr_token_rotator.lambda_role_arn]
    }
  }
}

################################################################################
# Manifests for each cluster, rendered from the module's outputs:
#   kubectl --context <cluster in region R> apply -f manifests/generated/R/
################################################################################

locals {
  manifest_values = {
    secret_name      = module.ecr_token_rotator.secret_name
    store_name       = var.name
    app_namespace    = var.app_namespace
    pull_secret_name = var.pull_secret_name
    refresh_interval = var.eso_refresh_interval
    rotation_period  = "${local.rotation_hours}h"
  }

  # The images each cluster runs: from its own region, this account's and the shared account's.
  images = {
    for region in local.regions : region => {
      app_image    = "${local.registry_ids[0]}.dkr.ecr.${region}.${data.aws_partition.current.dns_suffix}/${var.app_image_repository}:${var.app_image_tag}"
      shared_image = "${local.registry_ids[1]}.dkr.ecr.${region}.${data.aws_partition.current.dns_suffix}/${var.shared_image_repository}:${var.shared_image_tag}"
    }
  }

  eso_manifests = merge(
    { for region in local.regions : "${region}/00-namespace.yaml" => templatefile("${path.module}/templates/namespace.yaml.tftpl", local.manifest_values) },
    { for region in local.regions : "${region}/10-cluster-secret-store.yaml" => templatefile("${path.module}/templates/cluster-secret-store.yaml.tftpl", merge(local.manifest_values, { store_region = region })) },
    { for region in local.regions : "${region}/20-external-secret.yaml" => templatefile("${path.module}/templates/external-secret.yaml.tftpl", local.manifest_values) },
    { for region in local.regions : "${region}/30-deployment.yaml" => templatefile("${path.module}/templates/deployment.yaml.tftpl", merge(local.manifest_values, local.images[region])) },
  )
}

resource "local_file" "eso_manifests" {
  for_each = var.write_manifests ? local.eso_manifests : {}

  filename             = "${path.module}/manifests/generated/${each.key}"
  content              = each.value
  file_permission      = "0644"
  directory_permission = "0755"
}

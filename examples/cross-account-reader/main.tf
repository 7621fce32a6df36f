# A cluster in another AWS account reads the pull secret. Three policies must agree, and all three
# are here: the secret's resource policy names the reader's role (the module's
# secret_reader_principal_arns), the customer-managed KMS key's policy lets that role decrypt
# through Secrets Manager (the AWS managed key aws/secretsmanager cannot be shared), and the
# reader's own account gives the role the same two permissions (the module's eso_read_policy_json)
# and trusts the cluster's ESO with it (IRSA).

# The account that owns the secret, the function and the KMS key.
provider "aws" {
  alias  = "owner"
  region = var.region
}

# The account of the cluster that reads the secret. Terraform assumes a role there; use a
# `profile` instead if that is how you reach that account.
provider "aws" {
  alias  = "reader"
  region = var.reader_region

  assume_role {
    role_arn = var.reader_account_role_arn
  }
}

data "aws_partition" "owner" {
  provider = aws.owner
}

data "aws_caller_identity" "owner" {
  provider = aws.owner
}

locals {
  # A fresh token every 6 hours (the module's default); tokens live 12 hours.
  refresh_hours = 6
  # Secrets Manager decrypts the secret with the reader's credentials, in the secret's region.
  secrets_manager_service = "secretsmanager.${var.region}.${data.aws_partition.owner.dns_suffix}"
}

################################################################################
# The module, in the owner's account, with the reader's role as a cross-account reader
################################################################################

module "ecr_token_rotator" {
  # Real use: source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"
  source = "../.."

  providers = {
    aws = aws.owner
  }

  name                = var.name
  schedule_expression = "rate(${local.refresh_hours} hours)"

  # Readers in other accounts need a customer-managed key (a precondition says so) and a
  # resource policy on the secret, which the module writes for these principals.
  secret_kms_key_arn           = aws_kms_key.secret.arn
  secret_reader_principal_arns = [aws_iam_role.reader.arn]

  tags = var.tags
}

################################################################################
# KMS key of the secret (owner's account): the reader decrypts through Secrets Manager only
################################################################################

resource "aws_kms_key" "secret" {
  provider = aws.owner

  description             = "Encrypts the ECR pull credential secret of ${var.name}, which a cluster in another account reads."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.secret_key.json

  tags = var.tags
}

resource "aws_kms_alias" "secret" {
  provider = aws.owner

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.secret.key_id
}

data "aws_iam_policy_document" "secret_key" {
  provider = aws.owner

  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key; the account root statement is the standard delegation to IAM policies.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key; the account root statement is the standard delegation to IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key, not every resource.

  # The owner account's IAM policies decide who uses the key there: the module grants the
  # function kms:Decrypt/GenerateDataKey through Secrets Manager only.
  statement {
    sid       = "OwnerAccountIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.owner.partition}:iam::${data.aws_caller_identity.owner.account_id}:root"]
    }
  }

  # The reader's role, and nothing else of its account, decrypts the secret when it reads it:
  # Secrets Manager calls kms:Decrypt with the reader's credentials. Its own account must allow
  # the same (the role's policy below), as with every cross-account grant.
  statement {
    sid       = "ReaderDecryptsTheSecretThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.reader.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.secrets_manager_service]
    }
  }
}

################################################################################
# The reader's role (reader's account): ESO in its cluster assumes it with IRSA
################################################################################

# The cluster's IAM OIDC provider: the issuer of its service account tokens.
data "aws_eks_cluster" "reader" {
  provider = aws.reader

  name = var.reader_cluster_name
}

data "aws_iam_openid_connect_provider" "reader" {
  provider = aws.reader

  url = data.aws_eks_cluster.reader.identity[0].oidc[0].issuer
}

locals {
  reader_oidc_issuer = trimprefix(data.aws_eks_cluster.reader.identity[0].oidc[0].issuer, "https://")
}

data "aws_iam_policy_document" "reader_trust" {
  provider = aws.reader

  # Exactly the service account the ClusterSecretStore authenticates as, through the cluster's
  # OIDC provider, for STS.
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.reader.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.reader_oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.eso_namespace}:${var.reader_service_account}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.reader_oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "reader" {
  provider = aws.reader

  name               = "${var.name}-reader"
  description        = "External Secrets Operator in ${var.reader_cluster_name}: reads the ECR pull credential secret of another account."
  assume_role_policy = data.aws_iam_policy_document.reader_trust.json

  tags = var.tags
}

# The reader's side of the grant: GetSecretValue/DescribeSecret on the secret and kms:Decrypt on
# its key through Secrets Manager, exactly what the module gives its own ESO role.
resource "aws_iam_role_policy" "reader" {
  provider = aws.reader

  name   = "read-ecr-pull-secret"
  role   = aws_iam_role.reader.id
  policy = module.ecr_token_rotator.eso_read_policy_json
}

################################################################################
# Manifests for the reader's cluster, rendered from the outputs (kubectl apply -f manifests/generated/)
################################################################################

locals {
  manifest_values = {
    # Another account's secret is found by its full ARN only, never by its name.
    secret_arn             = module.ecr_token_rotator.secret_arn
    secret_region          = module.ecr_token_rotator.region
    reader_role_arn        = aws_iam_role.reader.arn
    store_name             = var.name
    eso_namespace          = var.eso_namespace
    reader_service_account = var.reader_service_account
    app_namespace          = var.app_namespace
    pull_secret_name       = var.pull_secret_name
    refresh_interval       = var.eso_refresh_interval
    refresh_period         = "${local.refresh_hours}h"
    # An image of the owner's registry: the token carries the function role's pull permissions
    # there, so the reader's account needs no ECR permissions at all.
    image = "${data.aws_caller_identity.owner.account_id}.dkr.ecr.${var.region}.${data.aws_partition.owner.dns_suffix}/${var.app_image_repository}:${var.app_image_tag}"
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

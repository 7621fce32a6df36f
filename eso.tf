################################################################################
# Read access for External Secrets Operator: a policy document (output eso_read_policy_json),
# an optional role for ESO (IRSA and/or EKS Pod Identity), and an optional secret resource
# policy for readers in other accounts.
################################################################################

locals {
  eso_subject = "system:serviceaccount:${var.eso_namespace}:${var.eso_service_account}"
  # Counted on bools only: a cluster name may be unknown until apply (an output of the cluster
  # created in the same apply), and a count must be known at plan.
  create_eso_pod_identity_association = local.create && var.create_eso_role && var.eso_pod_identity && var.create_eso_pod_identity_association
  # oidc.eks.<region>.amazonaws.com/id/<id>: the issuer the IRSA trust conditions are keyed on.
  eso_oidc_issuer = try(split("oidc-provider/", var.eso_oidc_provider_arn)[1], null)

  # ESO reads the primary or a replica; each is decrypted with its own region's key.
  eso_secret_arns    = concat([local.secret_arn], values(local.secret_replica_arns))
  eso_kms_key_arns   = compact(concat([var.secret_kms_key_arn], local.secret_replicas[*].kms_key_arn))
  eso_secret_regions = concat([local.secret_region], keys(local.secret_replica_arns))
}

data "aws_iam_policy_document" "eso_read" {
  count = local.create ? 1 : 0

  # ESO's SecretStore reads the docker config (and its metadata) from the secret or a replica.
  statement {
    sid       = "ReadSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = local.eso_secret_arns
  }

  # Secrets Manager decrypts the secret under its customer-managed key with ESO's credentials.
  dynamic "statement" {
    for_each = length(local.eso_kms_key_arns) > 0 ? ["kms"] : []
    content {
      sid       = "DecryptSecret"
      actions   = ["kms:Decrypt"]
      resources = local.eso_kms_key_arns

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [for region in local.eso_secret_regions : "secretsmanager.${region}.${local.dns_suffix}"]
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.create_secret || var.secret_arn != null
      error_message = "With create_secret = false, set secret_arn to the existing secret's full ARN."
    }
  }
}

data "aws_iam_policy_document" "eso_assume_role" {
  count = local.create && var.create_eso_role ? 1 : 0

  # IRSA: ESO's service account, through the cluster's OIDC provider.
  dynamic "statement" {
    for_each = var.eso_oidc_provider_arn != null ? ["irsa"] : []
    content {
      sid     = "EsoIrsa"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [var.eso_oidc_provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.eso_oidc_issuer}:sub"
        values   = [local.eso_subject]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.eso_oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }
    }
  }

  # EKS Pod Identity: the EKS auth service assumes the role for ESO's service account, tagging
  # the session with the namespace, service account (and cluster, when given).
  dynamic "statement" {
    for_each = var.eso_pod_identity ? ["pod-identity"] : []
    content {
      sid     = "EsoPodIdentity"
      actions = ["sts:AssumeRole", "sts:TagSession"]

      principals {
        type        = "Service"
        identifiers = ["pods.eks.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/kubernetes-namespace"
        values   = [var.eso_namespace]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/kubernetes-service-account"
        values   = [var.eso_service_account]
      }

      dynamic "condition" {
        for_each = var.eso_pod_identity_cluster_name != null ? [var.eso_pod_identity_cluster_name] : []
        content {
          test     = "StringEquals"
          variable = "aws:RequestTag/eks-cluster-name"
          values   = [condition.value]
        }
      }
    }
  }
}

resource "aws_iam_role" "eso" {
  count = local.create && var.create_eso_role ? 1 : 0

  name                 = local.role_names.eso
  path                 = var.role_path
  description          = "External Secrets Operator (${local.eso_subject}): reads the ECR pull credentials secret ${coalesce(local.secret_name, "of ${var.name}")}."
  assume_role_policy   = data.aws_iam_policy_document.eso_assume_role[0].json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.eso_oidc_provider_arn != null || var.eso_pod_identity
      error_message = "The ESO role needs a trust: set eso_oidc_provider_arn (IRSA) and/or eso_pod_identity = true (EKS Pod Identity)."
    }

    precondition {
      condition     = length(local.role_names.eso) <= 64
      error_message = local.role_name_errors.eso
    }

    precondition {
      condition     = var.eso_pod_identity || var.eso_pod_identity_cluster_name == null
      error_message = "eso_pod_identity_cluster_name applies to EKS Pod Identity: set eso_pod_identity = true as well."
    }
  }
}

resource "aws_iam_role_policy" "eso" {
  count = local.create && var.create_eso_role ? 1 : 0

  name   = "read-ecr-pull-secret"
  role   = aws_iam_role.eso[0].id
  policy = data.aws_iam_policy_document.eso_read[0].json
}

resource "aws_eks_pod_identity_association" "eso" {
  count = local.create_eso_pod_identity_association ? 1 : 0

  cluster_name    = var.eso_pod_identity_cluster_name
  namespace       = var.eso_namespace
  service_account = var.eso_service_account
  role_arn        = aws_iam_role.eso[0].arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.eso_pod_identity_cluster_name != null
      error_message = "The EKS Pod Identity association needs a cluster: set eso_pod_identity_cluster_name, or create_eso_pod_identity_association = false to create the associations yourself."
    }
  }
}

################################################################################
# Secret resource policy for readers in other accounts
################################################################################

data "aws_iam_policy_document" "secret_policy" {
  count = local.create && length(var.secret_reader_principal_arns) > 0 ? 1 : 0

  # Readers in other accounts (e.g. their ESO roles) read the docker config.
  statement {
    sid       = "CrossAccountRead"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [local.secret_arn]

    principals {
      type        = "AWS"
      identifiers = var.secret_reader_principal_arns
    }
  }
}

resource "aws_secretsmanager_secret_policy" "this" {
  count = local.create && length(var.secret_reader_principal_arns) > 0 ? 1 : 0

  secret_arn          = local.secret_arn
  policy              = data.aws_iam_policy_document.secret_policy[0].json
  block_public_policy = true

  lifecycle {
    precondition {
      condition     = var.secret_kms_key_arn != null
      error_message = "secret_reader_principal_arns needs a customer-managed KMS key (secret_kms_key_arn): the AWS managed key aws/secretsmanager cannot be used from other accounts. Also allow those readers kms:Decrypt in that key's policy."
    }

    # Secrets Manager copies the resource policy to the replicas, where the readers can decrypt
    # only what a customer-managed key encrypts (the same rule as for the primary).
    precondition {
      condition     = length(local.replica_regions_under_the_aws_managed_key) == 0
      error_message = "secret_reader_principal_arns: the replicas in ${join(", ", local.replica_regions_under_the_aws_managed_key)} are encrypted with the AWS managed key aws/secretsmanager, which readers in other accounts cannot use, so they could read only the primary. Give each of secret_replicas a kms_key_arn (a customer-managed key in its region whose key policy allows the readers kms:Decrypt)."
    }

    # PutResourcePolicy acts in the provider's region.
    precondition {
      condition     = local.secret_region == local.region
      error_message = "secret_reader_principal_arns puts a resource policy on the secret, which needs the secret in the provider's region (${local.region}); secret_arn is in ${coalesce(local.secret_region, "another region")}. Manage that secret's policy where the secret lives."
    }
  }
}

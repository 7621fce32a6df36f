# ecr-token-rotator: a Lambda function keeps a Secrets Manager secret holding a docker config
# with fresh Amazon ECR pull credentials; External Secrets Operator reads it into clusters.
#
# Files, in the order a reviewer may read them:
#   main.tf     inputs resolved into locals, and the secret
#   iam.tf      the function's role and every permission it has, each with who uses it
#   lambda.tf   log group and function
#   trigger.tf  schedule mode (EventBridge Scheduler or rule, its role) + invoke on apply, or
#               rotation mode (Secrets Manager)
#   alarms.tf   errors alarm, and the expiry alarm on what AWSCURRENT holds
#   eso.tf      read access for External Secrets Operator (policy, role, pod identity, cross-account)
#   apply_identity.tf  what the identity running terraform apply needs beyond the resources

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  create        = var.create
  schedule_mode = var.trigger_mode == "schedule"
  rotation_mode = var.trigger_mode == "rotation"
  # Schedule mode's engine (trigger.tf); rotation mode has no schedule of its own.
  scheduler_engine = local.create && local.schedule_mode && var.schedule_engine == "scheduler"
  rule_engine      = local.create && local.schedule_mode && var.schedule_engine == "rule"

  partition  = data.aws_partition.current.partition
  dns_suffix = data.aws_partition.current.dns_suffix
  account_id = data.aws_caller_identity.current.account_id
  # Provider 6 reads the region from `region` and deprecates `name`; provider 5 has only `name`.
  # Naming either attribute fails or warns on one major, so look up whichever this one has.
  region = coalesce(lookup(data.aws_region.current, "region", null), lookup(data.aws_region.current, "name", null))

  # ECR registries the docker config covers. Empty inputs mean what the function defaults to:
  # its own region and its own account.
  ecr_regions      = length(var.ecr_regions) > 0 ? var.ecr_regions : [local.region]
  ecr_registry_ids = length(var.ecr_registry_ids) > 0 ? var.ecr_registry_ids : [local.account_id]

  # Registry hosts per endpoint type: <registry id>.<prefix>.<region>.<suffix>, the table of
  # lambda_src/ecr_token_rotator/endpoints.py (with its sources). The dual-stack suffix is not
  # the partition's DNS suffix, and AWS documents it for three partitions only; FIPS registry
  # endpoints exist in six regions.
  ecr_endpoint_prefixes = {
    ipv4             = "dkr.ecr"
    dualstack        = "dkr-ecr"
    fips             = "dkr.ecr-fips"
    "dualstack-fips" = "dkr-ecr-fips"
  }
  ecr_dualstack_suffixes = {
    aws          = "on.aws"
    "aws-us-gov" = "on.aws"
    "aws-cn"     = "on.amazonwebservices.com.cn"
  }
  ecr_dualstack_suffix = lookup(local.ecr_dualstack_suffixes, local.partition, null)
  ecr_host_suffixes = {
    ipv4             = local.dns_suffix
    dualstack        = local.ecr_dualstack_suffix
    fips             = local.dns_suffix
    "dualstack-fips" = local.ecr_dualstack_suffix
  }
  ecr_fips_regions    = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1"]
  ecr_fips_types      = [for type in var.ecr_endpoint_types : type if contains(["fips", "dualstack-fips"], type)]
  ecr_dualstack_types = [for type in var.ecr_endpoint_types : type if contains(["dualstack", "dualstack-fips"], type)]

  # What the preconditions on the function refuse at plan, before anything is written: FIPS
  # types in regions without FIPS endpoints, and regions of another partition than the
  # provider's (the function's credentials reach their own partition's registries only; the
  # partition of a region name follows botocore's region patterns).
  ecr_regions_without_fips = length(local.ecr_fips_types) > 0 ? [for region in local.ecr_regions : region if !contains(local.ecr_fips_regions, region)] : []
  partition_region_prefixes = {
    "aws-cn"     = "cn-"
    "aws-us-gov" = "us-gov-"
    "aws-iso"    = "us-iso-"
    "aws-iso-b"  = "us-isob-"
    "aws-iso-e"  = "eu-isoe-"
    "aws-iso-f"  = "us-isof-"
    "aws-eusc"   = "eusc-"
  }
  ecr_regions_of_other_partitions = [
    for region in local.ecr_regions : region
    if coalesce(one([for partition, prefix in local.partition_region_prefixes : partition if startswith(region, prefix)]), "aws") != local.partition
  ]

  # ECR Public's hosts: the dual-stack one for a cluster that pulls over dual-stack.
  ecr_public_hosts = var.ecr_public ? (length(local.ecr_dualstack_types) > 0 ? ["public.ecr.aws", "ecr-public.aws.com"] : ["public.ecr.aws"]) : []

  # In the function's order: regions, then registry IDs, then endpoint types; ECR Public last.
  # Hosts of a type the partition lacks are left out (a precondition refuses them), hence the
  # count for the size bound.
  registry_hosts = concat(flatten([
    for region in local.ecr_regions : [
      for registry_id in local.ecr_registry_ids : [
        for type in var.ecr_endpoint_types :
        "${registry_id}.${local.ecr_endpoint_prefixes[type]}.${region}.${local.ecr_host_suffixes[type]}"
        if local.ecr_host_suffixes[type] != null
      ]
    ]
  ]), local.ecr_public_hosts)
  registry_host_count = length(local.ecr_regions) * length(local.ecr_registry_ids) * length(var.ecr_endpoint_types) + length(local.ecr_public_hosts)
  # The docker config holds a ~4.3 KB `auth` per host and SecretString is capped at 65,536
  # characters: the team's documented bound (docs/contract.md, "Size").
  max_registry_hosts = 12

  # The token carries the role's ECR pull permissions: by default every repository of the
  # covered registries, never every repository of every account.
  ecr_repository_arns = length(var.ecr_repository_arns) > 0 ? var.ecr_repository_arns : flatten([
    for region in local.ecr_regions : [
      for registry_id in local.ecr_registry_ids : "arn:${local.partition}:ecr:${region}:${registry_id}:repository/*"
    ]
  ])

  # The secret: created here, or an existing one by ARN.
  secret_arn    = var.create_secret ? try(aws_secretsmanager_secret.this[0].arn, null) : var.secret_arn
  secret_name   = var.create_secret ? try(aws_secretsmanager_secret.this[0].name, null) : try(regex("^arn:[^:]+:secretsmanager:[^:]+:[0-9]{12}:secret:(.+)-[A-Za-z0-9]{6}$", var.secret_arn)[0], null)
  secret_region = var.create_secret ? local.region : try(split(":", var.secret_arn)[3], null)
  # Replicas (of a secret created here) keep the primary's ARN except for the region. Keyed by
  # distinct regions: a repeated region is refused by the variable's validation, not by a
  # "Duplicate object key" error here.
  secret_replicas = var.create_secret ? var.secret_replicas : []
  secret_replica_arns = {
    for region in distinct(local.secret_replicas[*].region) :
    region => try(replace(local.secret_arn, ":secretsmanager:${local.region}:", ":secretsmanager:${region}:"), null)
  }
  # Customer-managed keys of the replicas: Secrets Manager re-encrypts every new version with
  # them, with the credentials of whoever wrote it (the function).
  secret_replica_kms_key_arns = compact(local.secret_replicas[*].kms_key_arn)
  kms_enabled                 = var.secret_kms_key_arn != null

  # Refresh period in minutes, for the expiry alarm (alarms.tf). Rotation can start
  # anywhere in its (up to) one-hour window, so its worst gap is N+1 hours.
  schedule_minutes       = tonumber(regex("[0-9]+", var.schedule_expression)) * (strcontains(var.schedule_expression, "hour") ? 60 : 1)
  rotation_minutes       = (tonumber(regex("[0-9]+", var.rotation_schedule_expression)) + 1) * 60
  refresh_period_minutes = local.rotation_mode ? local.rotation_minutes : local.schedule_minutes

  # The function's environment (the contract of the Lambda package). Optional settings are
  # left out when empty, so the function applies its own defaults.
  environment = merge(
    {
      SECRET_ID = local.secret_arn
      LOG_LEVEL = var.log_level
    },
    length(var.ecr_regions) > 0 ? { ECR_REGIONS = join(",", var.ecr_regions) } : {},
    length(var.ecr_registry_ids) > 0 ? { ECR_REGISTRY_IDS = join(",", var.ecr_registry_ids) } : {},
    length(var.probe_images) > 0 ? { PROBE_IMAGES = join(",", var.probe_images) } : {},
    join(",", var.ecr_endpoint_types) != "ipv4" ? { ECR_ENDPOINT_TYPES = join(",", var.ecr_endpoint_types) } : {},
    var.ecr_public ? { ECR_PUBLIC = "true" } : {},
  )

  metric_namespace = "ECRTokenRotator"

  # IAM role names are global in an account, while the function, its log group, its schedule and a
  # created secret are regional: default role names carry the provider's region, so that two
  # instances with the same `name` in two regions (one instance per region: README, "Several
  # regions") do not collide on EntityAlreadyExists. One rule for every role the module creates:
  # <name>-<region> for the function's, <name>-<role>-<region> for the others, unless the role's
  # input <role>_role_name is set. IAM allows 64 characters: each role has a precondition whose
  # message is role_name_errors[<role>]. A new role adds its key and input here.
  role_name_inputs = {
    lambda    = var.lambda_role_name
    eso       = var.eso_role_name
    scheduler = var.scheduler_role_name
  }
  role_names = {
    for role, input in local.role_name_inputs :
    role => coalesce(input, join("-", compact([var.name, role == "lambda" ? "" : role, local.region])))
  }
  role_name_errors = {
    for role, name in local.role_names :
    role => "The IAM role name ${name} has ${length(name)} characters; IAM allows 64. The default is <name>${role == "lambda" ? "" : "-${role}"}-<region> (role names are global in an account; the region keeps instances in different regions apart): shorten name, or set ${role}_role_name."
  }

  # KMS keys are regional, and Secrets Manager encrypts a secret, and each replica, with a key in
  # that secret's own region (it re-encrypts a replica with the key given for the replica's
  # region): a key ARN of another region is refused at plan (preconditions on the function and the
  # secret). arn:<partition>:kms:<region>:<account>:key/<id>
  secret_kms_key_region = try(split(":", var.secret_kms_key_arn)[3], null)
  replicas_with_a_key_elsewhere = [
    for replica in var.secret_replicas : "${replica.region} (kms_key_arn in ${split(":", replica.kms_key_arn)[3]})"
    if replica.kms_key_arn != null && try(split(":", replica.kms_key_arn)[3], replica.region) != replica.region
  ]
  # Replication stays within the provider's partition: the partition of a replica region, from
  # the region patterns above.
  replica_regions_of_other_partitions = [
    for replica in var.secret_replicas : replica.region
    if coalesce(one([for partition, prefix in local.partition_region_prefixes : partition if startswith(replica.region, prefix)]), "aws") != local.partition
  ]
  # Readers in other accounts read replicas too (Secrets Manager copies the resource policy to
  # them), and cannot decrypt anything under the AWS managed key aws/secretsmanager.
  replica_regions_under_the_aws_managed_key = [for replica in local.secret_replicas : replica.region if replica.kms_key_arn == null]
}

################################################################################
# Secret (no secret version: the function writes every version, the first one during apply)
################################################################################

resource "aws_secretsmanager_secret" "this" {
  count = local.create && var.create_secret ? 1 : 0

  name                    = var.secret_name_prefix == null ? coalesce(var.secret_name, var.name) : null
  name_prefix             = var.secret_name_prefix
  description             = var.secret_description
  kms_key_id              = var.secret_kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days

  force_overwrite_replica_secret = var.secret_force_overwrite_replica_secret

  dynamic "replica" {
    for_each = var.secret_replicas
    content {
      region     = replica.value.region
      kms_key_id = replica.value.kms_key_arn
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.secret_name == null || var.secret_name_prefix == null
      error_message = "Set secret_name or secret_name_prefix, not both."
    }

    precondition {
      condition     = !contains(var.secret_replicas[*].region, local.region)
      error_message = "secret_replicas must not list ${local.region}: that is the primary secret's own region (the provider's). List only the other regions to replicate to."
    }

    precondition {
      condition     = length(local.replica_regions_of_other_partitions) == 0
      error_message = "secret_replicas ${join(", ", local.replica_regions_of_other_partitions)}: not in this provider's partition (${local.partition}); Secrets Manager replicates within a partition only. Use a module instance (and a secret) in that partition."
    }

    precondition {
      condition     = length(local.replicas_with_a_key_elsewhere) == 0
      error_message = "secret_replicas ${join(", ", local.replicas_with_a_key_elsewhere)}: Secrets Manager encrypts a replica with a KMS key in the replica's own region, and KMS keys are regional. Set each kms_key_arn to a key in that replica's region (a multi-Region key's replica there works too), or leave it null for aws/secretsmanager there."
    }
  }
}

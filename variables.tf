################################################################################
# General
################################################################################

variable "create" {
  description = "Whether to create anything at all. With false the module creates nothing and every output is null."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the Lambda function; also the default name of its log group (/aws/lambda/<name>), Scheduler schedule and schedule group (or EventBridge rule), alarms and secret, and the start of its IAM roles' default names, <name>-<region>, <name>-scheduler-<region> and <name>-eso-<region> (IAM names are global in an account: the region keeps instances in different regions apart)."
  type        = string
  default     = "ecr-token-rotator"

  validation {
    # Lambda function names allow 64 characters. The default IAM role names add the region, and a
    # precondition on each role checks IAM's 64.
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 letters, digits, hyphens or underscores (a Lambda function name)."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates that supports tags."
  type        = map(string)
  default     = {}
}

################################################################################
# Secret
################################################################################

variable "create_secret" {
  description = "Whether to create the secret. With false, set secret_arn to an existing secret: the function keeps that secret's other JSON keys."
  type        = bool
  default     = true
}

variable "secret_arn" {
  description = "Full ARN (with its 6-character suffix) of an existing secret to keep fresh. Used only when create_secret is false. It must name the primary secret, not a replica: Secrets Manager refuses writes to a replica (\"Operation not permitted on a replica secret\"), and replicates the primary's new versions to its replicas itself. Give a replicated secret's primary ARN, in the primary's region (describe-secret shows PrimaryRegion on a replica)."
  type        = string
  default     = null

  validation {
    # IAM matches the full ARN; a partial ARN (no suffix) would not match the secret.
    condition     = var.secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$", var.secret_arn))
    error_message = "secret_arn must be a full Secrets Manager secret ARN, e.g. arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-pull-AbCdEf."
  }
}

variable "secret_name" {
  description = "Name of the secret to create. Defaults to var.name. Conflicts with secret_name_prefix."
  type        = string
  default     = null

  validation {
    condition     = var.secret_name == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.secret_name))
    error_message = "secret_name may hold 1 to 512 letters, digits and /_+=.@- characters."
  }
}

variable "secret_name_prefix" {
  description = "Name prefix of the secret to create (Terraform appends a unique suffix), instead of a fixed secret_name."
  type        = string
  default     = null

  validation {
    condition     = var.secret_name_prefix == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,486}$", var.secret_name_prefix))
    error_message = "secret_name_prefix may hold 1 to 486 letters, digits and /_+=.@- characters."
  }
}

variable "secret_description" {
  description = "Description of the secret to create."
  type        = string
  default     = "Docker config JSON with Amazon ECR pull credentials, refreshed by the ecr-token-rotator Lambda function."

  validation {
    condition     = length(var.secret_description) <= 2048
    error_message = "secret_description may hold at most 2048 characters (Secrets Manager's limit)."
  }
}

variable "secret_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the secret (null: the AWS managed key aws/secretsmanager), in the secret's region (checked at plan). For an existing secret, give the key it uses. The function gets kms:Decrypt/GenerateDataKey on this key, through Secrets Manager only."
  type        = string
  default     = null

  validation {
    # A key ARN, not an alias: IAM policies match key ARNs only.
    condition     = var.secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }
}

variable "secret_recovery_window_in_days" {
  description = "Days Secrets Manager keeps the secret after deletion: 0 (delete at once) or 7 to 30. Within the window the secret's name stays taken: an apply that creates it again fails (restore it, or delete it for good: docs/troubleshooting.md). Use 0 for throwaway environments (tests, previews) that are destroyed and created again under the same name."
  type        = number
  default     = 30

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "secret_recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "secret_replicas" {
  description = "Regions to replicate the created secret to, each with an optional customer-managed KMS key ARN in that region (null: aws/secretsmanager there; a key of another region is refused at plan). ESO in those regions reads the replica. Replication is asynchronous and apply does not wait for it: read the secret_replica_status output after apply. With secret_reader_principal_arns every replica needs a kms_key_arn."
  type = list(object({
    region      = string
    kms_key_arn = optional(string)
  }))
  default  = []
  nullable = false

  validation {
    # Region names of every partition, e.g. eu-west-1, us-gov-west-1, cn-north-1, eusc-de-east-1.
    condition     = alltrue([for replica in var.secret_replicas : can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", replica.region))])
    error_message = "Each secret_replicas region must be a region name such as eu-west-1."
  }

  validation {
    condition     = length(distinct(var.secret_replicas[*].region)) == length(var.secret_replicas)
    error_message = "secret_replicas lists a region more than once: a secret has at most one replica per region."
  }

  validation {
    condition     = alltrue([for replica in var.secret_replicas : replica.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", replica.kms_key_arn))])
    error_message = "Each secret_replicas kms_key_arn must be a KMS key ARN, not an alias."
  }
}

variable "secret_force_overwrite_replica_secret" {
  description = "Whether replication overwrites a secret of the same name that already exists in a replica region (force_overwrite_replica_secret). Without it such a replica fails (secret_replica_status). Warning: the existing secret's value and versions in that region are lost, and whatever reads it there then reads this credential."
  type        = bool
  default     = false
  nullable    = false
}

variable "secret_reader_principal_arns" {
  description = "IAM principals in other accounts (role, user or account root ARNs) allowed to read the secret through a secret resource policy (Secrets Manager copies it to the replicas). Needs secret_kms_key_arn, and a kms_key_arn on every replica (checked by preconditions): other accounts cannot use aws/secretsmanager. Those keys' policies, and the readers' accounts, must also allow them kms:Decrypt."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.secret_reader_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+)$", arn))])
    error_message = "Each secret_reader_principal_arns entry must be an IAM role, user or root ARN."
  }
}

################################################################################
# ECR registries the token covers
################################################################################

variable "ecr_regions" {
  description = "Regions whose ECR registries the docker config covers (ECR_REGIONS). Empty: the function's own region."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # Region names of every partition, e.g. eu-central-1, us-gov-west-1, cn-north-1, eusc-de-east-1.
    condition     = alltrue([for region in var.ecr_regions : can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$", region))])
    error_message = "Each ecr_regions entry must be a region name such as eu-central-1."
  }

  validation {
    condition     = length(distinct(var.ecr_regions)) == length(var.ecr_regions)
    error_message = "ecr_regions lists a region more than once."
  }
}

variable "ecr_registry_ids" {
  description = "12-digit account IDs whose registries the docker config covers (ECR_REGISTRY_IDS). Empty: this account. Other accounts' repositories must also allow this role in their repository policies."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.ecr_registry_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Each ecr_registry_ids entry must be a 12-digit AWS account ID."
  }

  validation {
    condition     = length(distinct(var.ecr_registry_ids)) == length(var.ecr_registry_ids)
    error_message = "ecr_registry_ids lists an account more than once."
  }
}

variable "ecr_repository_arns" {
  description = "Repositories the token may pull (the token carries this role's ECR permissions). Empty: every repository (repository/*) of ecr_registry_ids in ecr_regions."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", arn))])
    error_message = "Each ecr_repository_arns entry must be an ECR repository ARN, e.g. arn:aws:ecr:eu-central-1:123456789012:repository/app (a trailing * is allowed)."
  }
}

variable "ecr_endpoint_types" {
  description = "Registry endpoints the docker config lists a host for, per registry and region (ECR_ENDPOINT_TYPES); kubelet looks the credential up by the exact host of an image reference. ipv4: <id>.dkr.ecr.<region>.<DNS suffix>. dualstack: <id>.dkr-ecr.<region>.on.aws (on.amazonwebservices.com.cn in China), for IPv6 and dual-stack clusters. fips: <id>.dkr.ecr-fips.<region>.amazonaws.com. dualstack-fips: <id>.dkr-ecr-fips.<region>.on.aws. FIPS types exist only in us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1 and us-gov-west-1; dual-stack ones only in the aws, aws-us-gov and aws-cn partitions. Each type adds a host per registry and region."
  type        = list(string)
  default     = ["ipv4"]
  nullable    = false

  validation {
    condition     = length(var.ecr_endpoint_types) > 0
    error_message = "ecr_endpoint_types needs at least one endpoint type (ipv4 is today's host)."
  }

  validation {
    condition     = alltrue([for type in var.ecr_endpoint_types : contains(["ipv4", "dualstack", "fips", "dualstack-fips"], type)])
    error_message = "Unknown ecr_endpoint_types ${join(", ", [for type in var.ecr_endpoint_types : jsonencode(type) if !contains(["ipv4", "dualstack", "fips", "dualstack-fips"], type)])}: use one or more of ipv4, dualstack, fips, dualstack-fips."
  }

  validation {
    condition     = length(distinct(var.ecr_endpoint_types)) == length(var.ecr_endpoint_types)
    error_message = "ecr_endpoint_types lists an endpoint type more than once."
  }
}

variable "ecr_public" {
  description = "Also log in to ECR Public (ECR_PUBLIC): public.ecr.aws, and ecr-public.aws.com with a dual-stack endpoint type. Authenticated pulls get higher quotas than anonymous ones. The token comes from ecr-public:GetAuthorizationToken in us-east-1 (adds that permission and sts:GetServiceBearerToken); aws partition only."
  type        = bool
  default     = false
  nullable    = false
}

variable "probe_images" {
  description = "ECR images the function pulls a manifest of (HEAD) with the new token before it publishes it (PROBE_IMAGES), e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest. Each must be on a host the docker config lists (registry_hosts output): a covered registry and region, on one of ecr_endpoint_types, or ECR Public's (public.ecr.aws/<alias>/<repository>:<tag>) with ecr_public."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # A private registry host of any endpoint type and partition, or one of ECR Public's, whose
    # repositories begin with the registry's alias.
    condition     = alltrue([for image in var.probe_images : can(regex("^([0-9]{12}\\.dkr[.-]ecr(-fips)?\\.[a-z0-9-]+(\\.[a-z0-9-]+)+/|(public\\.ecr\\.aws|ecr-public\\.aws\\.com)/[a-z0-9]+([._-][a-z0-9]+)*/)[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})$", image))])
    error_message = "Each probe_images entry must be an ECR image reference <registry host>/<repository>:<tag> (or @sha256:<digest>), the host one of <account>.dkr.ecr.<region>.amazonaws.com, its dkr-ecr (dual-stack) and -fips forms, or public.ecr.aws / ecr-public.aws.com with <alias>/<repository>."
  }
}

################################################################################
# What consumers do with the token besides pulling
################################################################################

variable "ecr_pull_through_cache_prefixes" {
  description = "Repository prefixes of ECR pull-through cache rules that pods pull through with the token (the rule's ecr_repository_prefix, e.g. docker-hub, ecr-public, quay). The first pull of an image under such a prefix makes ECR fetch it from the upstream registry with the puller's permissions: the role then also gets ecr:BatchImportUpstreamImage, and ecr:CreateRepository for a cache repository that does not exist yet, with the pull actions, on repository/<prefix>/* of each covered registry and region only. Registries of other accounts must also allow these actions in their registry permissions policy."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # ROOT is a rule for repositories without a prefix: granting it means CreateRepository on
    # every repository name of the registry.
    condition     = !contains(var.ecr_pull_through_cache_prefixes, "ROOT")
    error_message = "ecr_pull_through_cache_prefixes must not list ROOT: a rule without a prefix caches into any repository name, and granting it would allow ecr:CreateRepository on every repository of the registry. Give the cache rule a prefix (e.g. docker-hub), or grant ROOT caching in the registry permissions policy."
  }

  validation {
    # ECR's pattern for a rule's repository prefix: 2 to 30 characters, lowercase path
    # components joined by /, an optional trailing /.
    condition = alltrue([
      for prefix in var.ecr_pull_through_cache_prefixes :
      prefix == "ROOT" || (length(prefix) >= 2 && length(prefix) <= 30 && can(regex("^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*/?$", prefix)))
    ])
    error_message = "Invalid ecr_pull_through_cache_prefixes ${join(", ", [for prefix in var.ecr_pull_through_cache_prefixes : jsonencode(prefix) if prefix != "ROOT" && !(length(prefix) >= 2 && length(prefix) <= 30 && can(regex("^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*/?$", prefix)))])}: each must be a pull-through cache rule's repository prefix as ECR accepts it, 2 to 30 lowercase letters and digits in path components joined by / (separators . _ - inside a component), e.g. docker-hub or ecr-public; no wildcard, no leading /."
  }

  validation {
    # "docker-hub" and "docker-hub/" are the same rule (ECR appends the / itself).
    condition     = length(distinct([for prefix in var.ecr_pull_through_cache_prefixes : trimsuffix(prefix, "/")])) == length(var.ecr_pull_through_cache_prefixes)
    error_message = "ecr_pull_through_cache_prefixes lists a prefix more than once (ECR reads docker-hub and docker-hub/ as the same prefix)."
  }
}

variable "ecr_list_tags" {
  description = "Also allow the token to list a repository's tags (ecr:ListImages) on the repositories it may pull (ecr_repository_arns, and the pull-through cache prefixes' repositories when ecr_repository_arns is narrowed), for tools that pick a version from the tags: Flux OCIRepository/HelmRepository semver refs, Argo CD version ranges (targetRevision constraints), image updaters. Pulling a known tag or digest does not need it."
  type        = bool
  default     = false
  nullable    = false
}

################################################################################
# Lambda function
################################################################################

variable "lambda_zip_path" {
  description = "Path to a deployment zip you built yourself. Null: the zip committed with the module (dist/ecr-token-rotator.zip)."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Lambda Python runtime. The package needs Python 3.11 or newer. python3.14 needs hashicorp/aws 6.20.0 or newer (no 5.x release accepts it). Warning: python3.11 runs on Amazon Linux 2 (end of life 2026-06-30); Lambda deprecates it on 2027-06-30 (no more security patches, then no new functions) and blocks updates of functions on it from 2027-08-31, after which every apply that changes the function fails: use it only until you can move to python3.12 or newer."
  type        = string
  default     = "python3.13"

  validation {
    # python3.11's dates: Lambda's runtime table (docs.aws.amazon.com/lambda/latest/dg/
    # lambda-runtimes.html) as endoflife.date's copy of it read in 2026-08; AWS moved them from
    # 2026 in 2026-01. Still allowed (a plan with it must not fail), so the warning is here.
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14"], var.lambda_runtime)
    error_message = "lambda_runtime must be a Lambda Python runtime of 3.11 or newer: python3.11, python3.12, python3.13 or python3.14."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function: arm64 (cheaper) or x86_64. The package is pure Python and runs on both."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_size" {
  description = "Memory of the function in MB (128 to 10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "lambda_timeout" {
  description = "Timeout of one invocation in seconds (1 to 900). It also bounds how long the apply-time invocation waits for the new role's permissions to take effect."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_timeout >= 1 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "lambda_reserved_concurrent_executions" {
  description = "Reserved concurrency. Null (default) reserves none: concurrent runs are harmless, because the function publishes with a compare-and-swap, and a reservation fails in accounts whose concurrency quota is too small (Lambda keeps 100 unreserved). A whole number of at least 1 reserves that many; -1 also means none; 0 would stop the function and is rejected."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrent_executions == null || try(var.lambda_reserved_concurrent_executions == -1 || (var.lambda_reserved_concurrent_executions >= 1 && floor(var.lambda_reserved_concurrent_executions) == var.lambda_reserved_concurrent_executions), false)
    error_message = "lambda_reserved_concurrent_executions must be null or -1 (no reservation) or a whole number of at least 1 (0 would throttle every invocation)."
  }
}

variable "log_level" {
  description = "Application log level of the function (LOG_LEVEL and the Lambda application log level): DEBUG or INFO only. The success metric is an EMF line without a level, which Lambda files as INFO: a level above INFO would drop it and the expiry alarm would fire."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO"], var.log_level)
    error_message = "log_level must be DEBUG or INFO: above INFO, Lambda drops the EMF metric lines (filed as INFO) and the expiry alarm fires."
  }
}

variable "enable_xray_tracing" {
  description = "Whether to turn on active X-Ray tracing (adds the X-Ray write permissions)."
  type        = bool
  default     = false
}

variable "vpc_config" {
  description = "Run the function in these subnets with these security groups (adds the network-interface permissions Lambda needs). The subnets need a route to Secrets Manager and the ECR API, and to the ECR registry hosts when probe_images is set (NAT, or the secretsmanager, ecr.api and ecr.dkr VPC endpoints); Lambda delivers the logs and the metric itself. Null: no VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition     = var.vpc_config == null || try(length(var.vpc_config.subnet_ids) > 0 && alltrue([for id in var.vpc_config.subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))]), false)
    error_message = "vpc_config.subnet_ids must list at least one subnet ID (subnet-...)."
  }

  validation {
    condition     = var.vpc_config == null || try(length(var.vpc_config.security_group_ids) > 0 && alltrue([for id in var.vpc_config.security_group_ids : can(regex("^sg-[0-9a-f]+$", id))]), false)
    error_message = "vpc_config.security_group_ids must list at least one security group ID (sg-...)."
  }
}

variable "lambda_role_name" {
  description = "Name of the function's IAM role. Defaults to <name>-<region>: IAM role names are global in an account, and the region keeps instances in different regions apart."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.lambda_role_name))
    error_message = "lambda_role_name must be 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "scheduler_role_name" {
  description = "Name of the IAM role EventBridge Scheduler assumes (schedule_engine = \"scheduler\"). Defaults to <name>-scheduler-<region>: IAM role names are global in an account, and the region keeps instances in different regions apart."
  type        = string
  default     = null

  validation {
    condition     = var.scheduler_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.scheduler_role_name))
    error_message = "scheduler_role_name must be 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "role_path" {
  description = "Path of the IAM roles the module creates."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must begin and end with / (e.g. / or /service/)."
  }
}

variable "role_permissions_boundary_arn" {
  description = "ARN of the permissions boundary policy for the IAM roles the module creates."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary_arn))
    error_message = "role_permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "cloudwatch_log_group_retention_in_days" {
  description = "Days to keep the function's logs: one of the values CloudWatch Logs accepts."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_group_retention_in_days)
    error_message = "cloudwatch_log_group_retention_in_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "cloudwatch_log_group_kms_key_arn" {
  description = "ARN of a KMS key to encrypt the function's log group (its key policy must allow the CloudWatch Logs service). Null: CloudWatch Logs' default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_log_group_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.cloudwatch_log_group_kms_key_arn))
    error_message = "cloudwatch_log_group_kms_key_arn must be a KMS key ARN."
  }
}

################################################################################
# Trigger: schedule (EventBridge Scheduler or rule) or rotation (Secrets Manager)
################################################################################

variable "trigger_mode" {
  description = "schedule: EventBridge Scheduler (or an EventBridge rule: schedule_engine) invokes the function and it refreshes the secret in place. rotation: Secrets Manager native rotation invokes it (for rules that require rotation on every secret)."
  type        = string
  default     = "schedule"

  validation {
    condition     = contains(["schedule", "rotation"], var.trigger_mode)
    error_message = "trigger_mode must be schedule or rotation."
  }
}

variable "schedule_expression" {
  description = "Refresh schedule in schedule mode: rate(N minutes) with N from 30 to 480, rate(1 hour), or rate(N hours) with N from 2 to 8. ECR tokens last 12 hours. At least 30 minutes apart: each run may write a secret version, and Secrets Manager removes outdated versions only past 100 and none younger than 24 hours (docs/operations.md: versions)."
  type        = string
  default     = "rate(6 hours)"

  validation {
    # EventBridge wants the singular unit for 1 ("rate(1 hour)"), the plural for more.
    condition = anytrue([
      var.schedule_expression == "rate(1 hour)",
      try(contains(range(2, 9), tonumber(regex("^rate\\(([1-9][0-9]*) hours\\)$", var.schedule_expression)[0])), false),
      try(contains(range(30, 481), tonumber(regex("^rate\\(([1-9][0-9]*) minutes\\)$", var.schedule_expression)[0])), false),
    ])
    error_message = "schedule_expression must be rate(N minutes) with N from 30 to 480, rate(1 hour), or rate(N hours) with N from 2 to 8. At least 30 minutes apart: every run may write a secret version, and Secrets Manager keeps outdated versions until a secret has more than 100 and never removes one younger than 24 hours (its PutSecretValue reference warns that writing more often than every 10 minutes reaches the version quota); 48 runs a day leave room for retries, applies and other writers. At most 8 hours: room for retries within the 12-hour token lifetime."
  }
}

variable "schedule_engine" {
  description = "Schedule mode: what invokes the function on schedule_expression. scheduler: an EventBridge Scheduler schedule in a schedule group of its own (named <name>), with a bounded retry policy, optional dead-letter queue and time zone, and a role Scheduler assumes (<name>-scheduler-<region>). rule: an EventBridge scheduled rule and a resource policy on the function, the engine of earlier releases (AWS documents scheduled rules as legacy). Changing engines replaces these resources: the old schedule is destroyed, the new one created (CHANGELOG)."
  type        = string
  default     = "scheduler"
  nullable    = false

  validation {
    condition     = contains(["scheduler", "rule"], var.schedule_engine)
    error_message = "schedule_engine must be scheduler (EventBridge Scheduler) or rule (an EventBridge scheduled rule)."
  }
}

variable "schedule_timezone" {
  description = "schedule_engine = \"scheduler\": IANA time zone in which Scheduler evaluates the schedule (schedule_expression_timezone), e.g. Europe/Berlin. The rate() expressions schedule_expression allows keep their fixed interval in every zone: daylight saving neither shifts nor skips a run. Only UTC with the rule engine or in rotation mode (checked at plan)."
  type        = string
  default     = "UTC"
  nullable    = false

  validation {
    # IANA names: UTC, Europe/Berlin, America/Argentina/Buenos_Aires, Etc/GMT+5. Scheduler checks
    # the name against its time zone database at apply.
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$", var.schedule_timezone)) && length(var.schedule_timezone) <= 50
    error_message = "schedule_timezone must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York."
  }
}

variable "schedule_dead_letter_arn" {
  description = "schedule_engine = \"scheduler\": ARN of a standard SQS queue for invocations Scheduler could not hand to Lambda after its retries (dead-letter queue). The Scheduler role gets sqs:SendMessage on this queue only; a queue encrypted with a customer-managed KMS key must also allow that role kms:GenerateDataKey and kms:Decrypt in the key policy (output scheduler_role_arn). Null: none. Not with the rule engine or in rotation mode (checked at plan). Failed runs of the function itself go to on_failure_destination_arn."
  type        = string
  default     = null

  validation {
    # Scheduler takes standard queues only: a FIFO queue's name ends in .fifo.
    condition     = var.schedule_dead_letter_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.schedule_dead_letter_arn))
    error_message = "schedule_dead_letter_arn must be the ARN of a standard SQS queue (arn:aws:sqs:<region>:<account>:<queue name>); EventBridge Scheduler sends dead letters to standard SQS queues only, not to FIFO queues, SNS topics or other targets."
  }
}

variable "rotation_schedule_expression" {
  description = "Rotation schedule in rotation mode: rate(N hours) with N from 4 (the Secrets Manager minimum) to 8. The rotation window adds up to an hour, so the longest gap is N+1 hours."
  type        = string
  default     = "rate(6 hours)"

  validation {
    condition     = try(contains(range(4, 9), tonumber(regex("^rate\\(([1-9][0-9]*) hours\\)$", var.rotation_schedule_expression)[0])), false)
    error_message = "rotation_schedule_expression must be rate(N hours) with N from 4 to 8: Secrets Manager rotates at most every 4 hours, and N+1 hours must stay well inside the 12-hour token lifetime."
  }
}

variable "invoke_on_apply" {
  description = "Invoke the function during apply (aws_lambda_invocation, with the payload {\"invoked_by\": \"terraform-apply\"}, again whenever its code or configuration changes) so the secret holds a valid token when apply finishes; the function waits out IAM propagation of its new role for that payload. In rotation mode rotation is enabled after it, for the next window. With false, rotation mode rotates at once when rotation is enabled, and schedule mode waits for the first scheduled run (the expiry alarm is in ALARM until then)."
  type        = bool
  default     = true
}

variable "maximum_retry_attempts" {
  description = "Schedule mode: Lambda's retries of a run that failed (0 to 2), for either schedule_engine (both invoke asynchronously)."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "Schedule mode: how long Lambda keeps trying an event (60 to 21600 seconds)."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600
    error_message = "maximum_event_age_in_seconds must be between 60 and 21600."
  }
}

variable "on_failure_destination_arn" {
  description = "Schedule mode: where Lambda sends the record of an invocation that failed every retry: an SQS queue, SNS topic, Lambda function, EventBridge event bus or S3 bucket ARN. The function's role gets the one send/publish/invoke/put permission that type needs, on this ARN only."
  type        = string
  default     = null

  validation {
    condition = var.on_failure_destination_arn == null || anytrue([
      can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,80}$", var.on_failure_destination_arn)),
      can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.on_failure_destination_arn)),
      can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}$", var.on_failure_destination_arn)),
      can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9/._-]{1,256}$", var.on_failure_destination_arn)),
      can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.on_failure_destination_arn)),
    ])
    error_message = "on_failure_destination_arn must be the ARN of a standard SQS queue, standard SNS topic, Lambda function (unqualified), EventBridge event bus or S3 bucket."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarms" {
  description = <<-EOT
    CloudWatch alarms: `enabled` (default true); `expiry_warning_hours` (whole hours, at least 1; default null: 3 hours, less where the refresh period leaves no room, at least 80 minutes): the expiry alarm fires at least this long before the credential in AWSCURRENT expires when runs keep failing or stop (the rule and its numbers per schedule: docs/operations.md); `errors_threshold` (default 1): failed invocations within an hour that raise the errors alarm; `alarm_actions` / `ok_actions`: ARNs to notify (e.g. SNS topics). `staleness_window_hours` was removed with the staleness alarm: setting it fails with a note.
  EOT
  type = object({
    enabled                = optional(bool, true)
    expiry_warning_hours   = optional(number)
    errors_threshold       = optional(number, 1)
    alarm_actions          = optional(list(string), [])
    ok_actions             = optional(list(string), [])
    staleness_window_hours = optional(number) # removed: refused below with a note
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.alarms.expiry_warning_hours == null || try(var.alarms.expiry_warning_hours >= 1 && floor(var.alarms.expiry_warning_hours) == var.alarms.expiry_warning_hours, false)
    error_message = "alarms.expiry_warning_hours must be a whole number of hours, at least 1 (or null for the default). Its maximum depends on the refresh period: the plan says it when exceeded."
  }

  validation {
    condition     = var.alarms.staleness_window_hours == null
    error_message = "alarms.staleness_window_hours was removed: the staleness alarm (no successful run within the window) is replaced by the expiry alarm, on what AWSCURRENT holds (TokenSecondsToExpiry). Remove the setting; alarms.expiry_warning_hours sets how long before the credential expires that alarm fires."
  }

  validation {
    condition     = var.alarms.errors_threshold >= 1
    error_message = "alarms.errors_threshold must be at least 1."
  }

  validation {
    condition     = alltrue([for arn in concat(var.alarms.alarm_actions, var.alarms.ok_actions) : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", arn))])
    error_message = "alarms.alarm_actions and alarms.ok_actions must hold ARNs."
  }
}

################################################################################
# External Secrets Operator (ESO) access
################################################################################

variable "create_eso_role" {
  description = "Whether to create an IAM role for External Secrets Operator that can read the secret (see eso_read_policy_json). Trusts IRSA (eso_oidc_provider_arn) and/or EKS Pod Identity (eso_pod_identity)."
  type        = bool
  default     = false
}

variable "eso_role_name" {
  description = "Name of the ESO role. Defaults to <name>-eso-<region> (IAM role names are global in an account)."
  type        = string
  default     = null

  validation {
    condition     = var.eso_role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.eso_role_name))
    error_message = "eso_role_name must be 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "eso_namespace" {
  description = "Kubernetes namespace of ESO's service account (the one that reads the secret)."
  type        = string
  default     = "external-secrets"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.eso_namespace))
    error_message = "eso_namespace must be a Kubernetes namespace name (DNS label)."
  }
}

variable "eso_service_account" {
  description = "Name of ESO's Kubernetes service account."
  type        = string
  default     = "external-secrets"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", var.eso_service_account))
    error_message = "eso_service_account must be a Kubernetes service account name."
  }
}

variable "eso_oidc_provider_arn" {
  description = "IRSA: ARN of the cluster's IAM OIDC provider; the ESO role then trusts that service account through it. Null: no IRSA trust."
  type        = string
  default     = null

  validation {
    condition     = var.eso_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.eso_oidc_provider_arn))
    error_message = "eso_oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)."
  }
}

variable "eso_pod_identity" {
  description = "EKS Pod Identity: whether the ESO role trusts pods.eks.amazonaws.com for that namespace and service account."
  type        = bool
  default     = false
}

variable "create_eso_pod_identity_association" {
  description = "EKS Pod Identity (with eso_pod_identity): whether to create the aws_eks_pod_identity_association in eso_pod_identity_cluster_name. False: create the associations elsewhere (e.g. one per cluster). A bool, so that a cluster name known only after apply still plans."
  type        = bool
  default     = true
}

variable "eso_pod_identity_cluster_name" {
  description = "EKS Pod Identity (with eso_pod_identity): cluster to create the association in, and to restrict the trust to. Null: the role trusts ESO's service account in every cluster of this account that has an association for it."
  type        = string
  default     = null

  validation {
    condition     = var.eso_pod_identity_cluster_name == null || can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", var.eso_pod_identity_cluster_name))
    error_message = "eso_pod_identity_cluster_name must be an EKS cluster name."
  }
}

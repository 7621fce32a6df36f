# The IAM policies as the provider renders them (aws_iam_policy_document.json): a real provider,
# not a mock. Offline here (tools/terraform/harness.py); with the real provider, plan runs make no
# AWS call (data sources overridden, credentials not checked) but need credentials to configure,
# and the two runs of a created secret at the end apply (and destroy) the module in that account:
# a created secret's ARN, and so its policies, exist only after apply.
# Each mode and feature, statement by statement.
#
# Rendering rules worth knowing when reading the expected documents: one action or resource is a
# string, several are a list sorted in reverse; statements keep their order in the HCL.

provider "aws" {
  region                      = "eu-central-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/terraform", user_id = "AIDAEXAMPLE" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws", dns_suffix = "amazonaws.com", reverse_dns_prefix = "com.amazonaws" }
}

override_data {
  target = data.aws_region.current
  values = { name = "eu-central-1", region = "eu-central-1" }
}

# An existing secret: its ARN, and so every policy, is known at plan.
variables {
  create_secret = false
  secret_arn    = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
}

################################################################################
# The function's role
################################################################################

run "the_role_is_assumable_by_lambda_only" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(aws_iam_role.this[0].assume_role_policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "LambdaAssumeRole"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "lambda.amazonaws.com" }
      }]
    })
    error_message = "trust: the Lambda service"
  }
}

run "schedule_mode_grants_exactly_what_a_refresh_needs" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(aws_iam_role_policy.this[0].policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          # the function reads the document, writes the new version and moves AWSCURRENT to it
          # (the compare-and-swap); DescribeSecret tells a missing secret from an empty one
          Sid      = "SecretReadWrite"
          Effect   = "Allow"
          Action   = ["secretsmanager:UpdateSecretVersionStage", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
          Resource = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
        },
        {
          # no resource-level permissions exist for GetAuthorizationToken
          Sid      = "EcrAuthorizationToken"
          Effect   = "Allow"
          Action   = "ecr:GetAuthorizationToken"
          Resource = "*"
        },
        {
          # the probe and the kubelet pull with the token
          Sid      = "EcrPull"
          Effect   = "Allow"
          Action   = ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability"]
          Resource = "arn:aws:ecr:eu-central-1:123456789012:repository/*"
        },
        {
          # the Lambda runtime writes the function's logs
          Sid      = "Logs"
          Effect   = "Allow"
          Action   = ["logs:PutLogEvents", "logs:CreateLogStream"]
          Resource = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/ecr-token-rotator:*"
        },
      ]
    })
    error_message = "schedule mode: read/write the secret, tokens, pulls, logs; nothing else"
  }
}

run "rotation_mode_grants_the_same_secret_actions" {
  command = plan

  variables {
    trigger_mode = "rotation"
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[0]) == jsonencode({
      Sid    = "SecretReadWrite"
      Effect = "Allow"
      Action = [
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:PutSecretValue",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
      ]
      Resource = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
    })
    error_message = "rotation mode: the same actions, on the secret only"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "Logs"]
    error_message = "no other statement in rotation mode"
  }
}

run "a_customer_managed_key_only_through_secrets_manager" {
  command = plan

  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({
      Sid       = "SecretKmsKey"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.eu-central-1.amazonaws.com" } }
    })
    error_message = "decrypt/encrypt with the secret's key, only through Secrets Manager in the secret's region"
  }
}

run "the_kms_condition_follows_an_existing_secrets_region" {
  command = plan

  variables {
    secret_arn         = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/pull-AbCdEf"
    secret_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4].Condition.StringEquals["kms:ViaService"] == "secretsmanager.us-east-1.amazonaws.com"
    error_message = "Secrets Manager of the secret's region uses the key"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[0].Resource == "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/pull-AbCdEf"
    error_message = "the existing secret's ARN"
  }
}

run "tracing_adds_the_xray_writes" {
  command = plan

  variables {
    enable_xray_tracing = true
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({
      Sid      = "XRayWrite"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = "*"
    })
    error_message = "X-Ray's write actions take only *"
  }
}

run "vpc_mode_adds_the_network_interface_actions" {
  command = plan

  variables {
    vpc_config = { subnet_ids = ["subnet-0abc1234"], security_group_ids = ["sg-0abc1234"] }
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({
      Sid    = "VpcNetworkInterfaces"
      Effect = "Allow"
      Action = [
        "ec2:UnassignPrivateIpAddresses",
        "ec2:DescribeSubnets",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:CreateNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
      ]
      Resource = "*"
    })
    error_message = "the actions of AWSLambdaVPCAccessExecutionRole"
  }
}

run "an_sqs_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:sqs:eu-central-1:123456789012:failures"
  }

  assert {
    condition     = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({ Sid = "OnFailureDestination", Effect = "Allow", Action = "sqs:SendMessage", Resource = "arn:aws:sqs:eu-central-1:123456789012:failures" })
    error_message = "sqs:SendMessage on the queue only"
  }
}

run "an_sns_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:sns:eu-central-1:123456789012:failures"
  }

  assert {
    condition     = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({ Sid = "OnFailureDestination", Effect = "Allow", Action = "sns:Publish", Resource = "arn:aws:sns:eu-central-1:123456789012:failures" })
    error_message = "sns:Publish on the topic only"
  }
}

run "a_lambda_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:lambda:eu-central-1:123456789012:function:failures"
  }

  assert {
    condition     = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({ Sid = "OnFailureDestination", Effect = "Allow", Action = "lambda:InvokeFunction", Resource = "arn:aws:lambda:eu-central-1:123456789012:function:failures" })
    error_message = "lambda:InvokeFunction on the function only"
  }
}

run "an_event_bus_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:events:eu-central-1:123456789012:event-bus/failures"
  }

  assert {
    condition     = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4]) == jsonencode({ Sid = "OnFailureDestination", Effect = "Allow", Action = "events:PutEvents", Resource = "arn:aws:events:eu-central-1:123456789012:event-bus/failures" })
    error_message = "events:PutEvents on the bus only"
  }
}

run "an_s3_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:s3:::failures-bucket"
  }

  assert {
    condition = jsonencode(slice(jsondecode(data.aws_iam_policy_document.function[0].json).Statement, 4, 6)) == jsonencode([
      { Sid = "OnFailureDestinationBucket", Effect = "Allow", Action = "s3:ListBucket", Resource = "arn:aws:s3:::failures-bucket" },
      { Sid = "OnFailureDestinationObjects", Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::failures-bucket/*" },
    ])
    error_message = "list the bucket, put objects into it"
  }
}

run "no_destination_statement_in_rotation_mode_even_if_set" {
  command = plan

  variables {
    trigger_mode               = "rotation"
    on_failure_destination_arn = "arn:aws:sqs:eu-central-1:123456789012:failures"
  }

  # Rotation invocations are synchronous: the destination is refused by a precondition, and the
  # policy grants nothing for it either.
  expect_failures = [aws_lambda_function.this]

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "Logs"]
    error_message = "no OnFailureDestination statement"
  }
}

run "ecr_pull_is_scoped_to_the_covered_registries" {
  command = plan

  variables {
    ecr_regions      = ["eu-central-1", "us-east-1"]
    ecr_registry_ids = ["210987654321"]
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[2].Resource == ["arn:aws:ecr:us-east-1:210987654321:repository/*", "arn:aws:ecr:eu-central-1:210987654321:repository/*"]
    error_message = "every repository of the listed accounts, in the listed regions only"
  }
}

run "ecr_pull_can_be_narrowed_to_repositories" {
  command = plan

  variables {
    ecr_repository_arns = ["arn:aws:ecr:eu-central-1:123456789012:repository/team/app"]
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[2].Resource == "arn:aws:ecr:eu-central-1:123456789012:repository/team/app"
    error_message = "ecr_repository_arns replaces the default"
  }
}

run "ecr_public_adds_its_token_and_the_bearer_token_it_needs" {
  command = plan

  variables {
    ecr_public = true
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[2]) == jsonencode({
      Sid      = "EcrPublicAuthorizationToken"
      Effect   = "Allow"
      Action   = ["sts:GetServiceBearerToken", "ecr-public:GetAuthorizationToken"]
      Resource = "*"
    })
    error_message = "ECR Public's token needs sts:GetServiceBearerToken; neither action has resource-level permissions"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPublicAuthorizationToken", "EcrPull", "Logs"]
    error_message = "one statement more, nothing else"
  }
}

run "endpoint_types_need_no_other_permission" {
  command = plan

  variables {
    ecr_regions        = ["us-east-1"]
    ecr_endpoint_types = ["ipv4", "dualstack", "fips", "dualstack-fips"]
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "Logs"]
    error_message = "one regional token serves every endpoint type: no ECR Public statement, nothing else"
  }
}

################################################################################
# What consumers do with the token besides pulling
################################################################################

run "pull_through_cache_prefixes_add_the_import_on_their_repositories_only" {
  command = plan

  variables {
    ecr_regions                     = ["eu-central-1", "us-east-1"]
    ecr_registry_ids                = ["123456789012", "210987654321"]
    ecr_pull_through_cache_prefixes = ["docker-hub", "ecr-public/"]
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[3]) == jsonencode({
      # the kubelet's first pull of an image under a prefix imports it from upstream, into a
      # repository ECR creates then; every region and registry the token covers, no other name
      Sid    = "EcrPullThroughCache"
      Effect = "Allow"
      Action = [
        "ecr:GetDownloadUrlForLayer",
        "ecr:CreateRepository",
        "ecr:BatchImportUpstreamImage",
        "ecr:BatchGetImage",
        "ecr:BatchCheckLayerAvailability",
      ]
      Resource = [
        "arn:aws:ecr:us-east-1:210987654321:repository/ecr-public/*",
        "arn:aws:ecr:us-east-1:210987654321:repository/docker-hub/*",
        "arn:aws:ecr:us-east-1:123456789012:repository/ecr-public/*",
        "arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/*",
        "arn:aws:ecr:eu-central-1:210987654321:repository/ecr-public/*",
        "arn:aws:ecr:eu-central-1:210987654321:repository/docker-hub/*",
        "arn:aws:ecr:eu-central-1:123456789012:repository/ecr-public/*",
        "arn:aws:ecr:eu-central-1:123456789012:repository/docker-hub/*",
      ]
    })
    error_message = "import and create on repository/<prefix>/* of each covered registry and region, with the pulls"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "EcrPullThroughCache", "Logs"]
    error_message = "one statement more, nothing else (no tag listing without ecr_list_tags)"
  }
}

run "list_tags_covers_the_pull_repositories" {
  command = plan

  variables {
    ecr_list_tags = true
  }

  assert {
    condition     = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[3]) == jsonencode({ Sid = "EcrListTags", Effect = "Allow", Action = "ecr:ListImages", Resource = "arn:aws:ecr:eu-central-1:123456789012:repository/*" })
    error_message = "ecr:ListImages where the token pulls"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "EcrListTags", "Logs"]
    error_message = "one statement more, nothing else"
  }
}

run "list_tags_on_narrowed_repositories_and_the_cache" {
  command = plan

  variables {
    ecr_repository_arns             = ["arn:aws:ecr:eu-central-1:123456789012:repository/team-a/*"]
    ecr_pull_through_cache_prefixes = ["docker-hub"]
    ecr_list_tags                   = true
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[2].Resource == "arn:aws:ecr:eu-central-1:123456789012:repository/team-a/*"
    error_message = "the pulls stay narrowed"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[3].Resource == "arn:aws:ecr:eu-central-1:123456789012:repository/docker-hub/*"
    error_message = "the cache's repositories only"
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4].Resource == ["arn:aws:ecr:eu-central-1:123456789012:repository/team-a/*", "arn:aws:ecr:eu-central-1:123456789012:repository/docker-hub/*"]
    error_message = "tags of the narrowed repositories and of the cache's, nothing else"
  }
}

run "a_policy_over_the_role_size_limit_is_refused_at_plan" {
  command = plan

  variables {
    ecr_regions                     = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2"]
    ecr_registry_ids                = ["123456789012", "210987654321", "111111111111"]
    ecr_repository_arns             = ["arn:aws:ecr:eu-central-1:123456789012:repository/team-a/*"]
    ecr_pull_through_cache_prefixes = ["docker-hub", "ecr-public", "quay", "ghcr", "k8s", "gitlab", "azure", "mirror"]
    ecr_list_tags                   = true
  }

  # 12 registries x 8 prefixes, for pulls and again for tag listing: 193 repository ARNs, over
  # the 10,240 characters IAM allows a role's policies.
  expect_failures = [aws_iam_role_policy.this]
}

run "the_same_prefixes_fit_when_the_pulls_are_not_narrowed" {
  command = plan

  variables {
    ecr_regions                     = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2"]
    ecr_registry_ids                = ["123456789012", "210987654321", "111111111111"]
    ecr_pull_through_cache_prefixes = ["docker-hub", "ecr-public", "quay", "ghcr", "k8s", "gitlab", "azure", "mirror"]
    ecr_list_tags                   = true
  }

  # The same without narrowing: repository/* of each registry already covers the cache's tags.
  assert {
    condition     = length(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[4].Resource) == 12
    error_message = "tag listing on the 12 registries' repository/*"
  }
}

################################################################################
# The role EventBridge Scheduler assumes (schedule_engine = "scheduler", the default)
################################################################################

run "scheduler_assumes_its_role_only_for_the_modules_schedule_group" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(aws_iam_role.scheduler[0].assume_role_policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "SchedulerAssumeRole"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "scheduler.amazonaws.com" }
        Condition = {
          ArnEquals    = { "aws:SourceArn" = "arn:aws:scheduler:eu-central-1:123456789012:schedule-group/ecr-token-rotator" }
          StringEquals = { "aws:SourceAccount" = "123456789012" }
        }
      }]
    })
    error_message = "trust: EventBridge Scheduler, for this account's schedule group of the module only (confused-deputy prevention)"
  }

  assert {
    condition = (
      aws_iam_role.scheduler[0].name == "ecr-token-rotator-scheduler-eu-central-1"
      && aws_iam_role.scheduler[0].path == "/"
      && aws_iam_role.scheduler[0].permissions_boundary == null
    )
    error_message = "the default name is <name>-scheduler-<region>, at the default path"
  }
}

run "scheduler_may_invoke_the_function_and_nothing_else" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(aws_iam_role_policy.scheduler[0].policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "SchedulerInvokeFunction"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = "arn:aws:lambda:eu-central-1:123456789012:function:ecr-token-rotator"
      }]
    })
    error_message = "the Scheduler role invokes this function only: ${aws_iam_role_policy.scheduler[0].policy}"
  }
}

run "a_dead_letter_queue_adds_send_message_on_that_queue_only" {
  command = plan

  variables {
    schedule_dead_letter_arn = "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-dead-letters"
  }

  assert {
    condition = jsonencode(jsondecode(aws_iam_role_policy.scheduler[0].policy).Statement[1]) == jsonencode({
      Sid      = "SchedulerDeadLetterQueue"
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = "arn:aws:sqs:eu-central-1:123456789012:ecr-token-rotator-dead-letters"
    })
    error_message = "Scheduler sends dead letters with the schedule's role: SendMessage on that queue"
  }

  assert {
    condition     = !strcontains(data.aws_iam_policy_document.function[0].json, "ecr-token-rotator-dead-letters")
    error_message = "the function's role has no business with Scheduler's dead-letter queue"
  }
}

run "the_scheduler_role_honours_path_boundary_and_name" {
  command = plan

  variables {
    role_path                     = "/service/"
    role_permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary"
    scheduler_role_name           = "rotator-scheduler"
  }

  assert {
    condition = (
      aws_iam_role.scheduler[0].name == "rotator-scheduler"
      && aws_iam_role.scheduler[0].path == "/service/"
      && aws_iam_role.scheduler[0].permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    )
    error_message = "role_path, role_permissions_boundary_arn and scheduler_role_name apply to the Scheduler role as to the function's"
  }
}

run "the_rule_engine_has_no_scheduler_role" {
  command = plan

  variables {
    schedule_engine = "rule"
  }

  assert {
    condition     = length(aws_iam_role.scheduler) == 0 && length(data.aws_iam_policy_document.scheduler) == 0 && length(data.aws_iam_policy_document.scheduler_assume_role) == 0
    error_message = "an EventBridge rule invokes the function through the function's resource policy"
  }
}

################################################################################
# Readers: ESO's role and readers in other accounts
################################################################################

run "the_read_policy_of_an_existing_secret" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(output.eso_read_policy_json)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "ReadSecret"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
      }]
    })
    error_message = "read the secret, nothing else (no key: no KMS statement)"
  }
}

run "irsa_trusts_the_service_account_through_the_oidc_provider" {
  command = plan

  variables {
    create_eso_role       = true
    eso_oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC123"
    eso_namespace         = "eso"
    eso_service_account   = "reader"
  }

  assert {
    condition = jsonencode(jsondecode(aws_iam_role.eso[0].assume_role_policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "EsoIrsa"
        Effect    = "Allow"
        Action    = "sts:AssumeRoleWithWebIdentity"
        Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC123" }
        Condition = {
          StringEquals = {
            "oidc.eks.eu-central-1.amazonaws.com/id/ABC123:aud" = "sts.amazonaws.com"
            "oidc.eks.eu-central-1.amazonaws.com/id/ABC123:sub" = "system:serviceaccount:eso:reader"
          }
        }
      }]
    })
    error_message = "one service account, audience sts.amazonaws.com"
  }

  assert {
    condition     = aws_iam_role_policy.eso[0].policy == output.eso_read_policy_json
    error_message = "the ESO role holds the read policy"
  }
}

run "pod_identity_trusts_the_service_account_in_one_cluster" {
  command = plan

  variables {
    create_eso_role               = true
    eso_pod_identity              = true
    eso_pod_identity_cluster_name = "prod"
    eso_namespace                 = "eso"
  }

  assert {
    condition = jsonencode(jsondecode(aws_iam_role.eso[0].assume_role_policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "EsoPodIdentity"
        Effect    = "Allow"
        Action    = ["sts:TagSession", "sts:AssumeRole"]
        Principal = { Service = "pods.eks.amazonaws.com" }
        Condition = {
          StringEquals = {
            "aws:RequestTag/eks-cluster-name"           = "prod"
            "aws:RequestTag/kubernetes-namespace"       = "eso"
            "aws:RequestTag/kubernetes-service-account" = "external-secrets"
            "aws:SourceAccount"                         = "123456789012"
          }
        }
      }]
    })
    error_message = "EKS Pod Identity for that namespace, service account and cluster, in this account"
  }
}

run "pod_identity_without_a_cluster_trusts_every_cluster_of_the_account" {
  command = plan

  variables {
    create_eso_role                     = true
    eso_pod_identity                    = true
    create_eso_pod_identity_association = false
  }

  assert {
    condition = keys(jsondecode(aws_iam_role.eso[0].assume_role_policy).Statement[0].Condition.StringEquals) == [
      "aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account", "aws:SourceAccount",
    ]
    error_message = "no cluster condition"
  }
}

run "irsa_and_pod_identity_together" {
  command = plan

  variables {
    create_eso_role                     = true
    eso_oidc_provider_arn               = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/ABC123"
    eso_pod_identity                    = true
    create_eso_pod_identity_association = false
  }

  assert {
    condition     = jsondecode(aws_iam_role.eso[0].assume_role_policy).Statement[*].Sid == ["EsoIrsa", "EsoPodIdentity"]
    error_message = "both trusts"
  }
}

run "cross_account_readers_get_a_secret_policy_naming_only_them" {
  command = plan

  variables {
    secret_kms_key_arn           = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret_reader_principal_arns = ["arn:aws:iam::210987654321:role/external-secrets", "arn:aws:iam::210987654321:root"]
  }

  assert {
    condition = jsonencode(jsondecode(aws_secretsmanager_secret_policy.this[0].policy)) == jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "CrossAccountRead"
        Effect    = "Allow"
        Action    = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
        Resource  = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
        Principal = { AWS = ["arn:aws:iam::210987654321:root", "arn:aws:iam::210987654321:role/external-secrets"] }
      }]
    })
    error_message = "read access for those principals, on this secret"
  }

  assert {
    condition = jsonencode(jsondecode(output.eso_read_policy_json).Statement[1]) == jsonencode({
      Sid       = "DecryptSecret"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.eu-central-1.amazonaws.com" } }
    })
    error_message = "readers decrypt through Secrets Manager only"
  }
}

################################################################################
# A created secret (apply: its ARN exists only then)
################################################################################

run "replicas_under_customer_managed_keys" {
  command = apply

  variables {
    create_secret      = true
    secret_arn         = null
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "us-east-1" },
    ]
  }

  assert {
    condition = jsonencode(jsondecode(data.aws_iam_policy_document.function[0].json).Statement[5]) == jsonencode({
      Sid       = "SecretReplicaKmsKeys"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Encrypt"]
      Resource  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = ["secretsmanager.eu-central-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"] } }
    })
    error_message = "Secrets Manager re-encrypts each new version with the replicas' keys, with the function's credentials"
  }

  assert {
    condition = jsonencode(jsondecode(output.eso_read_policy_json)) == jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid    = "ReadSecret"
          Effect = "Allow"
          Action = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
          Resource = [
            replace(aws_secretsmanager_secret.this[0].arn, "eu-central-1", "us-east-1"),
            replace(aws_secretsmanager_secret.this[0].arn, "eu-central-1", "eu-west-1"),
            aws_secretsmanager_secret.this[0].arn,
          ]
        },
        {
          Sid    = "DecryptSecret"
          Effect = "Allow"
          Action = "kms:Decrypt"
          Resource = [
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
          ]
          Condition = { StringEquals = { "kms:ViaService" = ["secretsmanager.eu-central-1.amazonaws.com", "secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"] } }
        },
      ]
    })
    error_message = "ESO reads the primary or a replica and decrypts with that region's key, through Secrets Manager"
  }
}

run "replicas_under_aws_managed_keys_need_no_kms_statement" {
  command = apply

  variables {
    create_secret   = true
    secret_arn      = null
    secret_replicas = [{ region = "eu-west-1" }]
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.function[0].json).Statement[*].Sid == ["SecretReadWrite", "EcrAuthorizationToken", "EcrPull", "Logs"]
    error_message = "aws/secretsmanager needs no grant"
  }
}

################################################################################
# The identity that runs terraform apply: what it needs beyond managing the resources
# (output apply_identity_policy_json, known at plan)
################################################################################

run "the_apply_identity_passes_the_function_role_to_lambda_and_invokes_the_function" {
  command = plan

  assert {
    condition = jsonencode(jsondecode(output.apply_identity_policy_json)) == jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          # Lambda's CreateFunction/UpdateFunctionConfiguration pass the role
          Sid       = "PassFunctionRole"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = "arn:aws:iam::123456789012:role/ecr-token-rotator-eu-central-1"
          Condition = { StringEquals = { "iam:PassedToService" = "lambda.amazonaws.com" } }
        },
        {
          # CreateSchedule/UpdateSchedule pass the Scheduler role (the default engine)
          Sid       = "PassSchedulerRole"
          Effect    = "Allow"
          Action    = "iam:PassRole"
          Resource  = "arn:aws:iam::123456789012:role/ecr-token-rotator-scheduler-eu-central-1"
          Condition = { StringEquals = { "iam:PassedToService" = "scheduler.amazonaws.com" } }
        },
        {
          # the apply-time invocation
          Sid      = "InvokeFunction"
          Effect   = "Allow"
          Action   = "lambda:InvokeFunction"
          Resource = "arn:aws:lambda:eu-central-1:123456789012:function:ecr-token-rotator"
        },
      ]
    })
    error_message = "defaults: pass the function's role to Lambda and Scheduler's to Scheduler, invoke the function: ${output.apply_identity_policy_json}"
  }
}

run "without_the_apply_time_invocation_schedule_mode_invokes_nothing" {
  command = plan

  variables {
    invoke_on_apply = false
    alarms          = { enabled = false } # no expiry alarm in ALARM until the first run
  }

  assert {
    condition     = jsondecode(output.apply_identity_policy_json).Statement[*].Sid == ["PassFunctionRole", "PassSchedulerRole"]
    error_message = "nothing invokes the function during apply"
  }
}

run "rotation_mode_invokes_the_function_through_rotate_secret" {
  command = plan

  variables {
    trigger_mode    = "rotation"
    invoke_on_apply = false
    alarms          = { enabled = false }
  }

  assert {
    condition     = jsondecode(output.apply_identity_policy_json).Statement[*].Sid == ["PassFunctionRole", "InvokeFunction"]
    error_message = "RotateSecret requires its caller to be allowed to invoke the rotation function"
  }
}

run "a_created_secret_and_its_replicas_under_customer_managed_keys" {
  command = plan

  variables {
    create_secret      = true
    secret_arn         = null
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    secret_replicas = [
      { region = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" },
      { region = "us-east-1" },
    ]
  }

  assert {
    condition = jsonencode(jsondecode(output.apply_identity_policy_json).Statement[3]) == jsonencode({
      Sid       = "SecretKmsKey"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.eu-central-1.amazonaws.com" } }
    })
    error_message = "CreateSecret under a customer-managed key: GenerateDataKey and Decrypt, through Secrets Manager"
  }

  assert {
    condition = jsonencode(jsondecode(output.apply_identity_policy_json).Statement[4]) == jsonencode({
      Sid       = "SecretReplicaKmsKeys"
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Encrypt"]
      Resource  = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      Condition = { StringEquals = { "kms:ViaService" = ["secretsmanager.eu-west-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"] } }
    })
    error_message = "replication: Encrypt and GenerateDataKey on each replica's key, through Secrets Manager in the replica regions"
  }
}

run "an_existing_secrets_key_is_not_the_apply_identitys_business" {
  command = plan

  variables {
    secret_kms_key_arn = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = jsondecode(output.apply_identity_policy_json).Statement[*].Sid == ["PassFunctionRole", "PassSchedulerRole", "InvokeFunction"]
    error_message = "the module neither creates nor replicates an existing secret"
  }
}

run "vpc_mode_lets_lambda_check_the_subnets_and_security_groups" {
  command = plan

  variables {
    vpc_config = { subnet_ids = ["subnet-0abc1234"], security_group_ids = ["sg-0abc1234"] }
  }

  assert {
    condition = jsonencode(jsondecode(output.apply_identity_policy_json).Statement[3]) == jsonencode({
      Sid      = "VpcDescribe"
      Effect   = "Allow"
      Action   = ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
      Resource = "*"
    })
    error_message = "Lambda checks the VPC configuration with the caller's credentials"
  }
}

run "the_pod_identity_association_passes_the_eso_role" {
  command = plan

  variables {
    role_path                     = "/service/"
    lambda_role_name              = "rotator"
    scheduler_role_name           = "scheduler"
    create_eso_role               = true
    eso_pod_identity              = true
    eso_pod_identity_cluster_name = "platform"
  }

  assert {
    condition = jsonencode(slice(jsondecode(output.apply_identity_policy_json).Statement, 0, 3)) == jsonencode([
      {
        Sid       = "PassFunctionRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = "arn:aws:iam::123456789012:role/service/rotator"
        Condition = { StringEquals = { "iam:PassedToService" = "lambda.amazonaws.com" } }
      },
      {
        Sid       = "PassSchedulerRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = "arn:aws:iam::123456789012:role/service/scheduler"
        Condition = { StringEquals = { "iam:PassedToService" = "scheduler.amazonaws.com" } }
      },
      {
        Sid      = "PassEsoRole"
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = "arn:aws:iam::123456789012:role/service/ecr-token-rotator-eso-eu-central-1"
      },
    ])
    error_message = "each role ARN follows role_path and the role's name"
  }
}

run "the_rule_engine_passes_no_scheduler_role" {
  command = plan

  variables {
    schedule_engine = "rule"
  }

  assert {
    condition     = jsondecode(output.apply_identity_policy_json).Statement[*].Sid == ["PassFunctionRole", "InvokeFunction"]
    error_message = "an EventBridge rule invokes the function through its resource policy: no role to pass"
  }
}

run "the_apply_identity_policy_names_the_resources_the_module_creates" {
  command = apply

  variables {
    role_path                     = "/service/"
    create_eso_role               = true
    eso_pod_identity              = true
    eso_pod_identity_cluster_name = "platform"
  }

  assert {
    condition = [for statement in jsondecode(output.apply_identity_policy_json).Statement : statement.Resource] == [
      aws_iam_role.this[0].arn, aws_iam_role.scheduler[0].arn, aws_iam_role.eso[0].arn,
      aws_lambda_function.this[0].arn,
    ]
    error_message = "the policy built at plan names the roles and the function as they are created"
  }
}

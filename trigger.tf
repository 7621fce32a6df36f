################################################################################
# Schedule mode: EventBridge Scheduler (schedule_engine = "scheduler") or an EventBridge scheduled
# rule ("rule") invokes the function asynchronously. Either way Lambda queues the event and retries
# a failed run itself (aws_lambda_function_event_invoke_config); Scheduler's own retry policy and
# dead-letter queue cover only handing the event to Lambda (README, "Schedule engine").
################################################################################

locals {
  # EventBridge rule and Scheduler schedule descriptions hold at most 512 characters, a secret
  # name up to 512.
  schedule_description_with_name = "Refreshes the ECR pull credentials in ${coalesce(local.secret_name, "the secret")}."
  schedule_description           = length(local.schedule_description_with_name) <= 512 ? local.schedule_description_with_name : "Refreshes the ECR pull credentials in the secret of the function's SECRET_ID."

  # What the apply-time invocation sends: the function retries AccessDenied (a role whose new
  # policy has not reached every endpoint yet) for a time bounded by its remaining invocation
  # time, for this payload only. Any other event fails at once on AccessDenied.
  apply_invocation_input = { invoked_by = "terraform-apply" }

  # What a scheduled run gets from Scheduler: a plain refresh (any object but the apply-time
  # payload above), which names its sender for whoever reads the event.
  scheduled_invocation_input = { invoked_by = "eventbridge-scheduler" }

  # Scheduler's retries of an invocation Lambda refused (throttled, AccessDenied, the function
  # missing): a few attempts, and never past the next scheduled run, which starts afresh anyway
  # (Scheduler's default is 185 attempts over 24 hours). Its event age is 60 to 86,400 seconds;
  # the refresh period is at least 30 minutes.
  scheduler_maximum_retry_attempts       = 3
  scheduler_maximum_event_age_in_seconds = min(2 * 3600, local.schedule_minutes * 60)

  # ARNs built from the inputs, so that the role's trust and policy are known at plan: the
  # schedule group (Scheduler's confused-deputy condition names the group, never a schedule) and
  # the function (apply_identity.tf).
  scheduler_group_arn = "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.name}"
}

################################################################################
# schedule_engine = "scheduler": a schedule in a group of its own (so the group's AWS/Scheduler
# metrics are this schedule's alone), and the role Scheduler assumes to invoke the function.
################################################################################

resource "aws_scheduler_schedule_group" "this" {
  count = local.scheduler_engine ? 1 : 0

  name = var.name

  # Scheduler tags groups, not schedules.
  tags = var.tags
}

resource "aws_scheduler_schedule" "this" {
  count = local.scheduler_engine ? 1 : 0

  name                         = var.name
  group_name                   = aws_scheduler_schedule_group.this[0].name
  description                  = local.schedule_description
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone

  # Runs at the scheduled time, not anywhere in a window: the expiry alarm counts on the period.
  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this[0].arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = jsonencode(local.scheduled_invocation_input)

    retry_policy {
      maximum_retry_attempts       = local.scheduler_maximum_retry_attempts
      maximum_event_age_in_seconds = local.scheduler_maximum_event_age_in_seconds
    }

    dynamic "dead_letter_config" {
      for_each = var.schedule_dead_letter_arn == null ? [] : [var.schedule_dead_letter_arn]
      content {
        arn = dead_letter_config.value
      }
    }
  }

  # CreateSchedule refuses a role Scheduler cannot assume, and the first run needs the policy.
  depends_on = [aws_iam_role_policy.scheduler]
}

data "aws_iam_policy_document" "scheduler_assume_role" {
  count = local.scheduler_engine ? 1 : 0

  # EventBridge Scheduler assumes the role to invoke the function, only for the schedules of this
  # module's group in this account (confused-deputy prevention: Scheduler's aws:SourceArn is the
  # schedule group's ARN).
  statement {
    sid     = "SchedulerAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.scheduler_group_arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  count = local.scheduler_engine ? 1 : 0

  name                 = local.role_names.scheduler
  path                 = var.role_path
  description          = "Role EventBridge Scheduler assumes to invoke the ${var.name} Lambda function on its schedule."
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume_role[0].json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.role_names.scheduler) <= 64
      error_message = local.role_name_errors.scheduler
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  count = local.scheduler_engine ? 1 : 0

  # Scheduler invokes this function (asynchronously) with the role, and nothing else.
  statement {
    sid       = "SchedulerInvokeFunction"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.lambda_function_arn]
  }

  # schedule_dead_letter_arn: Scheduler sends an invocation it could not deliver after its retries
  # to the dead-letter queue with the schedule's execution role (Scheduler user guide, "Configuring
  # a dead-letter queue").
  dynamic "statement" {
    for_each = var.schedule_dead_letter_arn == null ? [] : [var.schedule_dead_letter_arn]
    content {
      sid       = "SchedulerDeadLetterQueue"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count = local.scheduler_engine ? 1 : 0

  name   = "invoke-ecr-token-rotator"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler[0].json
}

################################################################################
# schedule_engine = "rule": an EventBridge scheduled rule (legacy in AWS's documentation) and a
# resource policy on the function that lets EventBridge invoke it.
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  count = local.rule_engine ? 1 : 0

  name                = var.name
  description         = local.schedule_description
  schedule_expression = var.schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.rule_engine ? 1 : 0

  rule = aws_cloudwatch_event_rule.this[0].name
  arn  = aws_lambda_function.this[0].arn
}

resource "aws_lambda_permission" "eventbridge" {
  count = local.rule_engine ? 1 : 0

  statement_id  = "AllowInvokeFromEventBridgeRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[0].arn
}

################################################################################
# Both engines: Lambda's own retries of a failed run, and where it reports one that failed them all.
################################################################################

resource "aws_lambda_function_event_invoke_config" "this" {
  count = local.create && local.schedule_mode ? 1 : 0

  function_name                = aws_lambda_function.this[0].function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  dynamic "destination_config" {
    for_each = var.on_failure_destination_arn == null ? [] : [var.on_failure_destination_arn]
    content {
      on_failure {
        destination = destination_config.value
      }
    }
  }

  # Lambda checks at configuration time that the role may use the destination.
  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# Both modes: the function runs once during apply, so the secret holds a valid token as soon as
# apply finishes (a refresh; in rotation mode before rotation is enabled).
################################################################################

resource "aws_lambda_invocation" "this" {
  count = local.create && var.invoke_on_apply ? 1 : 0

  function_name = aws_lambda_function.this[0].function_name
  # A manual refresh; the response holds no secret material (the function's return contract),
  # so it is safe in state.
  input = jsonencode(local.apply_invocation_input)

  # Refresh again whenever the code or anything the function runs with changes.
  triggers = {
    source_code_hash = local.lambda_source_code_hash
    environment      = sha256(jsonencode(local.environment))
    policy           = sha256(data.aws_iam_policy_document.function[0].json)
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

################################################################################
# Rotation mode: Secrets Manager native rotation invokes the function.
################################################################################

resource "aws_lambda_permission" "secretsmanager" {
  count = local.create && local.rotation_mode ? 1 : 0

  statement_id  = "AllowInvokeFromSecretsManagerRotation"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[0].function_name
  principal     = "secretsmanager.amazonaws.com"
  source_arn    = local.secret_arn
}

resource "aws_secretsmanager_secret_rotation" "this" {
  count = local.create && local.rotation_mode ? 1 : 0

  secret_id           = local.secret_arn
  rotation_lambda_arn = aws_lambda_function.this[0].arn
  # Secrets Manager invokes a rotation asynchronously, with its own event: a rotation started
  # while the new role's policy is not effective yet fails in createSecret and apply never
  # hears of it. So the apply-time invocation (which waits out IAM propagation) writes the first
  # value, and rotation starts at its next window. Without it, rotate at once.
  rotate_immediately = !var.invoke_on_apply

  rotation_rules {
    schedule_expression = var.rotation_schedule_expression
  }

  lifecycle {
    # RotateSecret acts in the provider's region; an existing secret elsewhere cannot be
    # rotated from here.
    precondition {
      condition     = local.secret_region == local.region
      error_message = "trigger_mode = \"rotation\" needs the secret in the provider's region (${local.region}); secret_arn is in ${coalesce(local.secret_region, "another region")}. Use trigger_mode = \"schedule\" (the function refreshes a secret in any region), or call this module with a provider for ${coalesce(local.secret_region, "the secret's region")}."
    }
  }

  depends_on = [
    aws_lambda_permission.secretsmanager,
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_lambda_invocation.this,
  ]
}

################################################################################
# Schedule mode: an EventBridge rule invokes the function asynchronously.
################################################################################

locals {
  # EventBridge rule descriptions hold at most 512 characters, a secret name up to 512.
  rule_description_with_name = "Refreshes the ECR pull credentials in ${coalesce(local.secret_name, "the secret")}."
  rule_description           = length(local.rule_description_with_name) <= 512 ? local.rule_description_with_name : "Refreshes the ECR pull credentials in the secret of the function's SECRET_ID."

  # What the apply-time invocation sends: the function retries AccessDenied (a role whose new
  # policy has not reached every endpoint yet) for a time bounded by its remaining invocation
  # time, for this payload only. Any other event fails at once on AccessDenied.
  apply_invocation_input = { invoked_by = "terraform-apply" }
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.create && local.schedule_mode ? 1 : 0

  name                = var.name
  description         = local.rule_description
  schedule_expression = var.schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.create && local.schedule_mode ? 1 : 0

  rule = aws_cloudwatch_event_rule.this[0].name
  arn  = aws_lambda_function.this[0].arn
}

resource "aws_lambda_permission" "eventbridge" {
  count = local.create && local.schedule_mode ? 1 : 0

  statement_id  = "AllowInvokeFromEventBridgeRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[0].arn
}

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

################################################################################
# Alarms: failed invocations, and no successful refresh within the staleness window.
################################################################################

locals {
  create_alarms = local.create && var.alarms.enabled
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  count = local.create_alarms ? 1 : 0

  alarm_name        = "${var.name}-errors"
  alarm_description = "The ${var.name} function failed at least ${var.alarms.errors_threshold} time(s) within an hour; see its log group /aws/lambda/${var.name}."

  namespace   = "AWS/Lambda"
  metric_name = "Errors"
  dimensions = {
    FunctionName = aws_lambda_function.this[0].function_name
  }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.alarms.errors_threshold
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarms.alarm_actions
  ok_actions    = var.alarms.ok_actions

  tags = var.tags
}

# Built on the success metric the function emits (EMF: namespace ECRTokenRotator, dimension
# FunctionName, RefreshSuccess = 1 per published refresh or finished rotation). Missing data is
# breaching, so a function that silently stops running alarms too.
resource "aws_cloudwatch_metric_alarm" "staleness" {
  count = local.create_alarms ? 1 : 0

  alarm_name        = "${var.name}-stale"
  alarm_description = "No successful ECR token refresh by ${var.name} within ${var.alarms.staleness_window_hours} hours: the token in ${coalesce(local.secret_name, "the secret")} expires 12 hours after its refresh."

  namespace   = local.metric_namespace
  metric_name = "RefreshSuccess"
  dimensions = {
    FunctionName = aws_lambda_function.this[0].function_name
  }
  statistic           = "Sum"
  period              = var.alarms.staleness_window_hours * 3600
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"

  alarm_actions = var.alarms.alarm_actions
  ok_actions    = var.alarms.ok_actions

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.alarms.staleness_window_hours * 60 > local.refresh_period_minutes
      error_message = "alarms.staleness_window_hours must be longer than the refresh period (in rotation mode the rotation hours + 1 for the rotation window), or the alarm flaps between refreshes."
    }
  }
}

# Missing data is breaching (see above), so until the first refresh the staleness alarm is in
# ALARM and notifies alarm_actions. The apply-time invocation is that first refresh; without it
# the first one is the first scheduled run (schedule mode) or rotation (rotation mode).
check "staleness_alarm_starts_in_alarm" {
  assert {
    condition     = !local.create_alarms || var.invoke_on_apply
    error_message = "With invoke_on_apply = false, the staleness alarm (${var.name}-stale) is in ALARM from its creation until the first refresh succeeds, and notifies alarms.alarm_actions. Keep invoke_on_apply = true, or expect that alarm after apply."
  }
}

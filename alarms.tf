################################################################################
# Alarms: failed invocations, a schedule that cannot invoke the function, and the outcome: the
# credential in AWSCURRENT nears its expiry.
################################################################################

locals {
  create_alarms = local.create && var.alarms.enabled

  # The expiry alarm watches TokenSecondsToExpiry, which the function emits on every run that
  # can read the secret (published, superseded or failed): the seconds left to the earliest
  # expiry of what AWSCURRENT holds after the run, 0 when it holds no usable credential. Data
  # therefore arrives only when the function runs: once per refresh period in healthy operation
  # (schedule interval; rotation hours + the rotation window), each run a few minutes late at
  # most (Scheduler or EventBridge and Lambda start it within minutes, it may take the whole timeout). The
  # window must always hold a run, so it is the period plus that slack.
  expiry_window_minutes = local.refresh_period_minutes + 15 + ceil(var.lambda_timeout / 60)
  # CloudWatch evaluates once a minute over a range a few periods longer than the window, and
  # reads the function's EMF lines within minutes: the threshold allows for both.
  expiry_evaluation_allowance_minutes = 10
  # A fresh token has 12 hours; the threshold stays an hour below it so that healthy runs
  # (and a credential a concurrent run published minutes earlier) never alarm.
  expiry_threshold_limit_minutes = 11 * 60
  # Threshold = window + allowance + warning: the alarm fires once the last run that found at
  # least the threshold left is a window (and the allowance) behind, so the credential still has
  # the warning left. The default warning: 3 hours, or as much as fits below the limit for long
  # periods (the least is 80 minutes: rotation rate(8 hours) with a 900-second timeout).
  expiry_max_warning_minutes   = local.expiry_threshold_limit_minutes - local.expiry_window_minutes - local.expiry_evaluation_allowance_minutes
  expiry_warning_minutes       = var.alarms.expiry_warning_hours != null ? var.alarms.expiry_warning_hours * 60 : min(180, local.expiry_max_warning_minutes)
  expiry_threshold_minutes     = local.expiry_window_minutes + local.expiry_evaluation_allowance_minutes + local.expiry_warning_minutes
  expiry_refresh_period_phrase = local.rotation_mode ? "${var.rotation_schedule_expression} + the rotation window" : var.schedule_expression
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

# schedule_engine = "scheduler": the schedule cannot invoke the function. The group holds this
# schedule only, so its AWS/Scheduler metrics are this schedule's. Every attempt Lambda refuses
# (the role, its trust or the function is broken, or Lambda throttled it) counts in
# TargetErrorCount, and an invocation is dropped or dead-lettered only after such attempts: one
# metric sees them all first, at the price of one alarm metric (a metric math alarm over the drop
# and dead-letter counts too would cost one per metric and tell nothing sooner). Scheduler emits
# it only when it happens: missing data is no failure. The expiry alarm catches a schedule that
# stopped firing.
resource "aws_cloudwatch_metric_alarm" "schedule" {
  count = local.create_alarms && local.scheduler_engine ? 1 : 0

  alarm_name        = "${var.name}-schedule"
  alarm_description = "EventBridge Scheduler could not invoke the ${var.name} function within an hour (TargetErrorCount of schedule group ${var.name}; it retries, then drops the invocation${var.schedule_dead_letter_arn == null ? "" : " or sends it to ${var.schedule_dead_letter_arn}"}). Check the role ${local.role_names.scheduler} and the function (docs/troubleshooting.md)."

  namespace   = "AWS/Scheduler"
  metric_name = "TargetErrorCount"
  dimensions = {
    ScheduleGroup = aws_scheduler_schedule_group.this[0].name
  }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"

  alarm_actions = var.alarms.alarm_actions
  ok_actions    = var.alarms.ok_actions

  tags = var.tags
}

# The outcome: ALARM when no run within the window found at least the threshold left, i.e. every
# run failed to refresh a credential that now expires within the warning (values falling run by
# run), or no run reported at all (missing data is breaching). One-minute periods, each needing to
# breach (datapoints to alarm = evaluation periods), so that one healthy run anywhere in the window
# keeps it OK. A single period as long as the window would not do: CloudWatch evaluates the most
# recent real datapoints of its evaluation range, several periods long, before it treats anything
# as missing, and would keep re-reading the last healthy run for hours after runs stopped.
# Maximum per minute: runs of one minute (rotation steps, Lambda's concurrent or retried runs)
# observe AWSCURRENT moments apart, and it only moves forward, so the highest value is the latest.
resource "aws_cloudwatch_metric_alarm" "expiry" {
  count = local.create_alarms ? 1 : 0

  alarm_name        = "${var.name}-expiry"
  alarm_description = "No run of ${var.name} (${local.expiry_refresh_period_phrase}) in the last ${local.expiry_window_minutes} minutes found ${local.expiry_threshold_minutes} minutes or more left on the ECR pull credential in ${coalesce(local.secret_name, "the secret")} (AWSCURRENT): the runs fail to refresh it, or none ran. It has at least ${local.expiry_warning_minutes} minutes left when this fires. Read the run_failed lines in /aws/lambda/${var.name} (none: check the schedule or rotation), fix, then force a refresh."

  namespace   = local.metric_namespace
  metric_name = "TokenSecondsToExpiry"
  dimensions = {
    FunctionName = aws_lambda_function.this[0].function_name
  }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = local.expiry_window_minutes
  datapoints_to_alarm = local.expiry_window_minutes
  comparison_operator = "LessThanThreshold"
  threshold           = local.expiry_threshold_minutes * 60
  treat_missing_data  = "breaching"

  alarm_actions = var.alarms.alarm_actions
  ok_actions    = var.alarms.ok_actions

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.expiry_warning_minutes <= local.expiry_max_warning_minutes
      error_message = "alarms.expiry_warning_hours = ${coalesce(var.alarms.expiry_warning_hours, 0)} is too long for ${local.expiry_refresh_period_phrase} with lambda_timeout = ${var.lambda_timeout}: runs may be ${local.expiry_window_minutes} minutes apart, and the threshold (that window + ${local.expiry_evaluation_allowance_minutes} minutes + the warning) must stay at most 11 hours, an hour below a fresh token's 12, or healthy runs would alarm. At most ${floor(local.expiry_max_warning_minutes / 60)} hour(s) here; or leave it unset (${min(180, local.expiry_max_warning_minutes)} minutes)."
    }
  }
}

# Missing data is breaching (see above), so until the first run the expiry alarm is in ALARM and
# notifies alarm_actions. The apply-time invocation is that first run; without it the first one
# is the first scheduled run (schedule mode) or rotation (rotation mode).
check "expiry_alarm_starts_in_alarm" {
  assert {
    condition     = !local.create_alarms || var.invoke_on_apply
    error_message = "With invoke_on_apply = false, the expiry alarm (${var.name}-expiry) is in ALARM from its creation until the first run reports the credential, and notifies alarms.alarm_actions. Keep invoke_on_apply = true, or expect that alarm after apply."
  }
}

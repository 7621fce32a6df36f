terraform {
  # 1.5: `strcontains()` (used to read the refresh period out of the schedule expression),
  # `optional()` attribute defaults, `lifecycle { precondition }` and `check` blocks.
  # Cross-variable `validation` would need 1.9, so cross-variable checks are preconditions.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The lowest release that accepts every argument *and every enum value* this module (and
      # its examples) may send; the provider checks enums at plan:
      # - 5.76.0: `runtime = "python3.13"`, the default of lambda_runtime (#40277; 5.75.1
      #   rejects it, #40107);
      # - 5.33.0: `rotate_immediately` on aws_secretsmanager_secret_rotation (#35105);
      # - 5.32.0: `logging_config` on aws_lambda_function (#35050);
      # - 5.29.0: the aws_eks_pod_identity_association resource (#34566);
      # - 4.x or older: `rotation_rules.schedule_expression` (#30425), aws_lambda_invocation
      #   `triggers`, aws_lambda_function_event_invoke_config and everything else used here.
      # `runtime = "python3.14"` is accepted from 6.20.0 only (#44984), by no 5.x release: a
      # precondition refuses it on 5.x with that message (6.0-6.19 answer with the provider's
      # own enum error). Raising the minimum to 6.20 instead would drop every 5.x user for an
      # optional value.
      # Checked against both majors (5.100 and 6.x): no argument used here was removed or
      # deprecated in 6.0. The region is read without naming data.aws_region's `name`
      # (deprecated in 6) or `region` (absent in 5); see local.region in main.tf.
      version = ">= 5.76"
    }
  }
}

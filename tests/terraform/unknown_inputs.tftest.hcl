# Inputs known only after apply (outputs of resources created in the same apply) must not break
# the plan: no "Invalid count argument", no for_each over unknown keys. The checks on those values
# (validations, preconditions) run once they are known, at apply.

provider "aws" {
  region                      = "eu-central-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

override_data {
  target = module.ecr_token_rotator.data.aws_caller_identity.current
  values = { account_id = "123456789012", arn = "arn:aws:iam::123456789012:user/terraform", user_id = "AIDAEXAMPLE" }
}

override_data {
  target = module.ecr_token_rotator.data.aws_partition.current
  values = { partition = "aws", dns_suffix = "amazonaws.com", reverse_dns_prefix = "com.amazonaws" }
}

override_data {
  target = module.ecr_token_rotator.data.aws_region.current
  values = { name = "eu-central-1", region = "eu-central-1" }
}

run "schedule_mode_with_every_input_from_a_new_resource" {
  command = plan

  module {
    source = "./tests/terraform/fixtures/unknown_inputs"
  }

  variables {
    trigger_mode = "schedule"
  }

  assert {
    condition     = output.registry_host_count == 1
    error_message = "the number of registry hosts is known at plan even when the account ID is not"
  }
}

run "rotation_mode_of_an_existing_secret_from_a_new_resource" {
  command = plan

  module {
    source = "./tests/terraform/fixtures/unknown_inputs"
  }

  variables {
    trigger_mode = "rotation"
  }
}

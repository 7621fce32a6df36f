# What differs on hashicorp/aws 6.x (tests/terraform/harness.py runs this directory on 6.x
# only): data.aws_region's attributes, and the Lambda runtimes the provider accepts.

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

run "the_region_is_read_from_the_providers_data_source" {
  command = plan

  assert {
    condition     = output.region == "eu-central-1"
    error_message = "data.aws_region answers with the provider's region"
  }
}

run "python3_14_is_accepted_on_provider_6" {
  command = plan

  variables {
    lambda_runtime = "python3.14"
  }

  assert {
    condition     = aws_lambda_function.this[0].runtime == "python3.14"
    error_message = "6.20.0 and newer accept python3.14"
  }
}

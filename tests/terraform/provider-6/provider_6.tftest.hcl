# What differs on hashicorp/aws 6.x (tools/terraform/harness.py runs this directory on 6.x
# only): data.aws_region's attributes, and the Lambda runtimes the provider accepts.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

run "the_region_is_read_from_data_aws_region_of_provider_6" {
  command = plan

  assert {
    condition     = output.region == "eu-central-1"
    error_message = "the region comes from data.aws_region.region"
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

# What differs on hashicorp/aws 5.x (tools/terraform/harness.py runs this directory on 5.x
# only): data.aws_region's attributes, and the Lambda runtimes the provider accepts.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

run "the_region_is_read_from_data_aws_region_of_provider_5" {
  command = plan

  assert {
    condition     = output.region == "eu-central-1"
    error_message = "the region comes from data.aws_region.name (provider 5 has no region attribute)"
  }
}

run "python3_14_is_refused_on_provider_5" {
  command = plan

  variables {
    lambda_runtime = "python3.14"
  }

  # No 5.x release accepts python3.14 (it came with 6.20.0): refused with that message.
  expect_failures = [aws_lambda_function.this]
}

run "python3_13_is_the_newest_runtime_on_provider_5" {
  command = plan

  variables {
    lambda_runtime = "python3.13"
  }
}

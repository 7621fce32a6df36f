# One instance of the module per region, with the same `name` (README, "Several regions"): the
# names that are global in an account must not collide. IAM role names are unique in the whole
# account ("Names of users, groups, roles, policies, instance profiles, and server certificates
# must be alphanumeric ... and unique within the account", IAM user guide, "IAM object quotas"
# / "IAM identifiers"), and IAM is a global service; a second CreateRole of the same name fails
# with EntityAlreadyExists. The offline provider does not enforce that, so the names are compared.
# Each provider configuration is mocked in its region (mock_data answers the module's data
# sources, as the real provider would in that region).

mock_provider "aws" {
  alias = "primary"

  mock_data "aws_region" {
    defaults = { name = "eu-central-1", region = "eu-central-1" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

mock_provider "aws" {
  alias = "secondary"

  mock_data "aws_region" {
    defaults = { name = "eu-west-1", region = "eu-west-1" }
  }

  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

run "two_regions_same_name_distinct_iam_roles" {
  command = apply

  module {
    source = "./tests/terraform/fixtures/two_regions"
  }

  providers = {
    aws.primary   = aws.primary
    aws.secondary = aws.secondary
  }

  assert {
    condition = output.iam_role_names == [
      "ecr-token-rotator-eu-central-1", "ecr-token-rotator-eso-eu-central-1",
      "ecr-token-rotator-scheduler-eu-central-1",
      "ecr-token-rotator-eu-west-1", "ecr-token-rotator-eso-eu-west-1",
      "ecr-token-rotator-scheduler-eu-west-1",
    ]
    error_message = "every IAM role name is unique in the account: ${jsonencode(output.iam_role_names)}"
  }

  assert {
    condition = output.regional_names == {
      primary   = ["eu-central-1", "ecr-token-rotator"]
      secondary = ["eu-west-1", "ecr-token-rotator"]
    }
    error_message = "each instance in its own region, the regional names alike: ${jsonencode(output.regional_names)}"
  }
}

run "the_longest_name_that_fits_in_the_longest_region_name" {
  command = plan

  module {
    source = "./tests/terraform/fixtures/two_regions"
  }

  providers = {
    aws.primary   = aws.primary
    aws.secondary = aws.secondary
  }

  variables {
    name = join("", [for i in range(41) : "n"]) # + "-scheduler-eu-central-1" = 64
  }

  assert {
    condition     = length(distinct(output.iam_role_names)) == 6 && max([for name in output.iam_role_names : length(name)]...) == 64
    error_message = "six names, the longest 64 characters"
  }
}

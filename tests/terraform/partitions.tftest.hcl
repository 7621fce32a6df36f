# The registry hosts and refusals of the partitions other than aws: China (aws-cn), GovCloud
# (aws-us-gov), the European Sovereign Cloud (aws-eusc) and an ISO partition (aws-iso). Each
# mocked provider answers like the real one in that partition's region; the aws partition's runs
# are in resources.tftest.hcl and preconditions.tftest.hcl.

mock_provider "aws" {
  alias = "china"

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-cn", dns_suffix = "amazonaws.com.cn" }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "cn-north-1", region = "cn-north-1" }
  }
}

mock_provider "aws" {
  alias = "govcloud"

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-us-gov", dns_suffix = "amazonaws.com" }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-gov-west-1", region = "us-gov-west-1" }
  }
}

mock_provider "aws" {
  alias = "eusc"

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-eusc", dns_suffix = "amazonaws.eu" }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "eusc-de-east-1", region = "eusc-de-east-1" }
  }
}

mock_provider "aws" {
  alias = "iso"

  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-iso", dns_suffix = "c2s.ic.gov" }
  }

  override_data {
    target = data.aws_region.current
    values = { name = "us-iso-east-1", region = "us-iso-east-1" }
  }
}

run "china_hosts_use_the_china_suffixes" {
  command   = plan
  providers = { aws = aws.china }

  variables {
    ecr_regions        = ["cn-north-1", "cn-northwest-1"]
    ecr_endpoint_types = ["ipv4", "dualstack"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
      "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
      "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
      "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
    ])
    error_message = "China: amazonaws.com.cn, and on.amazonwebservices.com.cn for dual-stack"
  }
}

run "ecr_public_not_in_china" {
  command   = plan
  providers = { aws = aws.china }

  variables {
    ecr_public = true
  }

  expect_failures = [aws_lambda_function.this]
}

run "probe_images_in_china_on_the_china_dualstack_host" {
  command   = plan
  providers = { aws = aws.china }

  variables {
    ecr_endpoint_types = ["dualstack"]
    probe_images       = ["123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn/app:1"]
  }
}

run "govcloud_offers_every_endpoint_type" {
  command   = plan
  providers = { aws = aws.govcloud }

  variables {
    ecr_endpoint_types = ["ipv4", "dualstack", "fips", "dualstack-fips"]
  }

  assert {
    condition = jsonencode(output.registry_hosts) == jsonencode([
      "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
      "123456789012.dkr-ecr.us-gov-west-1.on.aws",
      "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
      "123456789012.dkr-ecr-fips.us-gov-west-1.on.aws",
    ])
    error_message = "GovCloud: FIPS and dual-stack hosts"
  }
}

run "ecr_regions_of_the_providers_partition_in_govcloud" {
  command   = plan
  providers = { aws = aws.govcloud }

  variables {
    ecr_regions = ["us-gov-west-1", "us-gov-east-1"]
  }
}

run "ecr_public_only_in_the_aws_partition" {
  command   = plan
  providers = { aws = aws.govcloud }

  variables {
    ecr_public = true
  }

  expect_failures = [aws_lambda_function.this]
}

run "european_sovereign_cloud_hosts_use_its_suffix" {
  command   = plan
  providers = { aws = aws.eusc }

  assert {
    condition     = jsonencode(output.registry_hosts) == jsonencode(["123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"])
    error_message = "the European Sovereign Cloud's own DNS suffix"
  }
}

run "dualstack_where_aws_documents_no_dualstack_host" {
  command   = plan
  providers = { aws = aws.eusc }

  variables {
    ecr_endpoint_types = ["dualstack"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "accepts_the_european_sovereign_clouds_hosts" {
  command   = plan
  providers = { aws = aws.eusc }

  variables {
    ecr_regions  = ["eusc-de-east-1"]
    probe_images = ["123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu/app:1"]
  }
}

run "dualstack_in_an_iso_partition" {
  command   = plan
  providers = { aws = aws.iso }

  variables {
    ecr_endpoint_types = ["ipv4", "dualstack"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "ipv4_in_an_iso_partition" {
  command   = plan
  providers = { aws = aws.iso }

  assert {
    condition     = jsonencode(output.registry_hosts) == jsonencode(["123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"])
    error_message = "the partition's own DNS suffix"
  }
}

run "fips_is_not_offered_in_china" {
  command   = plan
  providers = { aws = aws.china }

  variables {
    ecr_endpoint_types = ["ipv4", "fips"]
  }

  expect_failures = [aws_lambda_function.this]
}

run "fips_in_both_govcloud_regions" {
  command   = plan
  providers = { aws = aws.govcloud }

  variables {
    ecr_regions        = ["us-gov-east-1"]
    ecr_endpoint_types = ["dualstack-fips"]
  }

  assert {
    condition     = jsonencode(output.registry_hosts) == jsonencode(["123456789012.dkr-ecr-fips.us-gov-east-1.on.aws"])
    error_message = "dual-stack FIPS in us-gov-east-1"
  }
}

run "a_commercial_region_from_govcloud" {
  command   = plan
  providers = { aws = aws.govcloud }

  variables {
    ecr_regions = ["us-gov-west-1", "us-east-1"]
  }

  expect_failures = [aws_lambda_function.this]
}

# The mocked hashicorp/aws of the suites that need no rendering from the provider: the account,
# partition and region data sources answer like the provider in eu-central-1 (provider 5 has no
# data.aws_region.region: that value is dropped there), and a created secret gets an ARN of the
# real shape.

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws", dns_suffix = "amazonaws.com" }
}

override_data {
  target = data.aws_region.current
  values = { name = "eu-central-1", region = "eu-central-1" }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf" }
}

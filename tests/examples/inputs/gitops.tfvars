# Fake but well-formed values for the example's required inputs (things that must exist before
# `terraform apply` in a real account): CI applies the example offline with them.
oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-central-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

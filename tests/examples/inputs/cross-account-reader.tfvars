# Fake but well-formed values for the example's required inputs (things that must exist before
# `terraform apply` in a real account): CI applies the example offline with them.
reader_account_role_arn = "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"
reader_cluster_name     = "reader"

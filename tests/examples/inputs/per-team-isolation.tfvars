# Fake but well-formed values for the example's required inputs (things that must exist before
# `terraform apply` in a real account): CI applies the example offline with them.
cluster_name = "platform"

# Fake but well-formed values for the example's required inputs (things that must exist before
# `terraform apply` in a real account): CI applies the example offline with them.
cluster_name         = "platform-ipv6"
app_image_repository = "platform/app"
app_image_tag        = "1.0.0"

"""The real `terraform`, offline (harness), the IAM policies it renders for every mode and feature
(policies), and the module's HCL read as literals (hcl)."""

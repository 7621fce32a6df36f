"""Tests of examples/: each example applied by Terraform (offline), the manifests it renders, and
what ESO and the kubelet make of them."""

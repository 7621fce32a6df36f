terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.76"
    }
    # Writes the rendered manifests to manifests/generated/<team>/ (var.write_manifests).
    local = {
      source  = "hashicorp/local"
      version = ">= 2.4"
    }
  }
}

"""Keep an Amazon ECR pull credential fresh in AWS Secrets Manager for External Secrets Operator."""

__version__ = "0.1.0"

# Replication is asynchronous, and the provider waits for the secret, not for its replicas
# (hashicorp/aws internal/service/secretsmanager/secret.go: CreateSecret with AddReplicaRegions,
# then DescribeSecret until the secret exists; the replicas' ReplicationStatus is only read): an
# apply can end green with a replica that failed. The module surfaces it in the output
# secret_replica_status, which every refresh updates. (Not a check block: its condition would be
# unknown whenever the secret is new, and Terraform warns, and `terraform test` fails, on every
# such plan.) The statuses are DescribeSecret's (ReplicationStatusType: InSync, Failed,
# InProgress); the message is moto's wording of a replica whose name is taken in its region.

mock_provider "aws" {
  source = "./tests/terraform/mocks"
}

variables {
  name_taken = "Replication failed: Secret name ecr-token-rotator already exists in region eu-west-1."
}

run "a_failed_replica_is_reported_after_apply" {
  command = apply

  variables {
    secret_replicas = [{ region = "eu-west-1" }]
  }

  # A mocked nested block: these values apply to every replica of the set (override values
  # cannot name variables: the message is var.name_taken, written out).
  override_resource {
    target = aws_secretsmanager_secret.this
    values = {
      arn     = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
      replica = { status = "Failed", status_message = "Replication failed: Secret name ecr-token-rotator already exists in region eu-west-1." }
    }
  }

  assert {
    condition = jsonencode(output.secret_replica_status) == jsonencode({
      "eu-west-1" = { status = "Failed", status_message = var.name_taken }
    })
    error_message = "the output shows each replica's status and message"
  }
}

run "replicas_in_progress_are_reported_too" {
  command   = apply
  state_key = "in_progress" # a secret of its own: the mock computes its statuses anew

  variables {
    secret_replicas = [{ region = "eu-west-1" }, { region = "us-east-1" }]
  }

  override_resource {
    target = aws_secretsmanager_secret.this
    values = {
      arn     = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:ecr-token-rotator-AbCdEf"
      replica = { status = "InProgress", status_message = "Replication in progress" }
    }
  }

  assert {
    condition     = keys(output.secret_replica_status) == ["eu-west-1", "us-east-1"] && alltrue([for replica in values(output.secret_replica_status) : replica.status == "InProgress"])
    error_message = "both replicas are reported"
  }
}

run "no_replicas_no_status" {
  command   = apply
  state_key = "no_replicas"

  assert {
    condition     = output.secret_replica_status == {}
    error_message = "an empty map without replicas"
  }
}

run "a_secret_of_the_same_name_is_kept_unless_overwriting_is_asked_for" {
  command = plan

  variables {
    secret_replicas = [{ region = "eu-west-1" }]
  }

  assert {
    condition     = aws_secretsmanager_secret.this[0].force_overwrite_replica_secret == false
    error_message = "replication does not overwrite a secret of the same name by default"
  }
}

run "overwriting_a_secret_of_the_same_name" {
  command = plan

  variables {
    secret_replicas                       = [{ region = "eu-west-1" }]
    secret_force_overwrite_replica_secret = true
  }

  assert {
    condition     = aws_secretsmanager_secret.this[0].force_overwrite_replica_secret
    error_message = "secret_force_overwrite_replica_secret is passed to the provider"
  }
}

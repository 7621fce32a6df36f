"""The cross-account-reader example: the three grants a read from another account needs agree,
as Terraform applied them (offline, both provider majors), and each resource lives in the account
its provider configuration says.

AWS allows a cross-account GetSecretValue only when the secret's resource policy, the KMS key's
policy and the reader's own IAM policy all allow it (and the reader names the secret by ARN). The
offline provider serves one account for both provider configurations, so the account boundary is
checked in the configuration (which provider each resource uses), the grants in the state.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tools.terraform.harness import EXAMPLES, MAJORS, PROVIDER_VERSIONS, AppliedExample
from tools.terraform.hcl import blocks, labelled, literal, load

NAME = "cross-account-reader"
EXAMPLE = EXAMPLES / NAME


@pytest.fixture(params=MAJORS, ids=[f"aws{PROVIDER_VERSIONS[m]}" for m in MAJORS])
def example(request, applied) -> AppliedExample:
    return applied(NAME, request.param)


def one(example: AppliedExample, address: str) -> dict[str, Any]:
    (values,) = example.resources(address)
    return values


def statements(policy: str) -> list[dict[str, Any]]:
    return list(json.loads(policy)["Statement"])


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def manifests(example: AppliedExample) -> dict[str, dict[str, Any]]:
    return {
        document["kind"]: document
        for text in example.generated.values()
        for document in yaml.safe_load_all(text)
        if document
    }


def test_the_secret_policy_lets_the_readers_role_read(example):
    reader = one(example, "aws_iam_role.reader")
    secret = one(example, "module.ecr_token_rotator.aws_secretsmanager_secret.this")
    policy = one(example, "module.ecr_token_rotator.aws_secretsmanager_secret_policy.this")
    assert policy["secret_arn"] == secret["arn"]
    assert policy["block_public_policy"] is True
    (statement,) = statements(policy["policy"])
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Principal"]["AWS"]) == [reader["arn"]]
    assert "secretsmanager:GetSecretValue" in as_list(statement["Action"])


def test_the_key_policy_lets_the_readers_role_decrypt_through_secrets_manager_only(example):
    reader = one(example, "aws_iam_role.reader")
    key = one(example, "aws_kms_key.secret")
    secret = one(example, "module.ecr_token_rotator.aws_secretsmanager_secret.this")
    assert secret["kms_key_id"] == key["arn"]  # a customer-managed key: shareable
    region = secret["arn"].split(":")[3]
    grants = [
        statement
        for statement in statements(key["policy"])
        if reader["arn"] in as_list(statement["Principal"]["AWS"])
    ]
    assert len(grants) == 1
    assert as_list(grants[0]["Action"]) == ["kms:Decrypt"]
    assert grants[0]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
    }


def test_the_readers_own_account_allows_the_same_read(example):
    reader = one(example, "aws_iam_role.reader")
    read_policy = one(example, "module.ecr_token_rotator.data.aws_iam_policy_document.eso_read")
    policy = one(example, "aws_iam_role_policy.reader")
    assert policy["role"] == reader["name"]
    assert policy["policy"] == read_policy["json"]
    secret = one(example, "module.ecr_token_rotator.aws_secretsmanager_secret.this")
    key = one(example, "aws_kms_key.secret")
    allowed = {
        (action, resource)
        for statement in statements(policy["policy"])
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert ("secretsmanager:GetSecretValue", secret["arn"]) in allowed
    assert ("kms:Decrypt", key["arn"]) in allowed


def test_the_cluster_reads_as_the_readers_role_by_the_secrets_arn(example):
    reader = one(example, "aws_iam_role.reader")
    secret = one(example, "module.ecr_token_rotator.aws_secretsmanager_secret.this")
    objects = manifests(example)
    account = objects["ServiceAccount"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == reader["arn"]
    (trust,) = statements(reader["assume_role_policy"])
    subjects = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    namespace, name = account["metadata"]["namespace"], account["metadata"]["name"]
    assert subjects == [f"system:serviceaccount:{namespace}:{name}"]
    store = objects["ClusterSecretStore"]["spec"]["provider"]["aws"]
    assert store["region"] == secret["arn"].split(":")[3]
    (item,) = objects["ExternalSecret"]["spec"]["data"]
    assert item["remoteRef"]["key"] == secret["arn"]


def test_each_resource_lives_in_the_account_its_provider_names():
    main = load(EXAMPLE / "main.tf")
    aliases = {literal(body["alias"]) for _, body in blocks(main, "provider")}
    assert aliases == {"owner", "reader"}  # no default configuration to fall back on
    placed = {
        f"{kind}.{name}": str(body.get("provider"))
        for block in ("resource", "data")
        for kind, name, body in labelled(main, block)
        if kind.startswith("aws_")
    }
    reader_side = {address for address, provider in placed.items() if provider == "${aws.reader}"}
    owner_side = {address for address, provider in placed.items() if provider == "${aws.owner}"}
    assert reader_side | owner_side == set(placed), "every aws resource names its account"
    assert {address.split(".")[0] for address in reader_side} == {
        "aws_eks_cluster",
        "aws_iam_openid_connect_provider",
        "aws_iam_policy_document",  # the reader role's trust
        "aws_iam_role",
        "aws_iam_role_policy",
    }
    assert {"aws_kms_key.secret", "aws_iam_policy_document.secret_key"} <= owner_side
    ((_, module),) = blocks(main, "module")
    assert module["providers"] == {"aws": "${aws.owner}"}

"""The IAM policies the module writes, extracted from its HCL per mode and feature.

Three kinds of check:
1. parliament: valid actions, resource ARNs whose format matches each action;
2. cloudsplaining: no privilege escalation, resource exposure or data exfiltration beyond what
   the design needs (the remaining findings are listed here with their reason);
3. assertions on the HCL: every resource scoped (no "*" except where the API takes nothing
   else), each service's actions on its own resource, rotation-only actions absent in schedule
   mode. Moto checks actions, not resources, so resource scoping is asserted here.

Whether the actions the function's own code calls are sufficient and necessary is proven by
running the handler under moto's IAM enforcement with function_policy()'s actions (elsewhere).
"""

from __future__ import annotations

import json

import pytest
from cloudsplaining.scan.policy_document import PolicyDocument
from parliament import analyze_policy_string

from tests.terraform.hcl_policies import (
    ACCOUNT_ID,
    DESTINATION_ARNS,
    KMS_KEY_ARN,
    LOG_GROUP_ARN,
    REGION,
    SECRET_ARN,
    all_function_policies,
    eso_read_policy,
    function_policy,
    module,
    policy_document,
)

POLICIES = all_function_policies()

# The only statements allowed to name "*", each because the API has no resource-level scoping.
STAR_STATEMENTS = {
    # GetAuthorizationToken has no resource type: it is always "*".
    "EcrAuthorizationToken": {"ecr:GetAuthorizationToken"},
    # X-Ray's write actions have no resource types.
    "XRayWrite": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    # The Lambda service manages the function's ENIs: the Describe actions take only "*"; the
    # others would need the IDs of interfaces that do not exist yet, and subnets of a shared VPC
    # belong to another account. AWSLambdaVPCAccessExecutionRole grants them on "*" too.
    "VpcNetworkInterfaces": {
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    },
}

# parliament reports RESOURCE_STAR for the ENI actions that do have resource types; accepted
# for the reason given in STAR_STATEMENTS["VpcNetworkInterfaces"].
ACCEPTED_PARLIAMENT_FINDINGS = {
    (
        "RESOURCE_STAR",
        (
            "ec2:AssignPrivateIpAddresses",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:UnassignPrivateIpAddresses",
        ),
    )
}


def statements(policy):
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def actions(policy):
    return {action for statement in policy["Statement"] for action in statement["Action"]}


# ---- 1. parliament ---------------------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(POLICIES))
def test_function_policy_passes_parliament(label):
    analyzed = analyze_policy_string(json.dumps(POLICIES[label]))
    findings = {(finding.issue, tuple(sorted(finding.detail))) for finding in analyzed.findings}
    assert findings - ACCEPTED_PARLIAMENT_FINDINGS == set()


def test_parliament_would_report_a_mismatched_resource():
    # The linter does look at resources: an ECR pull action on a secret ARN is a finding.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["ecr:BatchGetImage"], "Resource": [SECRET_ARN]}
        ],
    }
    assert analyze_policy_string(json.dumps(policy)).findings


def test_eso_read_policy_passes_parliament():
    replicas = [{"region": "eu-west-1", "kms_key_arn": KMS_KEY_ARN.replace(REGION, "eu-west-1")}]
    for policy in (eso_read_policy(), eso_read_policy(kms=True, replicas=replicas)):
        assert analyze_policy_string(json.dumps(policy)).findings == []


# ---- 2. cloudsplaining -----------------------------------------------------------------------


@pytest.mark.parametrize("label", sorted(POLICIES))
def test_function_policy_has_no_escalation_exposure_or_exfiltration(label):
    document = PolicyDocument(POLICIES[label])
    assert document.allows_privilege_escalation == []
    assert document.permissions_management_without_constraints == []  # resource exposure
    assert document.allows_data_exfiltration_actions == []
    assert document.tagging_actions_without_constraints == []
    assert document.service_wildcard == []


@pytest.mark.parametrize("label", sorted(POLICIES))
def test_function_policy_remaining_cloudsplaining_findings_are_by_design(label):
    document = PolicyDocument(POLICIES[label])
    # Credentials exposure: fetching ECR tokens is the function's job.
    assert document.credentials_exposure == ["ecr:GetAuthorizationToken"]
    # Unconstrained writes / infrastructure modification: only the VPC-mode ENI actions
    # (see STAR_STATEMENTS for why they are on "*").
    eni_writes = sorted(
        STAR_STATEMENTS["VpcNetworkInterfaces"]
        - {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
    )
    expected = eni_writes if "vpc" in label else []
    assert document.write_actions_without_constraints == expected
    assert document.infrastructure_modification == expected


def test_eso_read_policy_has_no_cloudsplaining_findings():
    document = PolicyDocument(eso_read_policy(kms=True))
    assert document.allows_privilege_escalation == []
    assert document.permissions_management_without_constraints == []
    assert document.allows_data_exfiltration_actions == []
    assert document.credentials_exposure == []
    assert document.write_actions_without_constraints == []


# ---- 3. resource scoping, asserted on the HCL ------------------------------------------------


@pytest.mark.parametrize("label", sorted(POLICIES))
def test_star_only_where_the_api_requires_it(label):
    for sid, statement in statements(POLICIES[label]).items():
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"], sid
            assert set(statement["Action"]) <= STAR_STATEMENTS.get(sid, set()), sid
        for resource in statement["Resource"]:
            assert resource == "*" or ACCOUNT_ID in resource or resource.startswith("arn:aws:s3:::")


@pytest.mark.parametrize("label", sorted(POLICIES))
def test_each_service_acts_on_its_own_resource(label):
    for sid, statement in statements(POLICIES[label]).items():
        services = {action.split(":")[0] for action in statement["Action"]}
        assert len(services) == 1, f"{sid} mixes services: {services}"
        service = services.pop()
        resources = statement["Resource"]
        if service == "secretsmanager":
            assert resources == [SECRET_ARN], sid
        elif service == "kms":
            assert resources == [KMS_KEY_ARN], sid
        elif service == "logs":
            assert resources == [f"{LOG_GROUP_ARN}:*"], sid
        elif service == "ecr" and sid != "EcrAuthorizationToken":
            assert resources == [f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/*"], sid


def test_schedule_mode_grants_exactly_what_a_refresh_calls():
    # The function's own calls in schedule mode: GetSecretValue, PutSecretValue and
    # GetAuthorizationToken. DescribeSecret (listed for every mode in issue 3) is not called by
    # a scheduled refresh, so it is granted in rotation mode only: least privilege wins.
    policy = function_policy("schedule")
    assert actions(policy) == {
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",  # the compare-and-swap on AWSCURRENT
        "ecr:GetAuthorizationToken",
        # used with the function's credentials by others (asserted here, not run under moto):
        "ecr:BatchCheckLayerAvailability",  # the kubelet pulling with the token
        "ecr:BatchGetImage",  # the probe's manifest HEAD and the kubelet
        "ecr:GetDownloadUrlForLayer",  # the kubelet downloading layers
        "logs:CreateLogStream",  # the Lambda runtime
        "logs:PutLogEvents",  # the Lambda runtime
    }


def test_rotation_mode_adds_only_the_rotation_calls():
    added = actions(function_policy("rotation")) - actions(function_policy("schedule"))
    assert added == {"secretsmanager:DescribeSecret"}
    for feature in ({"kms": True}, {"tracing": True}, {"vpc": True}):
        schedule = actions(function_policy("schedule", **feature))
        assert "secretsmanager:DescribeSecret" not in schedule


def test_kms_only_on_the_key_and_only_through_secrets_manager():
    assert not any(a.startswith("kms:") for a in actions(function_policy("schedule")))
    statement = statements(function_policy("schedule", kms=True))["SecretKmsKey"]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Resource"] == [KMS_KEY_ARN]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"secretsmanager.{REGION}.amazonaws.com"]}
    }


def test_kms_via_service_follows_an_existing_secrets_region():
    other_region_secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:pull-AbCdEf"
    policy = policy_document(
        "function",
        {
            "create_secret": False,
            "secret_arn": other_region_secret,
            "secret_kms_key_arn": KMS_KEY_ARN.replace(REGION, "us-east-1"),
        },
    )
    assert policy is not None
    statement = statements(policy)["SecretKmsKey"]
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == [
        "secretsmanager.us-east-1.amazonaws.com"
    ]
    assert statements(policy)["SecretReadWrite"]["Resource"] == [other_region_secret]


def test_optional_features_bring_their_own_permissions_only_when_on():
    base = actions(function_policy("schedule"))
    assert actions(function_policy("schedule", tracing=True)) - base == {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    assert (
        actions(function_policy("schedule", vpc=True)) - base
        == STAR_STATEMENTS["VpcNetworkInterfaces"]
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("sqs", {"sqs:SendMessage"}),
        ("sns", {"sns:Publish"}),
        ("lambda", {"lambda:InvokeFunction"}),
        ("events", {"events:PutEvents"}),
        ("s3", {"s3:ListBucket", "s3:PutObject"}),
    ],
)
def test_on_failure_destination_permission_matches_its_type_and_arn(kind, expected):
    arn = DESTINATION_ARNS[kind]
    policy = function_policy("schedule", destination=arn)
    added = [s for s in policy["Statement"] if s["Sid"].startswith("OnFailureDestination")]
    assert {action for s in added for action in s["Action"]} == expected
    for statement in added:
        assert statement["Resource"] in ([arn], [f"{arn}/*"])
    if kind == "s3":
        by_sid = statements(policy)
        assert by_sid["OnFailureDestinationBucket"]["Resource"] == [arn]
        assert by_sid["OnFailureDestinationObjects"]["Resource"] == [f"{arn}/*"]


def test_no_destination_permission_in_rotation_mode():
    # Rotation invocations are not asynchronous; a destination there is refused by a
    # precondition, and the policy grants nothing for it either.
    policy = function_policy("rotation", destination=DESTINATION_ARNS["sqs"])
    assert not any(s["Sid"].startswith("OnFailureDestination") for s in policy["Statement"])


def test_ecr_pull_is_scoped_to_the_covered_registries():
    policy = policy_document(
        "function",
        {"ecr_regions": ["eu-central-1", "us-east-1"], "ecr_registry_ids": ["210987654321"]},
    )
    assert policy is not None
    assert statements(policy)["EcrPull"]["Resource"] == [
        "arn:aws:ecr:eu-central-1:210987654321:repository/*",
        "arn:aws:ecr:us-east-1:210987654321:repository/*",
    ]
    repositories = [f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/team/app"]
    policy = policy_document("function", {"ecr_repository_arns": repositories})
    assert policy is not None
    assert statements(policy)["EcrPull"]["Resource"] == repositories


def test_the_role_is_assumable_by_lambda_only():
    trust = policy_document("assume_role")
    assert trust is not None
    assert trust["Statement"] == [
        {
            "Sid": "LambdaAssumeRole",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Principal": {"Service": ["lambda.amazonaws.com"]},
        }
    ]


def test_eso_read_policy_reads_the_secret_and_its_replicas_only():
    replica_key = KMS_KEY_ARN.replace(REGION, "eu-west-1")
    policy = eso_read_policy(
        kms=True, replicas=[{"region": "eu-west-1", "kms_key_arn": replica_key}]
    )
    by_sid = statements(policy)
    assert by_sid["ReadSecret"]["Action"] == [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
    ]
    assert by_sid["ReadSecret"]["Resource"] == [SECRET_ARN, SECRET_ARN.replace(REGION, "eu-west-1")]
    assert by_sid["DecryptSecret"]["Action"] == ["kms:Decrypt"]
    assert by_sid["DecryptSecret"]["Resource"] == [KMS_KEY_ARN, replica_key]
    assert by_sid["DecryptSecret"]["Condition"]["StringEquals"]["kms:ViaService"] == [
        f"secretsmanager.{REGION}.amazonaws.com",
        "secretsmanager.eu-west-1.amazonaws.com",
    ]
    assert "DecryptSecret" not in statements(eso_read_policy())


def test_eso_trust_policies():
    oidc = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/ABC123"
    irsa = policy_document(
        "eso_assume_role", {"create_eso_role": True, "eso_oidc_provider_arn": oidc}
    )
    assert irsa is not None
    (statement,) = irsa["Statement"]
    issuer = f"oidc.eks.{REGION}.amazonaws.com/id/ABC123"
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"] == {"Federated": [oidc]}
    assert statement["Condition"]["StringEquals"] == {
        f"{issuer}:sub": ["system:serviceaccount:external-secrets:external-secrets"],
        f"{issuer}:aud": ["sts.amazonaws.com"],
    }

    pod_identity = policy_document(
        "eso_assume_role",
        {"create_eso_role": True, "eso_pod_identity_cluster_name": "prod", "eso_namespace": "eso"},
    )
    assert pod_identity is not None
    (statement,) = pod_identity["Statement"]
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Principal"] == {"Service": ["pods.eks.amazonaws.com"]}
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": [ACCOUNT_ID],
        "aws:RequestTag/kubernetes-namespace": ["eso"],
        "aws:RequestTag/kubernetes-service-account": ["external-secrets"],
        "aws:RequestTag/eks-cluster-name": ["prod"],
    }


def test_cross_account_secret_policy_names_only_the_readers():
    reader = "arn:aws:iam::210987654321:role/external-secrets"
    policy = policy_document(
        "secret_policy",
        {"secret_reader_principal_arns": [reader], "secret_kms_key_arn": KMS_KEY_ARN},
    )
    assert policy is not None
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": [reader]}
    assert statement["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert statement["Resource"] == [SECRET_ARN]
    assert policy_document("secret_policy") is None


def test_every_policy_document_of_the_module_is_covered():
    documents = {
        name for kind, name in module().labelled("data") if kind == "aws_iam_policy_document"
    }
    assert documents == {"assume_role", "function", "eso_read", "eso_assume_role", "secret_policy"}

"""The IAM policy documents the module writes, read out of its HCL and resolved per mode/feature.

Every `data "aws_iam_policy_document"` block is evaluated the way Terraform would for a given
set of inputs: `statement` blocks, `dynamic "statement"` blocks expanded over their `for_each`,
nested `condition` / `principals` blocks (and their dynamic forms), with locals and variables
evaluated by `hcl_eval`. Resource attributes and data sources that only exist after apply are
replaced by the placeholder values below, so the result is a plain IAM JSON policy (a dict).

Main entry points:

    function_policy(mode="schedule", kms=False, tracing=False, vpc=False, destination=None)
        the Lambda function's role policy (`data.aws_iam_policy_document.function`);
        `destination` is an on-failure destination ARN (see DESTINATION_ARNS) or None;
        keyword overrides: secret_arn=..., region=..., account_id=... (e.g. a moto secret's ARN)
    eso_read_policy(kms=False, replicas=())       the policy behind output eso_read_policy_json
    policy_document(name, variables)              any policy document, for any module inputs

Each returns {"Version": "2012-10-17", "Statement": [{"Sid", "Effect", "Action", "Resource",
"Condition"?, "Principal"?}, ...]} with lists for Action and Resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.terraform.hcl_eval import Module, Unsupported, decode, evaluate

MODULE_DIR = Path(__file__).resolve().parents[2]

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
FUNCTION_NAME = "ecr-token-rotator"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:ecr-token-rotator-AbCdEf"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LOG_GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{FUNCTION_NAME}"
VPC_CONFIG = {"subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234"]}
DESTINATION_ARNS = {
    "sqs": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:ecr-token-rotator-failures",
    "sns": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ecr-token-rotator-failures",
    "lambda": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ecr-token-rotator-failures",
    "events": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/ecr-token-rotator-failures",
    "s3": "arn:aws:s3:::ecr-token-rotator-failures",
}

_module: Module | None = None


def module() -> Module:
    """The module at the repository root, parsed once."""
    global _module  # noqa: PLW0603 - parse the HCL once per test session
    if _module is None:
        _module = Module(MODULE_DIR)
    return _module


def references(
    *,
    secret_arn: str = SECRET_ARN,
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
    provider_major: int = 6,
) -> dict[str, Any]:
    """Placeholders for what only exists at plan/apply time: data sources and the resource
    attributes the policies name. provider_major picks the shape of data.aws_region (6: region
    and deprecated name; 5: name only)."""
    aws_region = {"region": region, "name": region} if provider_major >= 6 else {"name": region}
    secret_name = secret_arn.split(":secret:", 1)[1][:-7]
    return {
        "data": {
            "aws_partition": {"current": {"partition": PARTITION, "dns_suffix": DNS_SUFFIX}},
            "aws_caller_identity": {"current": {"account_id": account_id}},
            "aws_region": {"current": aws_region},
        },
        "aws_secretsmanager_secret": {"this": [{"arn": secret_arn, "name": secret_name}]},
        "aws_cloudwatch_log_group": {
            "this": [
                {
                    "arn": f"arn:aws:logs:{region}:{account_id}:log-group:"
                    f"/aws/lambda/{FUNCTION_NAME}",
                    "name": f"/aws/lambda/{FUNCTION_NAME}",
                }
            ]
        },
    }


def _blocks(body: Mapping[str, Any], name: str, scope: Mapping[str, Any]) -> list[dict]:
    """Static `name` blocks and expanded `dynamic "name"` blocks, each as (body, scope)."""
    expanded: list[tuple[dict, Mapping[str, Any]]] = [
        (block, scope) for block in body.get(name, [])
    ]
    for dynamic in body.get("dynamic", []):
        for label, spec in dynamic.items():
            if label.strip('"') != name:
                continue
            if "iterator" in spec:
                raise Unsupported("dynamic block iterator argument")
            collection = evaluate(decode(spec["for_each"]), scope)
            items = (
                sorted(collection.items())
                if isinstance(collection, Mapping)
                else enumerate(collection)
            )
            for key, value in items:
                inner = {**scope, name: {"key": key, "value": value}}
                expanded.extend((content, inner) for content in spec["content"])
    return expanded  # type: ignore[return-value]


def _value(raw: Any, scope: Mapping[str, Any]) -> Any:
    return evaluate(decode(raw), scope)


def _statement(block: Mapping[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    for unsupported in ("not_actions", "not_resources", "not_principals"):
        if unsupported in block:
            raise Unsupported(f"{unsupported} in a policy statement")
    statement: dict[str, Any] = {}
    if "sid" in block:
        statement["Sid"] = _value(block["sid"], scope)
    statement["Effect"] = _value(block["effect"], scope) if "effect" in block else "Allow"
    statement["Action"] = list(_value(block["actions"], scope))
    if "resources" in block:
        statement["Resource"] = list(_value(block["resources"], scope))
    principals: dict[str, list[str]] = {}
    for principal, inner in _blocks(block, "principals", scope):
        kind = _value(principal["type"], inner)
        principals.setdefault(kind, []).extend(_value(principal["identifiers"], inner))
    if principals:
        statement["Principal"] = principals
    conditions: dict[str, dict[str, list[Any]]] = {}
    for condition, inner in _blocks(block, "condition", scope):
        test = _value(condition["test"], inner)
        variable = _value(condition["variable"], inner)
        conditions.setdefault(test, {})[variable] = list(_value(condition["values"], inner))
    if conditions:
        statement["Condition"] = conditions
    return statement


def policy_document(
    name: str,
    variables: Mapping[str, Any] | None = None,
    refs: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Evaluate `data "aws_iam_policy_document" "<name>"` for these module inputs; None when
    its count makes it absent."""
    mod = module()
    body = mod.labelled("data")[("aws_iam_policy_document", name)]
    scope = mod.scope(variables, references() if refs is None else refs)
    if "count" in body and _value(body["count"], scope) == 0:
        return None
    for unsupported in ("source_policy_documents", "override_policy_documents", "policy_id"):
        if unsupported in body:
            raise Unsupported(f"{unsupported} in policy document {name}")
    statements = [_statement(block, inner) for block, inner in _blocks(body, "statement", scope)]
    return {"Version": "2012-10-17", "Statement": statements}


def function_inputs(
    mode: str = "schedule",
    kms: bool = False,
    tracing: bool = False,
    vpc: bool = False,
    destination: str | None = None,
) -> dict[str, Any]:
    """The module inputs that turn on each mode/feature of the function policy."""
    variables: dict[str, Any] = {"trigger_mode": mode, "name": FUNCTION_NAME}
    if kms:
        variables["secret_kms_key_arn"] = KMS_KEY_ARN
    if tracing:
        variables["enable_xray_tracing"] = True
    if vpc:
        variables["vpc_config"] = VPC_CONFIG
    if destination is not None:
        variables["on_failure_destination_arn"] = destination
    return variables


def function_policy(
    mode: str = "schedule",
    kms: bool = False,
    tracing: bool = False,
    vpc: bool = False,
    destination: str | None = None,
    *,
    secret_arn: str = SECRET_ARN,
    region: str = REGION,
    account_id: str = ACCOUNT_ID,
) -> dict[str, Any]:
    """The function role's policy for one mode ("schedule" or "rotation") and feature set."""
    policy = policy_document(
        "function",
        function_inputs(mode, kms, tracing, vpc, destination),
        references(secret_arn=secret_arn, region=region, account_id=account_id),
    )
    assert policy is not None
    return policy


def eso_read_policy(
    kms: bool = False, replicas: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The policy of output eso_read_policy_json (replicas: secret_replicas entries)."""
    variables: dict[str, Any] = {"secret_replicas": list(replicas)}
    if kms:
        variables["secret_kms_key_arn"] = KMS_KEY_ARN
    policy = policy_document("eso_read", variables)
    assert policy is not None
    return policy


def all_function_policies() -> dict[str, dict[str, Any]]:
    """The function policy for every mode and feature, by a readable label."""
    cases: dict[str, dict[str, Any]] = {}
    for mode in ("schedule", "rotation"):
        cases[f"{mode}"] = function_policy(mode)
        cases[f"{mode}+kms+tracing+vpc"] = function_policy(mode, kms=True, tracing=True, vpc=True)
    for kind, arn in DESTINATION_ARNS.items():
        cases[f"schedule+destination-{kind}"] = function_policy("schedule", destination=arn)
    return cases

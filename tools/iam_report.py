"""`make scan-iam`: cloudsplaining and parliament on every IAM policy the module writes.

The policies are the JSON Terraform renders (tools/terraform/policies.py: one offline plan of a
root module calling the module once per combination) for every combination the module can
produce: the function role's policy for both trigger modes, with and without a customer-managed
KMS key, X-Ray tracing and VPC mode, (schedule mode) each kind of on-failure destination, with ECR
Public, and with pull-through cache prefixes and tag listing (what consumers do with the token);
the ESO read policy (output eso_read_policy_json) without and with KMS keys and replicas; and what
the identity running `terraform apply` needs beyond managing the resources (output
apply_identity_policy_json) in both modes, with a created secret and replicas under
customer-managed keys, with VPC mode and a Pod Identity association, and with the rule engine; and
the policy of the role EventBridge Scheduler assumes, without and with a dead-letter queue.
Each statement comes with its reason: the comment above it in the module's HCL (who uses it, and
why), and a statement without one fails the run. Each policy is scanned:

- cloudsplaining, default mode: risky actions *without* resource constraints (what
  tests/terraform/iam.tftest.hcl asserts for each feature);
- cloudsplaining with --flag-all-risky-actions (`strict`): risky actions even where the policy
  scopes them to one resource or conditions them;
- parliament: malformed statements, unknown actions, resources of the wrong type.

No cloudsplaining exclusions are used. Every finding must be listed in ACCEPTED with the reason
the design needs it and the combinations it may appear in; anything else fails the run, and so
does an accepted finding that no longer occurs anywhere (its reason would be stale). A finding
accepted in strict mode only fails when it shows up in default mode: that would mean the action
lost its resource constraint.

Output: two tables on stdout (each statement with its reason; each accepted finding with its
reason) and tools/results/iam.json (every policy with the reasons of its statements and its
findings).
Where terraform or the offline provider is absent, it says so and exits 0 (skipped).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cloudsplaining.command.scan_policy_file import scan_policy
from parliament import analyze_policy_string

from tools.terraform.harness import Unavailable
from tools.terraform.policies import Combination, combinations, policy_of, render

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "iam.json"
# The module's files with policy documents: each statement has its reason in a comment above it.
POLICY_SOURCES = ("iam.tf", "eso.tf", "trigger.tf", "apply_identity.tf")
CHECKS = (
    "PrivilegeEscalation",
    "ResourceExposure",
    "DataExfiltration",
    "CredentialsExposure",
    "ServiceWildcard",
    "InfrastructureModification",
)


@dataclass(frozen=True)
class Finding:
    tool: str  # "cloudsplaining", "cloudsplaining-strict" or "parliament"
    check: str  # cloudsplaining risk category or parliament issue
    detail: str  # the action (or parliament's detail)


def _function(combination: Combination) -> bool:
    return combination.policy == "function"


def _with(**features: object) -> Callable[[Combination], bool]:
    return lambda c: _function(c) and all(getattr(c, k) == v for k, v in features.items())


def _scheduler(**features: object) -> Callable[[Combination], bool]:
    return lambda c: (
        c.policy == "scheduler" and all(getattr(c, k) == v for k, v in features.items())
    )


def _apply_identity(**features: object) -> Callable[[Combination], bool]:
    return lambda c: (
        c.policy == "apply_identity" and all(getattr(c, k) == v for k, v in features.items())
    )


@dataclass(frozen=True)
class Accepted:
    check: str
    details: tuple[str, ...]
    reason: str
    where: Callable[[Combination], bool] = field(repr=False)
    strict_only: bool = False  # resource-scoped: a default-mode finding would be a regression
    tool: str = "cloudsplaining"


ENI_WRITES = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:UnassignPrivateIpAddresses",
)
DESTINATION_ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "lambda": "lambda:InvokeFunction",
    "events": "events:PutEvents",
    "s3": "s3:PutObject",
}

ACCEPTED: tuple[Accepted, ...] = (
    Accepted(
        "CredentialsExposure",
        ("ecr:GetAuthorizationToken",),
        "Fetching ECR tokens is the function's job; the action has no resource-level "
        'permissions, so it can only be granted on "*". The token carries exactly the role\'s '
        "ECR pull permissions (scoped to the covered repositories).",
        _function,
    ),
    Accepted(
        "CredentialsExposure",
        ("ecr-public:GetAuthorizationToken",),
        "ecr_public only: the same job for ECR Public, whose token action has no resource-level "
        'permissions either ("*"); authenticated pulls of public images get higher quotas.',
        _with(ecr_public=True),
    ),
    Accepted(
        "InfrastructureModification",
        ENI_WRITES,
        "VPC mode only: the Lambda service creates and removes the function's network "
        "interfaces with its role (the actions of AWSLambdaVPCAccessExecutionRole); the "
        'interfaces do not exist when the role is written, so the resource is "*".',
        _with(vpc=True),
    ),
    Accepted(
        "RESOURCE_STAR",
        (",".join(ENI_WRITES),),
        "parliament's view of the same VPC-mode statement (see the ENI entry above).",
        _with(vpc=True),
        tool="parliament",
    ),
    Accepted(
        "DataExfiltration",
        ("secretsmanager:GetSecretValue",),
        "Strict mode: reading the one secret is what the function (read-modify-write) and ESO "
        "(the read policy) exist for; the resource is that secret's ARN only.",
        lambda c: True,
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("secretsmanager:PutSecretValue",),
        "Strict mode: the function writes the new credential as a new version of its own secret "
        "(resource: that secret's ARN).",
        _function,
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("secretsmanager:UpdateSecretVersionStage",),
        "Strict mode: the function moves AWSCURRENT of its own secret to the version it wrote "
        "(the compare-and-swap that never reverts another writer's version; rotation's "
        "finishSecret the same way); resource: that secret's ARN.",
        _function,
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        "Strict mode: the Lambda runtime writes the function's logs to its own log group "
        "(resource: that log group's streams).",
        _function,
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        "Strict mode, customer-managed key only: Secrets Manager decrypts/encrypts the secret "
        "with the function's credentials; resource: that key, condition: kms:ViaService "
        "secretsmanager in the secret's region. (ESO's read policy: kms:Decrypt on the keys "
        "of the secret and its replicas.)",
        lambda c: c.kms,
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("kms:Encrypt", "kms:GenerateDataKey"),
        "Strict mode, replicas under customer-managed keys only: Secrets Manager re-encrypts each "
        "new version the function writes with each replica's key, with the function's "
        "credentials; resource: those keys, condition: kms:ViaService secretsmanager.",
        _with(replica=True),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository"),
        "Strict mode, ecr_pull_through_cache_prefixes only: the kubelet's first pull of an image "
        "under a cache rule's prefix makes ECR import it from the upstream registry with the "
        "token's permissions, into a repository it creates at that pull (AWS: pull-through cache "
        "IAM permissions); resource: repository/<prefix>/* of the covered registries only.",
        _with(consumers=True),
        strict_only=True,
    ),
    Accepted(
        "RESOURCE_MISMATCH",
        (str({"action": "ecr:BatchImportUpstreamImage", "required_format": "*"}),),
        "ecr_pull_through_cache_prefixes only: parliament's bundled IAM definitions predate "
        "resource-level permissions for this permission-only action; AWS's Service Authorization "
        "Reference lists repository* as its resource type, and the module scopes it to the "
        "cache's repositories.",
        _with(consumers=True),
        tool="parliament",
    ),
    Accepted(
        "ResourceExposure",
        ("iam:PassRole",),
        "Strict mode, the apply identity: the same PassRole (below) seen as exposure; resource: "
        "the module's own roles only (the function's passed to lambda.amazonaws.com only, the "
        "Scheduler role to scheduler.amazonaws.com only).",
        _apply_identity(),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("iam:PassRole",),
        "Strict mode, the apply identity: Lambda's CreateFunction and UpdateFunctionConfiguration "
        "pass the function's role (condition: to lambda.amazonaws.com), CreateSchedule and "
        "UpdateSchedule the Scheduler role (condition: to scheduler.amazonaws.com), and the Pod "
        "Identity association the ESO role; resource: those roles only.",
        _apply_identity(),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("lambda:InvokeFunction",),
        "Strict mode, the apply identity: the apply-time invocation and RotateSecret (rotation "
        "mode) invoke the function; resource: that function only.",
        _apply_identity(),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("kms:Encrypt", "kms:GenerateDataKey"),
        "Strict mode, the apply identity with replicas under customer-managed keys: replication "
        "encrypts each replica with its key, with the caller's credentials; resource: those keys, "
        "condition: kms:ViaService secretsmanager in the replica regions.",
        _apply_identity(replica=True),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("lambda:InvokeFunction",),
        "Strict mode, the role EventBridge Scheduler assumes: invoking the function on its "
        "schedule is what the role is for; resource: that function only (the role's trust: "
        "scheduler.amazonaws.com for the module's schedule group in this account).",
        _scheduler(),
        strict_only=True,
    ),
    Accepted(
        "InfrastructureModification",
        ("sqs:SendMessage",),
        "Strict mode, the Scheduler role with schedule_dead_letter_arn: Scheduler sends an "
        "invocation it could not deliver to the dead-letter queue with the schedule's role; "
        "resource: that queue only.",
        _scheduler(dead_letter=True),
        strict_only=True,
    ),
    *(
        Accepted(
            "InfrastructureModification",
            (action,),
            f"Strict mode, schedule mode with an on-failure destination of type {kind}: the "
            "Lambda service delivers the failed invocation's record with the function's role; "
            "resource: that destination only.",
            _with(destination=kind),
            strict_only=True,
        )
        for kind, action in DESTINATION_ACTIONS.items()
    ),
)


def statement_reasons(directory: Path = REPO) -> dict[str, str]:
    """{Sid: the comment right above its statement block} in the module's policy documents."""
    reasons: dict[str, str] = {}
    for name in POLICY_SOURCES:
        lines = (directory / name).read_text(encoding="utf-8").splitlines()
        comment = ""
        for number, line in enumerate(lines):
            if line.strip() in ("statement {", 'dynamic "statement" {'):
                above = []
                for previous in reversed(lines[:number]):
                    if not previous.strip().startswith("#"):
                        break
                    above.insert(0, previous.strip().removeprefix("#").strip())
                comment = " ".join(above)
            sid = re.fullmatch(r'\s*sid\s*=\s*"([^"]+)"', line)
            if sid:
                reasons[sid.group(1)] = comment
    return reasons


def scan(policy: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for tool, strict in (("cloudsplaining", False), ("cloudsplaining-strict", True)):
        results = scan_policy(
            policy, {}, flag_conditional_statements=strict, flag_resource_arn_statements=strict
        )
        findings += [
            Finding(tool, check, item if isinstance(item, str) else json.dumps(item))
            for check in CHECKS
            for item in results[check]["findings"]
        ]
    findings += [
        Finding("parliament", f.issue, ",".join(sorted(map(str, f.detail))) or f.title)
        for f in analyze_policy_string(json.dumps(policy)).findings
    ]
    return findings


def accepting(finding: Finding, combination: Combination) -> Accepted | None:
    for entry in ACCEPTED:
        if entry.check != finding.check or finding.detail not in entry.details:
            continue
        tool_matches = (
            finding.tool == "parliament"
            if entry.tool == "parliament"
            else finding.tool == "cloudsplaining-strict"
            if entry.strict_only
            else finding.tool.startswith("cloudsplaining")
        )
        if tool_matches and entry.where(combination):
            return entry
    return None


@dataclass
class Report:
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    unexpected: list[tuple[str, Finding]] = field(default_factory=list)
    used: dict[int, set[str]] = field(default_factory=dict)  # ACCEPTED index -> labels
    statements: dict[str, set[str]] = field(default_factory=dict)  # Sid -> labels
    unexplained: list[tuple[str, str]] = field(default_factory=list)  # (label, Sid) without reason

    def stale(self) -> list[Accepted]:
        return [entry for index, entry in enumerate(ACCEPTED) if index not in self.used]


def run(policies: dict[Combination, dict[str, Any]]) -> Report:
    report = Report()
    reasons = statement_reasons()
    for combination, policy in policies.items():
        sids = [str(statement.get("Sid", "")) for statement in policy["Statement"]]
        for sid in sids:
            report.statements.setdefault(sid, set()).add(combination.label)
            if not reasons.get(sid):
                report.unexplained.append((combination.label, sid))
        findings = scan(policy)
        for finding in findings:
            entry = accepting(finding, combination)
            if entry is None:
                report.unexpected.append((combination.label, finding))
            else:
                report.used.setdefault(ACCEPTED.index(entry), set()).add(combination.label)
        report.policies[combination.label] = {
            "policy": policy,
            "reasons": {sid: reasons.get(sid, "") for sid in sids},
            "findings": [vars(finding) for finding in findings],
        }
    return report


def statements_table(report: Report) -> str:
    reasons = statement_reasons()
    lines = ["| statement | policies | why |", "|---|---|---|"]
    for sid, labels in report.statements.items():
        lines.append(f"| {sid or '(no Sid)'} | {len(labels)} | {reasons.get(sid) or '?'} |")
    return "\n".join(lines)


def table(report: Report) -> str:
    lines = [
        "| tool | check | actions | policies | accepted because |",
        "|---|---|---|---|---|",
    ]
    for index, entry in enumerate(ACCEPTED):
        tool = entry.tool + ("-strict" if entry.strict_only else "")
        count = len(report.used.get(index, ()))
        actions = ", ".join(entry.details).replace(",ec2:", ", ec2:")
        lines.append(f"| {tool} | {entry.check} | {actions} | {count} | {entry.reason} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    selection = tuple(combinations())
    try:
        rendered = render(selection)
    except Unavailable as e:
        print(f"IAM report skipped: {e}")
        return 0
    policies = {combination: policy_of(combination, rendered) for combination in selection}
    report = run(policies)
    versions = {name: metadata.version(name) for name in ("cloudsplaining", "parliament")}
    count = {
        kind: sum(1 for c in policies if c.policy == kind)
        for kind in ("function", "eso_read", "scheduler", "apply_identity")
    }
    print(
        f"IAM policies scanned: {count['function']} function-role policies (2 trigger modes x KMS "
        "x X-Ray x VPC, x 6 on-failure destinations in schedule mode, + replicas under KMS keys, "
        "+ ECR Public, + pull-through cache and tag listing), "
        f"{count['eso_read']} ESO read policies, "
        f"{count['scheduler']} Scheduler-role policies (without and with a dead-letter queue) and "
        f"{count['apply_identity']} apply-identity policies; "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + " (cloudsplaining in default and --flag-all-risky-actions mode, no exclusions)\n"
    )
    print(statements_table(report) + "\n")
    print(table(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "tools": versions,
                "policies": report.policies,
                "accepted": [
                    {**vars(entry), "where": None, "policies": sorted(report.used.get(i, ()))}
                    for i, entry in enumerate(ACCEPTED)
                ],
                "unexpected": [
                    {"policy": label, **vars(finding)} for label, finding in report.unexpected
                ],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nfull report: {args.output.relative_to(REPO)}")
    failed = False
    for label, finding in report.unexpected:
        failed = True
        print(f"UNEXPECTED {finding.tool} {finding.check}: {finding.detail} in {label}")
    for entry in report.stale():
        failed = True
        print(f"STALE: accepted {entry.check} {entry.details} no longer occurs; remove it")
    for label, sid in report.unexplained:
        failed = True
        print(f"UNEXPLAINED statement {sid or '(no Sid)'} in {label}: comment it in the HCL")
    if failed:
        return 1
    print(f"no unexpected findings in {len(policies)} policies")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The IAM report (`make scan-iam`, tools/iam_report.py) fails on what it must fail on.

The report itself runs in CI over every policy the module writes; these tests prove its
acceptance table is not a blanket pass: a finding outside the documented reasons, an accepted
action in the wrong combination, or a scoped action that loses its resource constraint each come
out unexpected, and an acceptance that no longer occurs is reported stale. The policies are the
ones Terraform renders (offline; skipped where terraform or ../shared is absent).
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tools.iam_report import ACCEPTED, run, statement_reasons
from tools.terraform.harness import Unavailable
from tools.terraform.hcl import MODULE_DIR
from tools.terraform.policies import Combination, render
from tools.terraform.policies import policy_of as rendered_policy_of

SCHEDULE = Combination("function", "schedule")
VPC = Combination("function", "schedule", vpc=True)
CONSUMERS = Combination("function", "schedule", consumers=True)


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    try:
        return render((SCHEDULE, VPC, CONSUMERS))
    except Unavailable as e:
        pytest.skip(f"Terraform-rendered policies: {e}")


@pytest.fixture
def policy_of(rendered):
    return lambda combination: rendered_policy_of(combination, rendered)


def with_statement(policy: dict[str, Any], actions: list[str], resource: str) -> dict[str, Any]:
    changed = copy.deepcopy(policy)
    changed["Statement"].append(
        {"Sid": "Added", "Effect": "Allow", "Action": actions, "Resource": [resource]}
    )
    return changed


def unexpected(combination: Combination, policy: dict[str, Any]) -> set[tuple[str, str, str]]:
    report = run({combination: policy})
    return {(f.tool, f.check, f.detail) for _, f in report.unexpected}


@pytest.mark.parametrize(
    ("actions", "resource", "expected"),
    [
        (["iam:CreateAccessKey"], "*", ("cloudsplaining", "PrivilegeEscalation")),
        (["s3:GetObject"], "*", ("cloudsplaining", "DataExfiltration")),
        (["secretsmanager:PutResourcePolicy"], "*", ("cloudsplaining", "ResourceExposure")),
        (["ecr:*"], "*", ("cloudsplaining", "ServiceWildcard")),
        # accepted scoped to the secret (strict mode), a finding once it is on "*"
        (["secretsmanager:PutSecretValue"], "*", ("cloudsplaining", "InfrastructureModification")),
        (["ecr:BatchGetImage"], "arn:aws:secretsmanager:eu-central-1:123456789012:secret:x", None),
    ],
)
def test_a_risky_addition_is_unexpected(policy_of, actions, resource, expected) -> None:
    found = unexpected(SCHEDULE, with_statement(policy_of(SCHEDULE), actions, resource))
    assert found
    if expected is not None:
        assert any((tool, check) == expected for tool, check, _ in found), found
    else:  # parliament: the action does not apply to that resource type
        assert {tool for tool, _, _ in found} == {"parliament"}


def test_accepted_actions_are_accepted_only_where_the_design_needs_them(policy_of) -> None:
    vpc_statement = next(
        s for s in policy_of(VPC)["Statement"] if s["Sid"] == "VpcNetworkInterfaces"
    )
    policy = policy_of(SCHEDULE)
    policy["Statement"].append(vpc_statement)
    found = unexpected(SCHEDULE, policy)  # ENI actions without VPC mode
    assert ("cloudsplaining", "InfrastructureModification", "ec2:CreateNetworkInterface") in found


def test_an_acceptance_that_no_longer_occurs_is_stale(policy_of) -> None:
    report = run({SCHEDULE: policy_of(SCHEDULE)})
    assert report.unexpected == []
    stale = {detail for entry in report.stale() for detail in entry.details}
    assert "ec2:CreateNetworkInterface" in stale  # no VPC-mode policy was scanned
    assert "ecr:GetAuthorizationToken" not in stale


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return found


def test_the_consumers_statements_are_accepted_with_their_reasons(policy_of) -> None:
    policy = policy_of(CONSUMERS)
    report = run({CONSUMERS: policy})
    assert report.unexpected == []
    assert report.unexplained == []
    reasons = report.policies[CONSUMERS.label]["reasons"]
    assert "BatchImportUpstreamImage" in reasons["EcrPullThroughCache"]
    assert "Flux semver" in reasons["EcrListTags"]
    accepted = {detail for index in report.used for detail in ACCEPTED[index].details}
    assert {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository"} <= accepted


def test_the_pull_through_cache_grants_are_accepted_only_with_its_prefixes(policy_of) -> None:
    policy = policy_of(SCHEDULE)
    policy["Statement"].append(statement(policy_of(CONSUMERS), "EcrPullThroughCache"))
    found = unexpected(SCHEDULE, policy)
    assert ("cloudsplaining-strict", "InfrastructureModification", "ecr:CreateRepository") in found
    assert any(tool == "parliament" and "BatchImportUpstreamImage" in d for tool, _, d in found)


def test_the_pull_through_cache_grants_on_every_repository_are_unexpected(policy_of) -> None:
    # the same actions without the prefix scoping: a default-mode finding, never accepted
    policy = policy_of(CONSUMERS)
    statement(policy, "EcrPullThroughCache")["Resource"] = "*"
    found = unexpected(CONSUMERS, policy)
    assert ("cloudsplaining", "InfrastructureModification", "ecr:CreateRepository") in found


def test_every_statement_has_its_reason_and_an_unexplained_one_fails(policy_of) -> None:
    report = run({SCHEDULE: policy_of(SCHEDULE), CONSUMERS: policy_of(CONSUMERS)})
    assert report.unexplained == []
    assert set(report.statements) == {
        "SecretReadWrite",
        "EcrAuthorizationToken",
        "EcrPull",
        "EcrPullThroughCache",
        "EcrListTags",
        "Logs",
    }
    added = with_statement(policy_of(SCHEDULE), ["ecr:ListImages"], "*")
    assert run({SCHEDULE: added}).unexplained == [(SCHEDULE.label, "Added")]


def test_reasons_are_the_comments_above_the_statements(tmp_path) -> None:
    (tmp_path / "iam.tf").write_text(
        'data "aws_iam_policy_document" "x" {\n'
        "  # Who uses it,\n"
        "  # and why.\n"
        '  dynamic "statement" {\n'
        "    content {\n"
        '      sid = "First"\n'
        "    }\n"
        "  }\n"
        "\n"
        "  statement {\n"
        '    sid = "Uncommented"\n'
        "  }\n"
        "}\n"
    )
    for name in ("eso.tf", "trigger.tf", "apply_identity.tf"):
        (tmp_path / name).write_text("")
    assert statement_reasons(tmp_path) == {"First": "Who uses it, and why.", "Uncommented": ""}


def permissions_table() -> dict[str, str]:
    """The security model's table of the function role's statements: {Sid: its row}."""
    text = (MODULE_DIR / "docs" / "security.md").read_text()
    start = text.index("**The function role's permissions**")
    rows: dict[str, str] = {}
    for line in text[start:].splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            rows.update(dict.fromkeys(re.findall(r"`([A-Za-z]+)`", first), line))
        elif rows:
            break
    return rows


def test_the_permissions_table_has_a_row_for_each_statement_of_the_role() -> None:
    hcl = (MODULE_DIR / "iam.tf").read_text()
    function = hcl[hcl.index('data "aws_iam_policy_document" "function"') :]
    sids = set(re.findall(r'sid\s*=\s*"([A-Za-z]+)"', function))
    assert {"EcrPullThroughCache", "EcrListTags"} <= sids
    assert set(permissions_table()) == sids


def test_the_permissions_table_names_the_actions_terraform_renders(policy_of) -> None:
    rows = permissions_table()
    for combination in (SCHEDULE, VPC, CONSUMERS):
        for rendered in policy_of(combination)["Statement"]:
            actions = rendered["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                assert f"`{action}`" in rows[rendered["Sid"]], (rendered["Sid"], action)

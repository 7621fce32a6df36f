"""What the docs say about running the module in a real account holds for the module.

- Prerequisites (docs/security.md, the README points there): the permissions the identity
  running `terraform apply` needs beyond managing the resources are listed next to a minimal
  policy. The policy shown is what Terraform renders as
  the module's `apply_identity_policy_json` for the Quick start's block, and the list names every
  action that output can hold, in any configuration (tools/terraform/policies.py renders each
  feature that adds one; tools/iam_report.py scans them like the other policies).
- Several regions: the README's block with one instance per region plans offline, each instance
  in its provider's region, and no two IAM roles share a name (IAM names are unique in an
  account; tests/terraform/regions.tftest.hcl holds the same on both provider majors).

Skipped where terraform or ../shared is absent.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tools.terraform import harness
from tools.terraform.hcl import MODULE_DIR
from tools.terraform.policies import Combination, combinations, policy_of, render

README = (MODULE_DIR / "README.md").read_text(encoding="utf-8")
SECURITY = (MODULE_DIR / "docs" / "security.md").read_text(encoding="utf-8")


def prerequisites() -> str:
    """docs/security.md's Prerequisites: from its mark to the end of its policy block."""
    match = re.search(
        r"^\*\*Prerequisites.*?^```json\n.*?^```\n", SECURITY, re.DOTALL | re.MULTILINE
    )
    assert match, "docs/security.md has no Prerequisites with a policy"
    return match.group(0)


def test_the_readme_points_to_the_prerequisites_and_the_output() -> None:
    match = re.search(r"^\*\*Prerequisites.*?\n\n", README, re.DOTALL | re.MULTILINE)
    assert match, "README's Usage has no Prerequisites"
    assert "`apply_identity_policy_json`" in match.group(0)
    assert "(docs/security.md#the-identity-that-runs-terraform-apply)" in match.group(0)


def shown_policy() -> dict[str, Any]:
    (block,) = re.findall(r"^```json\n(.*?)^```", prerequisites(), re.DOTALL | re.MULTILINE)
    return dict(json.loads(block))


APPLY_IDENTITY = tuple(c for c in combinations() if c.policy == "apply_identity")
QUICK_START = Combination("apply_identity", "schedule")


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, Any]]:
    try:
        return render(APPLY_IDENTITY)
    except harness.Unavailable as e:
        pytest.skip(f"Terraform-rendered policies: {e}")


def actions(policy: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in policy["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }


def test_the_policy_shown_is_what_terraform_renders_for_the_quick_start(rendered) -> None:
    # The Quick start's block adds an IRSA-only ESO role, which adds nothing to this policy.
    assert QUICK_START in APPLY_IDENTITY
    assert shown_policy() == policy_of(QUICK_START, rendered)


def test_the_list_names_every_action_the_policy_can_hold(rendered) -> None:
    every = set().union(*(actions(policy_of(c, rendered)) for c in APPLY_IDENTITY))
    assert {"iam:PassRole", "lambda:InvokeFunction", "kms:Encrypt", "ec2:DescribeVpcs"} <= every
    listed = prerequisites().split("```json")[0]
    assert [action for action in sorted(every) if f"`{action}`" not in listed] == []


def regions_block() -> str:
    blocks = re.findall(r"^```hcl\n(.*?)^```", README, re.DOTALL | re.MULTILINE)
    (block,) = [b for b in blocks if "providers = { aws = aws." in b]
    return block


def test_the_several_regions_block_plans_two_instances_with_distinct_role_names(
    tmp_path: Path,
) -> None:
    try:
        terraform = harness.offline_terraform()
    except harness.Unavailable as e:
        pytest.skip(f"README's multi-region block under Terraform: {e}")
    source = os.path.relpath(MODULE_DIR, tmp_path)
    (tmp_path / "main.tf").write_text(
        re.sub(r'source\s*=\s*"[^"]*"', f'source = "{source}"', regions_block())
    )
    harness.pin_provider(tmp_path, 6)
    terraform.run("init", "-no-color", "-backend=false", cwd=tmp_path)
    # Two provider configurations: Terraform starts a stand-in for each, each in its region.
    terraform.run("plan", "-no-color", "-out=tfplan", cwd=tmp_path)
    plan = json.loads(terraform.run("show", "-json", "tfplan", cwd=tmp_path).stdout)
    modules = plan["planned_values"]["root_module"]["child_modules"]
    roles = {
        module["address"]: sorted(
            r["values"]["name"] for r in module["resources"] if r["type"] == "aws_iam_role"
        )
        for module in modules
    }
    functions = {
        module["address"]: [
            (r["values"]["function_name"], r["values"].get("region"))
            for r in module["resources"]
            if r["type"] == "aws_lambda_function"
        ]
        for module in modules
    }
    assert roles == {
        "module.ecr_token_rotator_eu_central_1": [
            "ecr-token-rotator-eso-eu-central-1",
            "ecr-token-rotator-eu-central-1",
            "ecr-token-rotator-scheduler-eu-central-1",
        ],
        "module.ecr_token_rotator_us_east_1": [
            "ecr-token-rotator-eso-us-east-1",
            "ecr-token-rotator-scheduler-us-east-1",
            "ecr-token-rotator-us-east-1",
        ],
    }
    assert functions == {
        "module.ecr_token_rotator_eu_central_1": [("ecr-token-rotator", "eu-central-1")],
        "module.ecr_token_rotator_us_east_1": [("ecr-token-rotator", "us-east-1")],
    }

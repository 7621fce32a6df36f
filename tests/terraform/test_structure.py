"""Conventions of the Terraform module that Terraform itself does not check: documented inputs and
outputs, names, comments on every IAM statement, reasons for checkov skips.

What the module does (counts, validations, preconditions, outputs, policies) is asserted by
Terraform in tests/terraform/*.tftest.hcl.
"""

from __future__ import annotations

import re

import pytest

from tools.terraform.hcl import MODULE_DIR, labelled, literal, module_files, outputs, variables

VARIABLES = variables()
OUTPUTS = outputs()


def test_the_module_has_its_files():
    names = set(module_files())
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "iam.tf"} <= names


@pytest.mark.parametrize("name", sorted(VARIABLES))
def test_every_variable_has_a_description_a_type_and_a_default(name):
    # terraform-aws-modules style: the module works with no inputs at all.
    block = VARIABLES[name]
    assert str(literal(block["description"])).strip(), f"variable {name} has no description"
    assert "type" in block, f"variable {name} has no type"
    assert "default" in block, f"variable {name} has no default"


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_output_has_a_description(name):
    assert str(literal(OUTPUTS[name]["description"])).strip(), f"output {name}"


def test_the_outputs_the_examples_build_on_exist():
    expected = {
        "secret_arn",
        "secret_name",
        "lambda_function_arn",
        "lambda_function_name",
        "lambda_role_arn",
        "cloudwatch_log_group_name",
        "eventbridge_rule_arn",
        "rotation_enabled",
        "eso_read_policy_json",
        "eso_role_arn",
        "registry_hosts",
        "region",
        "expiry_alarm_arn",
    }
    assert expected <= set(OUTPUTS)


def test_no_terraform_managed_secret_version_anywhere():
    # A placeholder version would be pruned after 100 versions and written back as AWSCURRENT;
    # the function writes every version itself (the first one during apply).
    offenders = [
        str(path.relative_to(MODULE_DIR))
        for path in MODULE_DIR.rglob("*.tf")
        if not {".terraform", "fixtures"} & set(path.parts)
        and not any(part.startswith(".venv") for part in path.parts)
        and "aws_secretsmanager_secret_version" in path.read_text()
    ]
    assert offenders == []


def test_resources_are_named_this_unless_one_of_several():
    # One resource of a type is "this"; a second of the same type is named for its purpose.
    names_by_type: dict[str, list[str]] = {}
    for content in module_files().values():
        for resource_type, name, _ in labelled(content, "resource"):
            names_by_type.setdefault(resource_type, []).append(name)
    for resource_type, names in names_by_type.items():
        if len(names) == 1 and resource_type not in {
            "aws_eks_pod_identity_association",  # belongs to the ESO role, named like it
        }:
            assert names == ["this"], f"{resource_type}: {names}"


def test_every_iam_statement_says_who_uses_it():
    # Each statement (static or dynamic) of a policy document has a comment line right above.
    for name in ("iam.tf", "eso.tf", "trigger.tf", "apply_identity.tf"):
        path = MODULE_DIR / name
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip() in ("statement {", 'dynamic "statement" {'):
                above = lines[number - 1].strip()
                assert above.startswith("#"), f"{path.name}:{number + 1} has no comment above"


def test_every_checkov_skip_has_a_reason():
    lines = (MODULE_DIR / ".checkov.yaml").read_text().splitlines()
    skips = [n for n, line in enumerate(lines) if re.fullmatch(r"\s*- CKV2?_AWS_\d+", line)]
    assert skips, "no skip-check entries found"
    for number in skips:
        check = lines[number].strip("- ").strip()
        reason = lines[number - 1].strip()
        assert reason.startswith(f"# {check} ("), f"{check} has no reason line above it"
        assert len(reason) > len(check) + 40, f"{check}: the reason is too short"

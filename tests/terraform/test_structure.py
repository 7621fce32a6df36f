"""Structure of the Terraform module: documented inputs and outputs, conventions, versions."""

from __future__ import annotations

import re

import pytest

from tests.terraform.hcl_eval import decode, evaluate
from tests.terraform.hcl_policies import MODULE_DIR, module

TF_FILES = sorted(MODULE_DIR.glob("*.tf"))


def _text(raw: str) -> str:
    """A description: a quoted string, or a heredoc (kept as written by python-hcl2)."""
    return raw if raw.startswith("<<") else evaluate(decode(raw), {})


def test_the_module_has_its_files():
    names = {path.name for path in TF_FILES}
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "iam.tf"} <= names


@pytest.mark.parametrize("name", sorted(module().variables))
def test_every_variable_has_a_description_and_a_type(name):
    block = module().variables[name].block
    assert "description" in block, f"variable {name} has no description"
    assert _text(block["description"]).strip(), f"variable {name} has an empty description"
    assert "type" in block, f"variable {name} has no type"


@pytest.mark.parametrize("name", sorted(module().variables))
def test_every_variable_has_a_default(name):
    # terraform-aws-modules style: the module works with no inputs at all.
    assert "default" in module().variables[name].block, f"variable {name} has no default"


@pytest.mark.parametrize("name", sorted(module().outputs))
def test_every_output_has_a_description(name):
    block = module().outputs[name]
    assert "description" in block, f"output {name} has no description"
    assert _text(block["description"]).strip()


def test_outputs_are_null_safe():
    # Each output reads a counted resource through try(), or is gated on local.create.
    for name, block in module().outputs.items():
        value = block["value"]
        assert value.startswith(("${try(", "${local.create ?")), f"output {name}: {value}"


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
        "staleness_alarm_arn",
    }
    assert expected <= set(module().outputs)


def test_no_terraform_managed_secret_version_anywhere():
    # A placeholder version would be pruned after 100 versions and written back as AWSCURRENT;
    # the function writes every version itself (the first one during apply).
    pattern = re.compile(r"aws_secretsmanager_secret_version")
    offenders = [
        str(path.relative_to(MODULE_DIR))
        for path in MODULE_DIR.rglob("*.tf")
        if ".terraform" not in path.parts
        and not any(part.startswith(".venv") for part in path.parts)
        and pattern.search(path.read_text())
    ]
    assert offenders == []
    assert not [key for key in module().labelled("resource") if key[0] == pattern.pattern]


def test_resources_are_named_this_unless_one_of_several():
    # One resource of a type is "this"; a second of the same type is named for its purpose.
    names_by_type: dict[str, list[str]] = {}
    for resource_type, name in module().labelled("resource"):
        names_by_type.setdefault(resource_type, []).append(name)
    for resource_type, names in names_by_type.items():
        if len(names) == 1 and resource_type not in {
            "aws_eks_pod_identity_association",  # belongs to the ESO role, named like it
        }:
            assert names == ["this"], f"{resource_type}: {names}"


def test_every_resource_and_policy_document_is_counted_on_create():
    # create = false must create nothing: each block's count mentions local.create.
    for kind in ("resource", "data"):
        for (block_type, name), body in module().labelled(kind).items():
            if kind == "data" and block_type in {
                "aws_partition",
                "aws_caller_identity",
                "aws_region",
            }:
                continue
            assert "local.create" in str(body.get("count", "")), f"{block_type}.{name}"


def test_versions_are_minimum_only():
    terraform = module().files["versions.tf"]["terraform"][0]
    assert evaluate(decode(terraform["required_version"]), {}) == ">= 1.5"
    aws = terraform["required_providers"][0]["aws"]
    assert evaluate(decode(aws["source"]), {}) == "hashicorp/aws"
    assert re.fullmatch(r">= 5\.\d+", evaluate(decode(aws["version"]), {}))


def test_every_iam_statement_says_who_uses_it():
    # Each statement (static or dynamic) of a policy document has a comment line right above.
    for path in (MODULE_DIR / "iam.tf", MODULE_DIR / "eso.tf"):
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

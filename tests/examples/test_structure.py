"""Each example is a self-contained root module a reader can copy: its files, documented
variables, required inputs that are exactly the things that must exist beforehand (documented,
and given fake values for CI in tests/examples/inputs/), documented outputs, and no real account
IDs. (Its provider constraints are checked in tests/terraform/test_versions.py.)"""

from __future__ import annotations

import re

import hcl2
import pytest

from tools.terraform.harness import EXAMPLE_INPUTS, EXAMPLES, example_names
from tools.terraform.hcl import MODULE_DIR, literal, outputs, variables

NAMES = example_names()
# The only account IDs the repository may show: the documentation account and a second one.
EXAMPLE_ACCOUNT_IDS = {"123456789012", "210987654321"}


def required_variables(name: str) -> set[str]:
    return {
        variable for variable, block in variables(EXAMPLES / name).items() if "default" not in block
    }


@pytest.mark.parametrize("name", NAMES)
def test_example_has_its_files(name):
    files = {path.name for path in (EXAMPLES / name).iterdir()}
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= files
    assert (EXAMPLES / name / "templates").is_dir()


@pytest.mark.parametrize("name", NAMES)
def test_readme_says_how_real_users_reference_the_module(name):
    readme = (EXAMPLES / name / "README.md").read_text()
    assert 'source = "git::https://' in readme
    assert "?ref=" in readme  # which pin: tests/docs/test_pins.py


@pytest.mark.parametrize("name", NAMES)
def test_variables_are_documented(name):
    for variable, block in variables(EXAMPLES / name).items():
        assert str(literal(block["description"])).strip(), variable
        assert "type" in block, variable


@pytest.mark.parametrize("name", NAMES)
def test_required_inputs_are_what_must_exist_beforehand_and_are_documented(name):
    # Everything else has a default, so `terraform apply` in a fresh account needs only these;
    # each names an existing thing (a cluster, an image, another account).
    readme = (EXAMPLES / name / "README.md").read_text()
    for variable in required_variables(name):
        description = str(literal(variables(EXAMPLES / name)[variable]["description"]))
        assert re.search(r"\b(Existing|exists?|second account)\b", description), variable
        assert f"`{variable}`" in readme, f"examples/{name}/README.md does not name {variable}"


@pytest.mark.parametrize("name", NAMES)
def test_ci_inputs_give_exactly_the_required_variables(name):
    inputs = EXAMPLE_INPUTS / f"{name}.tfvars"
    given = (
        {key for key in hcl2.loads(inputs.read_text()) if not key.startswith("__")}
        if inputs.exists()
        else set()
    )
    assert given == required_variables(name)


@pytest.mark.parametrize("name", NAMES)
def test_outputs_are_documented(name):
    for output, block in outputs(EXAMPLES / name).items():
        assert str(literal(block["description"])).strip(), output


def test_no_account_id_but_the_documentation_ones():
    paths = [*EXAMPLES.rglob("*"), *MODULE_DIR.glob("*.md"), *MODULE_DIR.glob("*.tf")]
    found: dict[str, set[str]] = {}
    for path in paths:
        if path.is_file() and "generated" not in path.parts:
            for number in re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", path.read_text()):
                found.setdefault(number, set()).add(str(path.relative_to(MODULE_DIR)))
    assert set(found) <= EXAMPLE_ACCOUNT_IDS, found

"""Each example is a self-contained root module a reader can copy: its files, documented
variables with defaults, the module's own provider constraint, and no real account IDs."""

from __future__ import annotations

import re

import pytest

from tests.examples.offline_apply import EXAMPLES_DIR, Example, example_names
from tests.terraform.hcl_eval import decode, evaluate
from tests.terraform.hcl_policies import MODULE_DIR, module

EXAMPLES = example_names()
# The only account IDs the repository may show: the documentation account and a second one.
EXAMPLE_ACCOUNT_IDS = {"123456789012", "210987654321"}


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_has_its_files(name):
    files = {path.name for path in (EXAMPLES_DIR / name).iterdir()}
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= files
    assert (EXAMPLES_DIR / name / "templates").is_dir()


@pytest.mark.parametrize("name", EXAMPLES)
def test_readme_says_how_real_users_reference_the_module(name):
    readme = (EXAMPLES_DIR / name / "README.md").read_text()
    assert 'source = "git::https://' in readme
    assert "?ref=v" in readme


@pytest.mark.parametrize("name", EXAMPLES)
def test_variables_are_documented_and_have_defaults(name):
    # `terraform apply` works without -var: the rendered copies use exactly these defaults.
    for variable, declared in Example(name).hcl.variables.items():
        assert {"description", "type", "default"} <= set(declared.block), variable


@pytest.mark.parametrize("name", EXAMPLES)
def test_outputs_are_documented(name):
    for output, block in Example(name).hcl.outputs.items():
        assert evaluate(decode(block["description"]), {}).strip(), output


@pytest.mark.parametrize("name", EXAMPLES)
def test_providers_are_pinned_like_the_module(name):
    def constraints(files: dict) -> dict[str, dict[str, str]]:
        terraform = files["versions.tf"]["terraform"][0]
        providers = terraform["required_providers"][0]
        return {
            "required_version": evaluate(decode(terraform["required_version"]), {}),
            **{
                provider: {key: evaluate(decode(value), {}) for key, value in spec.items()}
                for provider, spec in providers.items()
                if not provider.startswith("__")
            },
        }

    example, root = constraints(Example(name).hcl.files), constraints(module().files)
    assert example["required_version"] == root["required_version"]
    assert example["aws"] == root["aws"]
    assert set(example) <= {"required_version", "aws", "local"}  # no kubernetes provider needed


def test_no_account_id_but_the_documentation_ones():
    paths = [*EXAMPLES_DIR.rglob("*"), *MODULE_DIR.glob("*.md"), *MODULE_DIR.glob("*.tf")]
    found: dict[str, set[str]] = {}
    for path in paths:
        if path.is_file() and "generated" not in path.parts:
            for number in re.findall(r"(?<![0-9])[0-9]{12}(?![0-9])", path.read_text()):
                found.setdefault(number, set()).add(str(path.relative_to(MODULE_DIR)))
    assert set(found) <= EXAMPLE_ACCOUNT_IDS, found

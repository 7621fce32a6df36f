"""The repository README: generated tables fresh, quick start runnable as written, its module
block and manifests valid; the function's contract (docs/contract.md) as the code has it; and the
files that come with it (LICENSE, CHANGELOG, pre-commit hooks matching `make lint`). How the
README and docs/ are laid out, and that their links resolve: tests/docs/test_layout.py."""

from __future__ import annotations

import re

import hcl2
import pytest
import yaml

from ecr_token_rotator import observability
from ecr_token_rotator.document import OWNED_KEYS
from tests.conftest import FUNCTION_ENV
from tests.docs.pages import DOCS, pages, text_of
from tests.docs.pages import section as pages_section
from tests.examples.cluster import load_manifests
from tools import tf_docs
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR
from tools.terraform.harness import example_names
from tools.terraform.hcl import MODULE_DIR, literal, outputs, variables

README = MODULE_DIR / "README.md"
TEXT = README.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the README's `## title` section."""
    return pages_section(TEXT, title)


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def test_inputs_and_outputs_tables_are_fresh():
    assert tf_docs.replace_tables(TEXT, tf_docs.generate()) == TEXT, "run `make docs`"


def test_tables_list_every_variable_and_output_of_the_module():
    tables = TEXT[TEXT.index(tf_docs.BEGIN) : TEXT.index(tf_docs.END)]
    assert set(re.findall(r'name="input_([a-z0-9_]+)"', tables)) == set(variables())
    assert set(re.findall(r'name="output_([a-z0-9_]+)"', tables)) == set(outputs())


def test_tables_are_stale_when_a_description_changes():
    changed = TEXT.replace("Whether to create anything at all.", "Whether to create.", 1)
    assert changed != TEXT
    assert tf_docs.replace_tables(changed, tf_docs.generate()) != changed


def test_quick_start_is_make_test_then_make_demo():
    quick_start = section("Quick start")
    assert fenced(quick_start, "sh")[0] == "make test\nmake demo\n"
    targets = re.findall(r"^([a-z-]+):", (MODULE_DIR / "Makefile").read_text(), re.MULTILINE)
    assert {"test", "demo"} <= set(targets)


MODULE_BLOCKS = [block for block in fenced(TEXT, "hcl") if block.lstrip().startswith("module ")]


def test_module_blocks_use_a_pinned_git_source():
    # What the pin may be (the placeholder or the newest release tag): tests/docs/test_pins.py.
    # That every hcl block of the docs plans as written: tests/docs/test_snippets.py.
    assert MODULE_BLOCKS
    for block in MODULE_BLOCKS:
        (call,) = hcl2.loads(block)["module"]
        body = next(iter(call.values()))
        source = literal(body["source"])
        assert re.fullmatch(r"git::https://\S+\.git\?ref=\S+", source), source


def rendered_objects() -> list[dict]:
    return [
        obj
        for name in example_names()
        for _, obj in load_manifests(EXAMPLES_DIR / name / "manifests" / "rendered")
    ]


def test_usage_manifests_are_rendered_example_manifests():
    # Copies of examples/eks-irsa's rendered manifests: any drift from the examples fails here.
    documents = [
        obj for block in fenced(section("Usage"), "yaml") for obj in yaml.safe_load_all(block)
    ]
    assert [obj["kind"] for obj in documents] == [
        "ServiceAccount",
        "ClusterSecretStore",
        "ExternalSecret",
    ]
    rendered = rendered_objects()
    for obj in documents:
        assert obj in rendered, obj["kind"]


def test_the_contract_names_what_the_code_uses():
    contract = text_of(DOCS / "contract.md")
    for name in (*FUNCTION_ENV, *OWNED_KEYS):
        assert f"`{name}`" in contract, name
    assert f"`{observability.METRIC_NAMESPACE}`" in contract
    assert f"`{observability.METRIC_DIMENSION}`" in contract
    for metric in ("RefreshSuccess", "TokenSecondsToExpiry"):
        assert f"`{metric}`" in contract
    assert "`ecr_token_rotator.handler.lambda_handler`" in contract
    events = set()
    for path in (MODULE_DIR / "lambda_src" / "ecr_token_rotator").glob("*.py"):
        events |= set(re.findall(r'"event": "([a-z_]+)"', path.read_text()))
    # Every event an operator may search for, except the repair command's own.
    assert {event for event in events if f"`{event}`" not in contract} <= {
        "pending_removed",
        "create_skipped",
        "set_skipped",
        "already_current",
    }


def test_every_example_is_listed():
    examples = section("Examples")
    for name in example_names():
        assert f"(examples/{name})" in examples, name


def test_diagram_shows_the_whole_path():
    (diagram,) = fenced(TEXT, "mermaid")
    for part in (
        "EventBridge",
        "rotation",
        "Lambda",
        "ECR",
        "Secrets Manager",
        "External Secrets",
        "kubelet",
    ):
        assert part in diagram, part


def test_the_benchmark_readme_holds_the_bench_markers_and_the_readme_none():
    # `make bench BENCH_ARGS=--write-readme` fills the table between the markers of
    # bench/README.md; this only checks they are there once, in its results.
    bench = text_of(MODULE_DIR / "bench" / "README.md")
    results = pages_section(bench, "Results")
    assert bench.count("<!-- BEGIN_BENCH -->") == bench.count("<!-- END_BENCH -->") == 1
    assert results.index("<!-- BEGIN_BENCH -->") < results.index("<!-- END_BENCH -->")
    assert "BENCH -->" not in TEXT


def test_sections_a_platform_team_needs():
    # The terraform-aws-modules shape: what and why, usage, examples, requirements, the generated
    # tables; then the reference pages, each with what it holds.
    for title in ("Is this for me?", "Quick start", "Usage", "Examples", "Operations"):
        assert section(title).strip(), title
    for page, phrases in {
        "contract.md": ("**Publishing**", "**Deadline**", "**Logs**"),
        "cli.md": ("ecr-token-rotator refresh --secret-id ID",),
        "operations.md": ("## Schedule or native rotation?", "## The expiry alarm's rule"),
        "troubleshooting.md": ("**AccessDenied**",),
        "networking.md": ("`com.amazonaws.<region>.ecr.api`",),
        "cost.md": ("**How it scales**",),
        "registry-hosts.md": ("`ecr_endpoint_types`",),
        "adoption.md": ("**From a hand-made secret**", "## When to use something else"),
        "security.md": ("**The function role's permissions**",),
    }.items():
        text = text_of(DOCS / page)
        for phrase in phrases:
            assert phrase in text, (page, phrase)


def test_license_is_apache_2():
    text = (MODULE_DIR / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert 'license = "Apache-2.0"' in (MODULE_DIR / "lambda_src" / "pyproject.toml").read_text()


def test_changelog_follows_keep_a_changelog():
    text = (MODULE_DIR / "CHANGELOG.md").read_text()
    assert "keepachangelog.com" in text
    assert "semver.org" in text
    assert re.search(r"^## \[Unreleased\]$", text, re.MULTILINE)
    # Release headings exist exactly for the repository's release tags: tests/docs/test_pins.py.


def recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with $(PY) and $(VENV) expanded."""
    makefile = (MODULE_DIR / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, target
    return [
        line.strip().replace("$(PY)", ".venv/bin/python").replace("$(VENV)", ".venv")
        for line in match.group(1).splitlines()
        if not line.strip().startswith("@")  # a guard (e.g. skip without terraform), not a check
    ]


@pytest.mark.parametrize(
    "command", [*recipe("lint"), *recipe("tf-fmt"), "make docs-check", "make manifests-check"]
)
def test_pre_commit_runs_what_make_lint_runs(command):
    config = yaml.safe_load((MODULE_DIR / ".pre-commit-config.yaml").read_text())
    entries = [
        " ".join([hook["entry"], *hook.get("args", [])])
        for repo in config["repos"]
        if repo["repo"] == "local"
        for hook in repo["hooks"]
    ]
    # The hook may narrow a whole-tree command to the changed files or drop its -diff.
    command = command.removesuffix(" .").replace(" -diff", "")
    assert any(entry.startswith(command) for entry in entries), command


def test_every_lambda_invoke_with_a_payload_works_with_aws_cli_v2():
    # AWS CLI v2 reads --payload as base64 unless told otherwise; '{}' is not base64.
    files = [*pages(), *EXAMPLES_DIR.glob("*/README.md"), *EXAMPLES_DIR.glob("*/outputs.tf")]
    commands = [
        (path.name, command)
        for path in files
        for command in re.findall(r"aws lambda invoke[^`\n]*--payload[^`\n]*", path.read_text())
    ]
    assert commands
    for name, command in commands:
        assert "--cli-binary-format raw-in-base64-out" in command, (name, command)


def test_troubleshooting_says_what_apply_does_and_how_to_recover():
    troubleshooting = text_of(DOCS / "troubleshooting.md")
    # The payload Terraform sends (trigger.tf), for which the function waits out IAM propagation.
    assert (
        'apply_invocation_input = { invoked_by = "terraform-apply" }'
        in (MODULE_DIR / "trigger.tf").read_text()
    )
    for phrase in (
        '`{"invoked_by": "terraform-apply"}`',
        "`lambda_timeout`",  # the function's timeout bounds the wait
        "rotate_immediately = false",  # rotation mode's first apply
        "A previous rotation isn't complete",  # apply in rotation mode with a stale AWSPENDING
        "repair",
        "ReservedConcurrentExecutions",  # the quota error, and why no reservation is the default
        "another region",
    ):
        assert phrase in troubleshooting, phrase

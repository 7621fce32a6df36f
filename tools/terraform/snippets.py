"""The docs' HCL snippets, planned by the real terraform as a user copies them.

Every ```hcl block of the repository's Markdown (README.md, examples/*/README.md, docs/**/*.md,
...) is one of two kinds, and must say which:

- a **module call**: it calls this module (a `module` block whose `source` names
  ecr-token-rotator). It is planned as a root module of its own, offline (harness.py), with its
  `source` pointed at this checkout and its placeholders (`<account>`, `<region>`, ...) filled
  with fake values, so that a snippet cannot drift from the module's inputs, validations and
  preconditions;
- a **fragment**: a piece of a configuration, not a whole module call (an `import` block to put
  beside one, say). Its first line says so, and why: `# Fragment: <what it goes with>`.

A block that is neither is an error: nothing is skipped silently.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tools.terraform.harness import (
    PROVIDER_VERSIONS,
    REPO,
    TerraformFailed,
    offline_terraform,
    pin_provider,
    provider_for,
)

FRAGMENT_MARKER = re.compile(r"\A\s*(?:#|//)\s*Fragment:\s*(?P<why>\S.*)$", re.MULTILINE)
# A fenced block, indented or not (inside a list item): its indentation, language and text.
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>[A-Za-z0-9_-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
HCL_LANGUAGES = ("hcl", "terraform", "tf")
OUR_SOURCE = re.compile(r'(?m)^(?P<lead>\s*source\s*=\s*)"(?P<source>[^"]*ecr-token-rotator[^"]*)"')
VERSION_ARGUMENT = re.compile(r'(?m)^\s*version\s*=\s*"[^"]*"[ \t]*\n')
MODULE_BLOCK = re.compile(r'(?m)^\s*module\s+"[^"]+"\s*\{')
DEFAULT_AWS_PROVIDER = re.compile(r'(?m)^\s*provider\s+"aws"\s*\{(?P<body>[^{}]*)\}')
# `<name>` in a snippet, as the docs write what the reader fills in.
PLACEHOLDER = re.compile(r"<(?P<name>[a-z][a-z0-9 _-]*)>")
# The fake values a placeholder gets: moto's account, the docs' region, names like the examples'.
PLACEHOLDERS = {
    "account": "123456789012",
    "account-id": "123456789012",
    "region": "eu-central-1",
    "repo": "team/app",
    "repository": "team/app",
    "tag": "1.0",
    "cluster": "platform",
    "cluster-name": "platform",
    "secret": "ecr-pull-credential",
}
REGION = "eu-central-1"


class SnippetError(ValueError):
    """A snippet that cannot be planned as written: what to change, in the docs or here."""


@dataclass(frozen=True)
class Snippet:
    path: str  # relative to the repository
    line: int  # of the opening fence
    text: str  # the block's HCL, dedented

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def fragment_reason(self) -> str | None:
        marker = FRAGMENT_MARKER.match(self.text)
        return marker["why"] if marker else None

    @property
    def calls_the_module(self) -> bool:
        return bool(MODULE_BLOCK.search(self.text) and OUR_SOURCE.search(self.text))


def markdown_files(root: Path = REPO) -> list[Path]:
    """Every Markdown file of the repository, but those of hidden folders (.venv, .terraform)
    and tests/ (fixtures)."""
    return sorted(
        path
        for path in root.rglob("*.md")
        if not any(part.startswith(".") or part == "tests" for part in path.relative_to(root).parts)
    )


def snippets_of(markdown: str, path: str) -> list[Snippet]:
    """The ```hcl (or terraform, tf) blocks of a Markdown text."""
    found = []
    for fence in FENCE.finditer(markdown):
        if fence["language"].lower() in HCL_LANGUAGES:
            body = "".join(
                line.removeprefix(fence["indent"]) for line in fence["body"].splitlines(True)
            )
            line = markdown.count("\n", 0, fence.start()) + 1
            found.append(Snippet(path, line, textwrap.dedent(body)))
    return found


def doc_snippets(root: Path = REPO) -> list[Snippet]:
    return [
        snippet
        for path in markdown_files(root)
        for snippet in snippets_of(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    ]


def unclassified(snippet: Snippet) -> str | None:
    """Why a snippet is neither a module call nor a marked fragment, or None."""
    if snippet.fragment_reason is not None or snippet.calls_the_module:
        return None
    return (
        f"{snippet.name}: an hcl block that does not call this module (a `module` block whose "
        "source names ecr-token-rotator): make it a whole module call, or mark it as a piece of "
        "one with a first line `# Fragment: <what it goes with>`"
    )


def as_root_module(snippet: Snippet, directory: Path) -> str:
    """The snippet as the main.tf of a root module in `directory`: this module's source pointed
    at the checkout, placeholders filled (SnippetError for one without a value)."""
    source = os.path.relpath(REPO, directory)
    text = OUR_SOURCE.sub(lambda match: f'{match["lead"]}"{source}"', snippet.text)
    # A registry source's `version` does not apply to a local path (harness.py pins the provider).
    text = VERSION_ARGUMENT.sub("", text)
    unknown = sorted({match["name"] for match in PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))
    if unknown:
        raise SnippetError(
            f"{snippet.name}: placeholder(s) {', '.join(f'<{name}>' for name in unknown)} have "
            "no value to plan with: use one of "
            f"{', '.join(f'<{name}>' for name in PLACEHOLDERS)}, or add it to PLACEHOLDERS in "
            "tools/terraform/snippets.py"
        )
    return PLACEHOLDER.sub(lambda match: PLACEHOLDERS[match["name"]], text)


def _needs_default_provider(text: str) -> bool:
    """Whether the snippet lacks an aws provider configuration without an alias (the one
    resources use when nothing is said)."""
    return not any(
        not re.search(r"^\s*alias\s*=", block["body"], re.MULTILINE)
        for block in DEFAULT_AWS_PROVIDER.finditer(text)
    )


def plan_snippet(snippet: Snippet, directory: Path, major: int) -> str | None:
    """`terraform init` and `plan` of a module-call snippet on one hashicorp/aws major, offline:
    None when it plans, else what Terraform said."""
    terraform = offline_terraform()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        (directory / "main.tf").write_text(as_root_module(snippet, directory))
    except SnippetError as e:
        return str(e)
    if _needs_default_provider(snippet.text):
        (directory / "provider.tf").write_text(f'provider "aws" {{\n  region = "{REGION}"\n}}\n')
    pin_provider(directory, major)
    try:
        terraform.run("init", "-no-color", "-backend=false", cwd=directory)
        with provider_for(directory, major) as reattach:
            terraform.run("plan", "-no-color", "-input=false", cwd=directory, extra_env=reattach)
    except TerraformFailed as e:  # its errors, without the plan before them
        said = e.result.stderr.strip() or e.result.stdout
        return f"{snippet.name} on hashicorp/aws {PROVIDER_VERSIONS[major]}:\n{said}"
    return None


def plan_doc_snippets(major: int, workdir: Path) -> dict[str, str | None]:
    """{snippet name: None, or why it does not plan} for every module-call snippet of the docs."""
    return {
        snippet.name: plan_snippet(snippet, workdir / f"snippet-{index}-{major}", major)
        for index, snippet in enumerate(doc_snippets())
        if snippet.fragment_reason is None and snippet.calls_the_module
    }

"""Reading the module's HCL as text and literals (python-hcl2), for what Terraform does not answer:
conventions (descriptions, names, comments) and the docs generator. Expressions are never
evaluated here: Terraform evaluates them (tests/terraform/*.tftest.hcl).

python-hcl2 keeps a string literal with its quotes (`'"text"'`), an expression as `${...}`
and a heredoc as written; `literal()` turns literals into Python values and refuses the rest.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

MODULE_DIR = Path(__file__).resolve().parents[2]


class NotALiteral(ValueError):
    """An expression where a literal was expected (Terraform, not this file, evaluates those)."""


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle))


def literal(raw: Any) -> Any:
    """The value of a literal as python-hcl2 gives it: strings (quoted, or `<<-EOT` heredocs),
    numbers, bools, null, and lists/objects of those."""
    if isinstance(raw, str):
        heredoc = raw.removeprefix('"').removesuffix('"') if raw.startswith('"<<') else raw
        if heredoc.startswith("<<"):  # <<-EOT ... EOT, with or without the quotes around it
            body = heredoc.split("\n", 1)[1].rsplit("\n", 1)[0]
            return textwrap.dedent(body)
        if raw.startswith('"') and raw.endswith('"') and "${" not in raw.replace("$${", ""):
            return json.loads(raw).replace("$${", "${").replace("%%{", "%{")
        raise NotALiteral(raw)
    if isinstance(raw, list):
        return [literal(item) for item in raw]
    if isinstance(raw, dict):
        return {
            key.strip('"'): literal(value) for key, value in raw.items() if not key.startswith("__")
        }
    return raw


def blocks(content: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, body) of each one-label block (`variable "x" {}`, `output "x" {}`)."""
    for block in content.get(kind, []):
        for label, body in block.items():
            yield label.strip('"'), body


def labelled(content: dict[str, Any], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, name, body) of each two-label block (`resource "t" "n" {}`, `data "t" "n" {}`)."""
    for block in content.get(kind, []):
        for block_type, named in block.items():
            for name, body in named.items():
                if not name.startswith("__"):
                    yield block_type.strip('"'), name.strip('"'), body


def module_files(directory: Path = MODULE_DIR) -> dict[str, dict[str, Any]]:
    """Every *.tf of a module directory, parsed, by file name."""
    return {path.name: load(path) for path in sorted(directory.glob("*.tf"))}


def variables(directory: Path = MODULE_DIR) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for content in module_files(directory).values():
        found.update(blocks(content, "variable"))
    return found


def outputs(directory: Path = MODULE_DIR) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for content in module_files(directory).values():
        found.update(blocks(content, "output"))
    return found


def required_versions(directory: Path = MODULE_DIR) -> dict[str, str]:
    """versions.tf: {"terraform": constraint, <provider>: constraint}."""
    terraform = load(directory / "versions.tf")["terraform"][0]
    found = {"terraform": literal(terraform["required_version"])}
    for provider, spec in terraform["required_providers"][0].items():
        if not provider.startswith("__"):
            found[provider] = literal(spec["version"])
    return found

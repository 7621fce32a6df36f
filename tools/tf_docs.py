"""`make docs`: the README's Resources, Inputs and Outputs tables, generated from the module's
HCL (the resource blocks, variables.tf, outputs.tf; descriptions and defaults are literals, read
with tools/terraform/hcl.py). The Requirements section above them is written by hand (it says why
each minimum is what it is); tests/terraform/test_versions.py keeps it equal to versions.tf.

terraform-docs cannot be installed here, so this writes the same kind of tables between the
`<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` markers of the README. Inputs and outputs keep
the order of their files, which groups them by concern (the files' banner comments).

    python -m tools.tf_docs README.md          # rewrite the tables
    python -m tools.tf_docs --check README.md  # exit 1 if they are stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.terraform.hcl import MODULE_DIR, blocks, labelled, literal, load

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
REGISTRY = "https://registry.terraform.io/providers/hashicorp/{provider}/latest/docs/{kind}/{name}"


def _text(raw: str) -> str:
    """A description: a quoted string or a `<<-EOT` heredoc, as one line."""
    return " ".join(str(literal(raw)).split())


def _cell(text: str) -> str:
    """Markdown table cell text: `|` would end the cell, `<name>` would read as an HTML tag."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """A code span in a table cell: only `|` needs escaping there."""
    return "`" + text.replace("|", "\\|") + "`"


def _type(raw: str) -> str:
    return raw[2:-1] if raw.startswith("${") and raw.endswith("}") else raw


def _default(raw: Any) -> str:
    value = literal(raw)
    return json.dumps(value, separators=(", ", ": ")) if value is not None else "null"


def resources() -> list[str]:
    kinds = {"resource": ("resource", "resources"), "data": ("data source", "data-sources")}
    rows = []
    for tf_file in sorted(MODULE_DIR.glob("*.tf")):
        content = load(tf_file)
        for kind, (label, docs) in kinds.items():
            for block_type, name, _ in labelled(content, kind):
                provider, short = block_type.split("_", 1)
                url = REGISTRY.format(provider=provider, kind=docs, name=short)
                address = f"{'data.' if kind == 'data' else ''}{block_type}.{name}"
                rows.append((address, f"| [{address}]({url}) | {label} |"))
    header = ["## Resources", "", "| Name | Type |", "| --- | --- |"]
    return [*header, *(row for _, row in sorted(rows))]


def inputs() -> list[str]:
    rows = []
    for name, body in blocks(load(MODULE_DIR / "variables.tf"), "variable"):
        default = _code(_default(body["default"])) if "default" in body else "n/a"
        required = "no" if "default" in body else "yes"
        rows.append(
            f'| <a name="input_{name}"></a> `{name}` | {_cell(_text(body["description"]))} '
            f"| {_code(_type(body['type']))} | {default} | {required} |"
        )
    header = [
        "| Name | Description | Type | Default | Required |",
        "| --- | --- | --- | --- | :---: |",
    ]
    return ["## Inputs", "", *header, *rows]


def outputs() -> list[str]:
    rows = [
        f'| <a name="output_{name}"></a> `{name}` | {_cell(_text(body["description"]))} |'
        for name, body in blocks(load(MODULE_DIR / "outputs.tf"), "output")
    ]
    return ["## Outputs", "", "| Name | Description |", "| --- | --- |", *rows]


def generate() -> str:
    sections = [resources(), inputs(), outputs()]
    return "\n\n".join("\n".join(section) for section in sections)


def replace_tables(readme: str, tables: str) -> str:
    if (
        readme.count(BEGIN) != 1
        or readme.count(END) != 1
        or readme.index(BEGIN) > readme.index(END)
    ):
        raise ValueError(f"the README needs exactly one {BEGIN} ... {END} section")
    head, rest = readme.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{tables}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", type=Path)
    parser.add_argument("--check", action="store_true", help="report stale tables, change nothing")
    args = parser.parse_args(argv)
    current = args.readme.read_text(encoding="utf-8")
    fresh = replace_tables(current, generate())
    if args.check:
        if fresh != current:
            print(
                f"{args.readme}: the Inputs/Outputs tables are stale: run `make docs`",
                file=sys.stderr,
            )
            return 1
        return 0
    args.readme.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

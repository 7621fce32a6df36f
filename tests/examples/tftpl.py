"""Terraform's `templatefile()` for the template subset the examples use.

Supported, with Terraform's semantics:
- `${expression}` interpolation: the expression is evaluated by `tests.terraform.hcl_eval` with the
  template's variables as the only names in scope (templatefile() sees nothing else: no `var.`,
  no `local.`); a string, number or bool becomes text, null or a list/map is an error;
- the escapes `$${` (a literal `${`) and `%%{` (a literal `%{`).

Anything else stops with `Unsupported`: template directives (`%{ for }`, `%{ if }`) and strip
markers (`${~ x ~}`). The examples' templates stay inside this subset, so what is rendered here
is byte for byte what Terraform renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.terraform.hcl_eval import EvalError, Unsupported, evaluate, parse_expression


def _interpolation_end(text: str, start: int) -> int:
    """Index of the `}` closing the interpolation whose expression starts at `start`."""
    depth = 0
    position = start
    while position < len(text):
        ch = text[position]
        if ch == '"':  # a string literal inside the expression: skip it, escapes included
            position += 1
            while text[position] != '"':
                position += 2 if text[position] == "\\" else 1
        elif ch in "{([":
            depth += 1
        elif ch in "})]":
            if depth == 0:
                if ch != "}":
                    raise Unsupported(f"unbalanced {ch!r} in interpolation at {start}")
                return position
            depth -= 1
        position += 1
    raise Unsupported(f"unterminated interpolation starting at {start}")


def _text(value: Any, expression: str) -> str:
    if value is None:
        raise EvalError(f"${{{expression}}} is null: templatefile() cannot render a null value")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise EvalError(f"${{{expression}}} is a {type(value).__name__}, not a string")


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Render template text the way templatefile(path, variables) does."""
    out: list[str] = []
    position = 0
    while position < len(template):
        if template.startswith(("$${", "%%{"), position):
            out.append(template[position + 1 : position + 3])
            position += 3
        elif template.startswith("%{", position):
            raise Unsupported(f"template directive at {position}: keep templates to ${{...}}")
        elif template.startswith("${", position):
            start = position + 2
            if template.startswith("~", start):
                raise Unsupported(f"strip marker at {position}")
            end = _interpolation_end(template, start)
            expression = template[start:end].strip()
            if expression.endswith("~"):
                raise Unsupported(f"strip marker at {end}")
            out.append(_text(evaluate(parse_expression(expression), dict(variables)), expression))
            position = end + 1
        else:
            out.append(template[position])
            position += 1
    return "".join(out)


def templatefile(path: str, variables: Mapping[str, Any]) -> str:
    if not isinstance(variables, Mapping):
        raise EvalError("templatefile(): the second argument must be a map or object")
    return render(Path(path).read_text(encoding="utf-8"), variables)

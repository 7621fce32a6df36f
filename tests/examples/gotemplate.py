"""ESO's template engine v2 (Go text/template with sprig), for the subset the examples use.

Supported, with Go's semantics:
- text outside `{{ }}` is copied as is;
- an action is a pipeline `command | command ...`; a command is `.key` (a value of the template
  data; a missing key is an error, as ESO runs templates with missingkey=error) or a function
  name with arguments (`.key` or a double-quoted Go string literal); in a pipeline the previous
  result is passed as the last argument;
- functions: `printf` (verbs %s and %%, as fmt.Sprintf), `b64enc` (sprig: standard base64 of the
  string's UTF-8 bytes).

Anything else (trim markers `{{-`/`-}}`, variables, `if`/`range`, other functions or verbs) stops
with `Unsupported`, so a template rendered here renders the same in ESO.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping


class Unsupported(Exception):
    """A template construct outside the subset rendered here (rather than a guess)."""


_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<pipe>\|))"
)
_GO_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}


class TemplateError(Exception):
    """What ESO would report as a template execution error."""


def _printf(form: str, *args: str) -> str:
    values = iter(args)

    def verb(match: re.Match[str]) -> str:
        if match.group() == "%%":
            return "%"
        if match.group() != "%s":
            raise Unsupported(f"printf verb {match.group()!r}")
        try:
            return next(values)
        except StopIteration:
            raise TemplateError("printf: missing argument") from None

    result = re.sub(r"%.", verb, form)
    if next(values, None) is not None:
        raise TemplateError("printf: extra argument")
    return result


def _b64enc(value: str) -> str:
    return base64.b64encode(value.encode("utf-8")).decode("ascii")


FUNCTIONS: dict[str, Callable[..., str]] = {"printf": _printf, "b64enc": _b64enc}


def _string_literal(token: str) -> str:
    out: list[str] = []
    body = token[1:-1]
    position = 0
    while position < len(body):
        if body[position] == "\\":
            escaped = body[position + 1]
            if escaped not in _GO_ESCAPES:
                raise Unsupported(f"string escape \\{escaped}")
            out.append(_GO_ESCAPES[escaped])
            position += 2
        else:
            out.append(body[position])
            position += 1
    return "".join(out)


def _commands(action: str) -> list[list[tuple[str, str]]]:
    """Tokens of each command of the pipeline: [(kind, text), ...] per command."""
    commands: list[list[tuple[str, str]]] = [[]]
    position = 0
    while position < len(action):
        if action[position:].strip() == "":
            break
        match = _TOKEN.match(action, position)
        if match is None:
            raise Unsupported(f"cannot read {action[position:]!r} in {{{{{action}}}}}")
        kind = match.lastgroup or ""
        if kind == "pipe":
            commands.append([])
        else:
            commands[-1].append((kind, match.group(kind)))
        position = match.end()
    if any(not command for command in commands):
        raise Unsupported(f"empty command in {{{{{action}}}}}")
    return commands


def _value(kind: str, text: str, data: Mapping[str, str]) -> str:
    if kind == "string":
        return _string_literal(text)
    if kind == "field":
        key = text[1:]
        if key not in data:
            raise TemplateError(f'map has no entry for key "{key}"')
        return data[key]
    raise Unsupported(f"{text!r} as an argument")


def _execute(action: str, data: Mapping[str, str]) -> str:
    if action.startswith("-") or action.endswith("-"):
        raise Unsupported("trim markers")
    result: str | None = None
    for command in _commands(action):
        (kind, text), *args = command
        if kind == "field" and not args and result is None:
            result = _value(kind, text, data)
            continue
        if kind != "name" or text not in FUNCTIONS:
            raise Unsupported(f"{text!r} in {{{{{action}}}}}")
        values = [_value(arg_kind, arg_text, data) for arg_kind, arg_text in args]
        if result is not None:
            values.append(result)
        result = FUNCTIONS[text](*values)
    assert result is not None
    return result


def render(template: str, data: Mapping[str, str]) -> str:
    return _ACTION.sub(lambda match: _execute(match.group(1), data), template)

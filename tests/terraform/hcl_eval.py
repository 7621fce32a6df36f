"""Evaluate the module's Terraform expressions in Python, the way Terraform would.

No Terraform binary with the AWS provider can run here, so the tests read the module with
python-hcl2 and evaluate its expressions (validations, preconditions, locals, policy documents)
with this small evaluator. It covers the expression language the module uses and stops with
`Unsupported` at anything else, so a construct it does not know fails a test instead of
silently evaluating to something else.

Semantics kept from Terraform:
- `&&` and `||` evaluate both sides (Terraform 1.5 does not short-circuit): an error on either
  side is an error of the whole expression, which is why the module wraps risky parts in try().
- `try()` / `can()` catch evaluation errors (`EvalError`), never `Unsupported`.
- `regex()` fails when nothing matches; it returns the match, the list of unnamed captures, or
  the map of named captures. Terraform uses RE2: the module's patterns stay in the subset that
  RE2 and Python's `re` read alike (no look-arounds, no back-references).
- for expressions iterate maps in key order; `lookup()` works on objects.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2


class EvalError(Exception):
    """An error Terraform would raise while evaluating (try() and can() catch it)."""


class Unsupported(Exception):
    """The evaluator does not implement this construct: extend it, do not catch this."""


# --------------------------------------------------------------------------------------------
# Parsing: expression text -> small tuples ("kind", ...)
# --------------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_BINARY_LEVELS = [
    ["||"],
    ["&&"],
    ["==", "!="],
    ["<=", ">=", "<", ">"],
    ["+", "-"],
    ["*", "/", "%"],
]
_KEYWORDS = {"true": True, "false": False, "null": None}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- scanning helpers
    def _skip(self) -> None:
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch.isspace():
                self.pos += 1
            elif ch == "#" or self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif self.text.startswith("/*", self.pos):
                self.pos = self.text.index("*/", self.pos) + 2
            else:
                return

    def _peek(self, token: str) -> bool:
        self._skip()
        return self.text.startswith(token, self.pos)

    def _accept(self, token: str) -> bool:
        if self._peek(token):
            self.pos += len(token)
            return True
        return False

    def _expect(self, token: str) -> None:
        if not self._accept(token):
            raise Unsupported(f"expected {token!r} at {self.pos} in {self.text!r}")

    def _identifier(self) -> str | None:
        self._skip()
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.text, self.pos)
        if not match:
            return None
        self.pos = match.end()
        return match.group()

    def parse(self) -> tuple:
        node = self.expression()
        self._skip()
        if self.pos != len(self.text):
            raise Unsupported(f"trailing text at {self.pos} in {self.text!r}")
        return node

    # -- grammar
    def expression(self) -> tuple:
        condition = self._binary(0)
        if self._peek("?"):
            self.pos += 1
            true_value = self.expression()
            self._expect(":")
            false_value = self.expression()
            return ("cond", condition, true_value, false_value)
        return condition

    def _binary(self, level: int) -> tuple:
        if level == len(_BINARY_LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            self._skip()
            operator = next(
                (op for op in _BINARY_LEVELS[level] if self.text.startswith(op, self.pos)), None
            )
            # "=>" of a for expression and "==" are not "=" / "<" etc. of this level.
            if operator is None or self.text.startswith("=>", self.pos):
                return left
            self.pos += len(operator)
            left = ("binary", operator, left, self._binary(level + 1))

    def _unary(self) -> tuple:
        if self._peek("!") and not self._peek("!="):
            self.pos += 1
            return ("not", self._unary())
        if self._peek("-"):
            self.pos += 1
            return ("neg", self._unary())
        return self._postfix(self._primary())

    def _postfix(self, node: tuple) -> tuple:
        while True:
            if self._peek("[*]") or self._peek(".*"):
                raise Unsupported(f"splat expressions in {self.text!r}")
            if self._peek("[") and not self._peek("[for "):
                self.pos += 1
                index = self.expression()
                self._expect("]")
                node = ("index", node, index)
            elif self._peek("."):
                self.pos += 1
                self._skip()
                number = re.compile(r"[0-9]+").match(self.text, self.pos)
                if number:
                    self.pos = number.end()
                    node = ("index", node, ("literal", int(number.group())))
                else:
                    name = self._identifier()
                    if name is None:
                        raise Unsupported(f"attribute name expected at {self.pos}: {self.text!r}")
                    node = ("attr", node, name)
            else:
                return node

    def _primary(self) -> tuple:  # noqa: PLR0911 - one return per kind of token
        self._skip()
        if self.pos >= len(self.text):
            raise Unsupported(f"unexpected end of {self.text!r}")
        ch = self.text[self.pos]
        if ch == '"':
            return self._template()
        if self.text.startswith("<<", self.pos):
            raise Unsupported("heredoc expressions")
        if ch.isdigit():
            match = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?").match(self.text, self.pos)
            assert match
            self.pos = match.end()
            text = match.group()
            return ("literal", float(text) if ("." in text or "e" in text.lower()) else int(text))
        if ch == "(":
            self.pos += 1
            inner = self.expression()
            self._expect(")")
            return inner
        if ch == "[":
            return self._list_or_for()
        if ch == "{":
            return self._object_or_for()
        name = self._identifier()
        if name is None:
            raise Unsupported(f"unexpected {ch!r} at {self.pos} in {self.text!r}")
        if name in _KEYWORDS:
            return ("literal", _KEYWORDS[name])
        if self._peek("("):
            self.pos += 1
            args: list[tuple] = []
            while not self._accept(")"):
                args.append(self.expression())
                if self._accept("..."):
                    raise Unsupported("argument expansion (...)")
                self._accept(",")
            return ("call", name, args)
        return ("ref", name)

    def _template(self) -> tuple:
        self.pos += 1  # opening quote
        parts: list[Any] = []
        literal: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise Unsupported(f"unterminated string in {self.text!r}")
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\":
                nxt = self.text[self.pos + 1]
                if nxt not in _ESCAPES:
                    raise Unsupported(f"string escape \\{nxt}")
                literal.append(_ESCAPES[nxt])
                self.pos += 2
            elif self.text.startswith("$${", self.pos) or self.text.startswith("%%{", self.pos):
                literal.append(self.text[self.pos + 1 : self.pos + 3])
                self.pos += 3
            elif self.text.startswith("%{", self.pos):
                raise Unsupported("template directives (%{...})")
            elif self.text.startswith("${", self.pos):
                self.pos += 2
                if literal:
                    parts.append("".join(literal))
                    literal = []
                self._accept("~")
                parts.append(self.expression())
                self._accept("~")
                self._expect("}")
            else:
                literal.append(ch)
                self.pos += 1
        if literal:
            parts.append("".join(literal))
        return ("template", parts)

    def _for_header(self) -> tuple[str | None, str, tuple]:
        self._expect("for")
        first = self._identifier()
        second = self._identifier() if self._accept(",") else None
        self._expect("in")
        collection = self.expression()
        self._expect(":")
        if second is None:
            return None, first or "", collection
        return first, second, collection

    def _list_or_for(self) -> tuple:
        self.pos += 1
        if self._peek("for "):
            key_name, value_name, collection = self._for_header()
            value = self.expression()
            condition = self.expression() if self._accept("if ") else None
            self._expect("]")
            return ("for_list", key_name, value_name, collection, value, condition)
        items: list[tuple] = []
        while not self._accept("]"):
            items.append(self.expression())
            self._accept(",")
        return ("list", items)

    def _object_or_for(self) -> tuple:
        self.pos += 1
        if self._peek("for "):
            key_name, value_name, collection = self._for_header()
            key = self.expression()
            self._expect("=>")
            value = self.expression()
            if self._accept("..."):
                raise Unsupported("grouping mode (...) in for expressions")
            condition = self.expression() if self._accept("if ") else None
            self._expect("}")
            return ("for_map", key_name, value_name, collection, key, value, condition)
        items: list[tuple[tuple, tuple]] = []
        while not self._accept("}"):
            self._skip()
            start = self.pos
            name = self._identifier()
            if name is not None and (self._peek("=") or self._peek(":")) and not self._peek("=="):
                key: tuple = ("literal", name)
            else:
                self.pos = start
                key = self.expression()
            if not (self._accept("=") or self._accept(":")):
                raise Unsupported(f"object key without value in {self.text!r}")
            items.append((key, self.expression()))
            self._accept(",")
        return ("object", items)


def parse_expression(text: str) -> tuple:
    """Parse one Terraform expression (source text) into the evaluator's tuples."""
    return _Parser(text).parse()


def decode(raw: Any) -> tuple:
    """Turn a python-hcl2 value (8.x, quotes kept) into a parsed expression."""
    if isinstance(raw, str):
        if raw.startswith("${") and raw.endswith("}") and not raw.startswith('"'):
            return parse_expression(raw[2:-1])
        return parse_expression(raw)
    if isinstance(raw, list):
        return ("list", [decode(item) for item in raw])
    if isinstance(raw, dict):
        items = []
        for key, value in raw.items():
            if key.startswith("__"):
                continue
            items.append((("literal", key.strip('"')), decode(value)))
        return ("object", items)
    return ("literal", raw)


def literal_string(raw: Any) -> str:
    """A block label or a quoted constant as python-hcl2 gives it, without the quotes."""
    value = evaluate(decode(raw), {})
    if not isinstance(value, str):
        raise Unsupported(f"expected a string literal, got {raw!r}")
    return value


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _tf_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    raise EvalError(f"cannot use {type(value).__name__} {value!r} as a string")


def _tf_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvalError("a bool is not a number")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise EvalError(f"cannot convert {value!r} to a number") from None
        return int(number) if number.is_integer() and "." not in value else number
    raise EvalError(f"cannot convert {value!r} to a number")


def _regex(pattern: str, string: str) -> Any:
    compiled = re.compile(pattern)
    match = compiled.search(_tf_string(string))
    if match is None:
        raise EvalError(f"pattern {pattern!r} did not match {string!r}")
    if compiled.groupindex:
        if len(compiled.groupindex) != compiled.groups:
            raise EvalError("regex() cannot mix named and unnamed capture groups")
        return match.groupdict()
    if compiled.groups:
        return list(match.groups())
    return match.group()


def _replace(string: str, substring: str, replacement: str) -> str:
    if len(substring) > 1 and substring.startswith("/") and substring.endswith("/"):
        python_replacement = re.sub(r"\$(\d+)", r"\\\1", replacement)
        return re.sub(substring[1:-1], python_replacement, string)
    return string.replace(substring, replacement)


def _lookup(collection: Any, key: str, *default: Any) -> Any:
    if isinstance(collection, Mapping) and key in collection:
        return collection[key]
    if default:
        return default[0]
    raise EvalError(f"lookup: no key {key!r} and no default")


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    raise EvalError("coalesce: no non-null, non-empty argument")


def _flatten(values: Any) -> list:
    result: list = []
    for value in values:
        result.extend(_flatten(value) if isinstance(value, list) else [value])
    return result


def _range(*args: Any) -> list:
    numbers = [int(_tf_number(arg)) for arg in args]
    return list(range(*numbers))


def _merge(*maps: Any) -> dict:
    result: dict = {}
    for value in maps:
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise EvalError("merge: arguments must be maps or objects")
        result.update(value)
    return result


def _length(value: Any) -> int:
    if value is None:
        raise EvalError("length: argument must not be null")
    return len(value)


def _split(separator: str, string: str) -> list:
    if string is None:
        raise EvalError("split: argument must not be null")
    return _tf_string(string).split(separator)


def _contains(collection: Any, value: Any) -> bool:
    if collection is None:
        raise EvalError("contains: collection must not be null")
    return value in collection


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "alltrue": all,
    "anytrue": any,
    "coalesce": _coalesce,
    "compact": lambda values: [v for v in values if v is not None and v != ""],
    "concat": lambda *lists: [item for values in lists for item in values],
    "contains": _contains,
    "distinct": lambda values: list(dict.fromkeys(values)),
    "endswith": lambda string, suffix: _tf_string(string).endswith(suffix),
    "flatten": _flatten,
    "floor": lambda number: math.floor(_tf_number(number)),
    "format": lambda spec, *args: re.sub(r"%[sd]", "{}", spec).format(*args),
    "join": lambda separator, values: separator.join(_tf_string(v) for v in values),
    "jsonencode": _json,
    "keys": sorted,
    "length": _length,
    "lookup": _lookup,
    "lower": lambda string: _tf_string(string).lower(),
    "merge": _merge,
    "range": _range,
    "regex": _regex,
    "replace": _replace,
    "sha256": lambda string: hashlib.sha256(_tf_string(string).encode()).hexdigest(),
    "split": _split,
    "startswith": lambda string, prefix: _tf_string(string).startswith(prefix),
    "strcontains": lambda string, substring: substring in _tf_string(string),
    "tolist": list,
    "tonumber": lambda value: None if value is None else _tf_number(value),
    "toset": lambda values: sorted(set(values), key=str),
    "tostring": lambda value: None if value is None else _tf_string(value),
    "upper": lambda string: _tf_string(string).upper(),
    "values": lambda mapping: [mapping[key] for key in sorted(mapping)],
}


def _binary(operator: str, left: Any, right: Any) -> Any:  # noqa: PLR0911 - one per operator
    if operator in ("&&", "||"):
        if not (isinstance(left, bool) and isinstance(right, bool)):
            raise EvalError(f"{operator} needs bools, got {left!r} and {right!r}")
        return (left and right) if operator == "&&" else (left or right)
    if operator == "==":
        return left == right
    if operator == "!=":
        return left != right
    a, b = _tf_number(left), _tf_number(right)
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if operator == "/":
        if b == 0:
            raise EvalError("division by zero")
        return a / b
    if operator == "%":
        return a % b
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _iterate(collection: Any) -> list[tuple[Any, Any]]:
    if isinstance(collection, Mapping):
        return [(key, collection[key]) for key in sorted(collection)]
    if isinstance(collection, list | tuple):
        return list(enumerate(collection))
    raise EvalError(f"cannot iterate over {collection!r}")


def evaluate(node: tuple, scope: Mapping[str, Any]) -> Any:  # noqa: PLR0911, PLR0912
    """Evaluate a parsed expression. `scope` maps root names (var, local, data, aws_...,
    iterator names) to values; a value may be a callable for lazily evaluated locals."""
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "template":
        parts = [part if isinstance(part, str) else evaluate(part, scope) for part in node[1]]
        if len(parts) == 1 and not isinstance(node[1][0], str):
            return parts[0]  # "${x}" is x itself, whatever its type
        if any(part is None for part in parts):
            raise EvalError("null value in a string template")
        return "".join(_tf_string(part) for part in parts)
    if kind == "ref":
        if node[1] not in scope:
            raise Unsupported(f"unknown reference root {node[1]!r}")
        return scope[node[1]]
    if kind == "attr":
        target = evaluate(node[1], scope)
        if isinstance(target, Mapping) and node[2] in target:
            value = target[node[2]]
            return value() if callable(value) else value
        raise EvalError(f"no attribute {node[2]!r} in {target!r}")
    if kind == "index":
        target = evaluate(node[1], scope)
        key = evaluate(node[2], scope)
        try:
            return target[int(_tf_number(key))] if isinstance(target, list) else target[key]
        except (IndexError, KeyError, TypeError):
            raise EvalError(f"invalid index {key!r} into {target!r}") from None
    if kind == "cond":
        condition = evaluate(node[1], scope)
        if not isinstance(condition, bool):
            raise EvalError(f"condition is not a bool: {condition!r}")
        return evaluate(node[2] if condition else node[3], scope)
    if kind == "binary":
        return _binary(node[1], evaluate(node[2], scope), evaluate(node[3], scope))
    if kind == "not":
        value = evaluate(node[1], scope)
        if not isinstance(value, bool):
            raise EvalError(f"! needs a bool, got {value!r}")
        return not value
    if kind == "neg":
        return -_tf_number(evaluate(node[1], scope))
    if kind == "list":
        return [evaluate(item, scope) for item in node[1]]
    if kind == "object":
        return {_tf_string(evaluate(k, scope)): evaluate(v, scope) for k, v in node[1]}
    if kind == "for_list":
        _, key_name, value_name, collection, value, condition = node
        result = []
        for key, item in _iterate(evaluate(collection, scope)):
            inner = {**scope, value_name: item, **({key_name: key} if key_name else {})}
            if condition is None or evaluate(condition, inner):
                result.append(evaluate(value, inner))
        return result
    if kind == "for_map":
        _, key_name, value_name, collection, key_node, value, condition = node
        mapping = {}
        for key, item in _iterate(evaluate(collection, scope)):
            inner = {**scope, value_name: item, **({key_name: key} if key_name else {})}
            if condition is None or evaluate(condition, inner):
                mapping[_tf_string(evaluate(key_node, inner))] = evaluate(value, inner)
        return mapping
    if kind == "call":
        return _call(node[1], node[2], scope)
    raise Unsupported(f"node {kind}")


def _call(name: str, args: list[tuple], scope: Mapping[str, Any]) -> Any:
    if name == "try":
        for arg in args:
            try:
                return evaluate(arg, scope)
            except EvalError:
                continue
        raise EvalError("try: no argument could be evaluated")
    if name == "can":
        try:
            evaluate(args[0], scope)
        except EvalError:
            return False
        return True
    if name not in FUNCTIONS:
        raise Unsupported(f"function {name}()")
    values = [evaluate(arg, scope) for arg in args]
    try:
        return FUNCTIONS[name](*values)
    except (TypeError, ValueError, AttributeError, re.error) as e:
        raise EvalError(f"{name}(): {e}") from e


# --------------------------------------------------------------------------------------------
# Variable types: optional() defaults and conversion of the values a test passes in
# --------------------------------------------------------------------------------------------


def convert(value: Any, type_node: tuple) -> Any:  # noqa: PLR0911, PLR0912 - one case per type
    """Convert a value to a variable's type as Terraform does for module inputs: fill in
    optional() attributes (with their defaults), check attributes and element types."""
    if value is None:
        return None
    if type_node[0] == "ref":
        primitive = type_node[1]
        if primitive == "string":
            return _tf_string(value)
        if primitive == "number":
            return _tf_number(value)
        if primitive == "bool":
            if isinstance(value, bool):
                return value
            raise EvalError(f"{value!r} is not a bool")
        if primitive == "any":
            return value
        raise Unsupported(f"type {primitive}")
    if type_node[0] != "call":
        raise Unsupported(f"type expression {type_node!r}")
    name, args = type_node[1], type_node[2]
    if name in ("list", "set"):
        if not isinstance(value, list | tuple):
            raise EvalError(f"{value!r} is not a list")
        return [convert(item, args[0]) for item in value]
    if name == "map":
        if not isinstance(value, Mapping):
            raise EvalError(f"{value!r} is not a map")
        return {key: convert(item, args[0]) for key, item in value.items()}
    if name == "object":
        if not isinstance(value, Mapping):
            raise EvalError(f"{value!r} is not an object")
        attributes = {evaluate(k, {}): v for k, v in args[0][1]}
        unknown = set(value) - set(attributes)
        if unknown:
            raise EvalError(f"unexpected attributes {sorted(unknown)}")
        result = {}
        for attribute, attribute_type in attributes.items():
            optional = attribute_type[0] == "call" and attribute_type[1] == "optional"
            inner_type = attribute_type[2][0] if optional else attribute_type
            if attribute in value:
                result[attribute] = convert(value[attribute], inner_type)
            elif optional:
                default = attribute_type[2][1] if len(attribute_type[2]) > 1 else None
                result[attribute] = (
                    None if default is None else convert(evaluate(default, {}), inner_type)
                )
            else:
                raise EvalError(f"attribute {attribute!r} is required")
        return result
    raise Unsupported(f"type {name}()")


# --------------------------------------------------------------------------------------------
# The module: variables, locals, blocks
# --------------------------------------------------------------------------------------------


@dataclass
class Variable:
    name: str
    block: dict

    @property
    def type_node(self) -> tuple | None:
        return decode(self.block["type"]) if "type" in self.block else None

    def default(self) -> Any:
        if "default" not in self.block:
            raise EvalError(f"variable {self.name} has no default")
        value = evaluate(decode(self.block["default"]), {})
        return value if self.type_node is None else convert(value, self.type_node)

    @property
    def validations(self) -> list[dict]:
        return self.block.get("validation", [])


@dataclass
class Module:
    """All `*.tf` files of one module directory, as python-hcl2 reads them."""

    path: Path
    files: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for tf_file in sorted(self.path.glob("*.tf")):
            with tf_file.open() as handle:
                self.files[tf_file.name] = hcl2.load(handle)

    def _blocks(self, kind: str) -> list[tuple[str, dict]]:
        return [
            (file_name, block)
            for file_name, content in self.files.items()
            for block in content.get(kind, [])
        ]

    @property
    def variables(self) -> dict[str, Variable]:
        result = {}
        for _, block in self._blocks("variable"):
            for label, body in block.items():
                name = label.strip('"')
                result[name] = Variable(name, body)
        return result

    @property
    def locals(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for _, block in self._blocks("locals"):
            result.update({k: v for k, v in block.items() if not k.startswith("__")})
        return result

    @property
    def outputs(self) -> dict[str, dict]:
        return {
            label.strip('"'): body
            for _, block in self._blocks("output")
            for label, body in block.items()
        }

    def labelled(self, kind: str) -> dict[tuple[str, str], dict]:
        """`resource` or `data` blocks by (type, name)."""
        result = {}
        for _, block in self._blocks(kind):
            for type_label, named in block.items():
                for name_label, body in named.items():
                    if not name_label.startswith("__"):
                        result[(type_label.strip('"'), name_label.strip('"'))] = body
        return result

    def scope(
        self,
        variables: Mapping[str, Any] | None = None,
        references: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An evaluation scope: every variable at its default unless given (converted to its
        type), locals evaluated on first use, and `references` for data sources and resource
        attributes (e.g. {"data": {...}, "aws_iam_role": {"this": [{...}]}})."""
        given = dict(variables or {})
        declared = self.variables
        unknown = set(given) - set(declared)
        if unknown:
            raise Unsupported(f"no such variables: {sorted(unknown)}")
        var_values = {}
        for name, variable in declared.items():
            if name in given:
                type_node = variable.type_node
                value = given[name]
                var_values[name] = value if type_node is None else convert(value, type_node)
            elif "default" in variable.block:
                var_values[name] = variable.default()
        scope: dict[str, Any] = {"var": var_values, "path": {"module": str(self.path)}}
        scope.update(references or {})
        raw_locals = self.locals
        cache: dict[str, Any] = {}

        def local(name: str) -> Callable[[], Any]:
            def value() -> Any:
                if name not in cache:
                    cache[name] = evaluate(decode(raw_locals[name]), scope)
                return cache[name]

            return value

        scope["local"] = {name: local(name) for name in raw_locals}
        return scope

    def validate(self, name: str, value: Any) -> list[str]:
        """Run variable `name`'s validation blocks on `value` (converted to its type first) and
        return the error messages of those that reject it. A condition that errors instead of
        returning false raises EvalError: Terraform would then show that error, not the message."""
        variable = self.variables[name]
        if variable.type_node is not None:
            value = convert(value, variable.type_node)
        scope = {"var": {name: value}}
        failed = []
        for validation in variable.validations:
            result = evaluate(decode(validation["condition"]), scope)
            if not isinstance(result, bool):
                raise EvalError(f"validation of {name} returned {result!r}, not a bool")
            if not result:
                failed.append(evaluate(decode(validation["error_message"]), {}))
        return failed

    def preconditions(
        self,
        kind: str,
        address: tuple[str, str],
        variables: Mapping[str, Any] | None = None,
        references: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Evaluate the `lifecycle { precondition }` blocks of a resource or data block for these
        inputs; return the error messages of the failing ones. Like Terraform, a block whose
        count is 0 has no instance to check."""
        body = self.labelled(kind)[address]
        scope = self.scope(variables, references)
        if "count" in body and evaluate(decode(body["count"]), scope) == 0:
            return []
        failed = []
        for lifecycle in body.get("lifecycle", []):
            for precondition in lifecycle.get("precondition", []):
                if not evaluate(decode(precondition["condition"]), scope):
                    failed.append(evaluate(decode(precondition["error_message"]), scope))
        return failed

    def local(
        self,
        name: str,
        variables: Mapping[str, Any] | None = None,
        references: Mapping[str, Any] | None = None,
    ) -> Any:
        """The value of `local.<name>` for these inputs."""
        return self.scope(variables, references)["local"][name]()

"""`make manifests`: write each example's manifests/rendered/ from its templates.

The committed copies are what `terraform apply` of the example would write to
manifests/generated/ with the example's default variables in account 123456789012 (see
offline_apply.py), plus a header saying so. They are there to be read and validated (CI runs the
ESO CRD validator on them); `tests/examples/test_manifests.py` fails when they are stale.

    python -m tests.examples.render          # rewrite every example's manifests/rendered/
    python -m tests.examples.render --check  # only report stale or missing copies (exit 1)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.examples.offline_apply import EXAMPLE_ACCOUNT_ID, Example, example_names

RENDERED = Path("manifests") / "rendered"
HEADER = (
    "# Rendered by `make manifests` from this example's templates/, with its default variables in\n"
    f"# account {EXAMPLE_ACCOUNT_ID}. `terraform apply` writes your copy to manifests/generated/.\n"
)


def expected_files(example: Example) -> dict[Path, str]:
    """Relative path under the example -> the committed copy's text."""
    return {RENDERED / name: HEADER + text for name, text in sorted(example.manifests().items())}


def committed_files(example: Example) -> dict[Path, str]:
    root = example.path / RENDERED
    return {
        path.relative_to(example.path): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def stale(example: Example) -> list[str]:
    """Differences between the committed copies and a fresh render, one line each."""
    expected, committed = expected_files(example), committed_files(example)
    problems = [f"{path}: missing" for path in expected if path not in committed]
    problems += [
        f"{path}: not rendered by any template" for path in committed if path not in expected
    ]
    problems += [
        f"{path}: differs from a fresh render"
        for path, text in expected.items()
        if path in committed and committed[path] != text
    ]
    return [f"examples/{example.name}/{problem}" for problem in problems]


def write(example: Example) -> None:
    expected = expected_files(example)
    for path in committed_files(example):
        if path not in expected:
            (example.path / path).unlink()
    for path, text in expected.items():
        target = example.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale copies, change nothing")
    args = parser.parse_args(argv)
    problems: list[str] = []
    for name in example_names():
        example = Example(name)
        if args.check:
            problems += stale(example)
        else:
            write(example)
            print(f"examples/{name}/{RENDERED}: {len(expected_files(example))} file(s)")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("the rendered manifests are stale: run `make manifests`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

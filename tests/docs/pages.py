"""Where the documentation lives, for the tests that check it: the README (what it is, whether it
fits, how to use it, the generated tables), the reference pages in docs/, the benchmark's
README, CONTRIBUTING.md, and each example's README."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"


def reference_pages() -> list[Path]:
    """docs/**/*.md, sorted."""
    return sorted(DOCS.glob("**/*.md"))


def pages() -> list[Path]:
    """The repository's own Markdown: README, docs/, CONTRIBUTING.md, bench/README.md."""
    return [README, *reference_pages(), REPO / "CONTRIBUTING.md", REPO / "bench" / "README.md"]


def example_readmes() -> list[Path]:
    return sorted((REPO / "examples").glob("*/README.md"))


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def headings(text: str) -> list[tuple[int, str, int, int]]:
    """(level, title, where its line starts, where the text under it starts) of every Markdown
    heading outside code blocks."""
    found = []
    fenced = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) (.+?)\s*$", line)):
            found.append((len(match[1]), match[2], offset, offset + len(line)))
        offset += len(line)
    return found


def section(text: str, title: str, level: int = 2) -> str:
    """The text under the heading `title` of that level, up to the next heading of that level or
    higher (headings inside code blocks do not count)."""
    marks = headings(text)
    for index, (depth, name, _, start) in enumerate(marks):
        if depth == level and name == title:
            ends = [line for d, _, line, _ in marks[index + 1 :] if d <= level]
            return text[start : ends[0] if ends else len(text)]
    raise AssertionError(f"no '{'#' * level} {title}' section")

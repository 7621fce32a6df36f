"""The README answers the adoption question first and stays short; the reference material lives
in docs/ (the benchmark in bench/README.md, development in CONTRIBUTING.md), each page linked from
the README, and every relative link of the docs leads to a file that exists, and to a heading of
it when it names one."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.docs.pages import README, REPO, example_readmes, headings, pages, section, text_of

TEXT = text_of(README)
LINES = TEXT.splitlines()
MAX_README_LINES = 600
FIRST_SCREENS = 60  # what a reader sees before scrolling far: the title, the diagram, the answer


def test_the_readme_stays_short():
    assert len(LINES) < MAX_README_LINES, (
        f"README.md has {len(LINES)} lines: move reference material to docs/"
    )


def test_the_readme_answers_the_adoption_question_first():
    top = "\n".join(LINES[:FIRST_SCREENS])
    assert "```mermaid" in top, "the diagram stays at the top"
    assert "\n## Is this for me?\n" in top
    choices = section(TEXT, "Is this for me?")
    rows = [line for line in choices.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 5, "a header and one line for each way to pull from ECR"
    for option in (
        "EKS node role",
        "`ecr-credential-provider`",
        "`ECRAuthorizationToken`",
        "this module",
    ):
        assert option in choices, option
    # One line of cost, its number checked against docs/cost.md by tests/docs/test_cost.py.
    (cost,) = [line for line in top.splitlines() if line.startswith("**Cost**")]
    assert re.search(r"about \$\d+\.\d\d a month", cost), cost
    assert "(docs/cost.md)" in top


def test_the_readme_keeps_the_module_shape():
    titles = [title for level, title, *_ in headings(TEXT) if level == 2]
    expected = [
        "Is this for me?",
        "Quick start",
        "Usage",
        "Examples",
        "Operations",
        "Troubleshooting",
        "Documentation",
        "Requirements",
        "Resources",
        "Inputs",
        "Outputs",
        "License",
    ]
    assert [title for title in titles if title in expected] == expected
    assert TEXT.index("<!-- BEGIN_TF_DOCS -->") < TEXT.index("## Resources")


def test_every_page_of_docs_and_the_moved_sections_are_linked_from_the_readme():
    linked = {target for target, _ in links(TEXT, README)}
    moved = [
        *(path.relative_to(REPO).as_posix() for path in sorted((REPO / "docs").glob("*.md"))),
        "bench/README.md",
        "CONTRIBUTING.md",
    ]
    assert len(moved) >= 10
    assert [page for page in moved if page not in linked] == []


def test_the_readme_speaks_to_users_not_to_the_benchmark():
    # The benchmark's own vocabulary (its baseline, its targets) belongs to bench/README.md.
    for phrase in ("seed", "target missed", "**missed**", "BEGIN_BENCH"):
        assert phrase not in TEXT, phrase


# ---- links ------------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SCHEMES = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def without_code(markdown: str) -> str:
    """The text outside fenced code blocks and inline code spans (links there are not links)."""
    markdown = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", markdown, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", markdown)


def links(text: str, page: Path) -> list[tuple[str, str]]:
    """(target file relative to the repository, anchor or '') of each relative link of a page's
    text."""
    found = []
    for target in LINK.findall(without_code(text)):
        if SCHEMES.match(target):
            continue
        file, _, anchor = target.partition("#")
        resolved = (page.parent / unquote(file)).resolve() if file else page.resolve()
        found.append((resolved.relative_to(REPO).as_posix(), anchor))
    return found


def slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"[`*_]|<[^>]+>", "", title).strip().lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page: its headings' slugs (repeats numbered) and the
    `<a name="...">` targets (the generated Inputs/Outputs tables)."""
    text = text_of(path)
    seen: dict[str, int] = {}
    found = set()
    for _, title, *_ in headings(text):
        base = slug(title)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found | set(re.findall(r'<a name="([^"]+)"', text))


def broken(text: str, page: Path) -> list[str]:
    problems = []
    for target, anchor in links(text, page):
        if not (REPO / target).exists():
            problems.append(f"{target} does not exist")
        elif anchor and target.endswith(".md") and anchor not in anchors(REPO / target):
            problems.append(f"{target} has no heading for #{anchor}")
    return problems


@pytest.mark.parametrize(
    "page", [*pages(), *example_readmes()], ids=lambda path: path.relative_to(REPO).as_posix()
)
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken(text_of(page), page) == []


def test_the_link_checker_sees_what_is_broken() -> None:
    assert slug("The expiry alarm's rule") == "the-expiry-alarms-rule"
    assert slug("Schedule or native rotation?") == "schedule-or-native-rotation"
    assert slug("The command line: `ecr-token-rotator`") == "the-command-line-ecr-token-rotator"
    assert "quick-start" in anchors(README)
    assert "input_name" in anchors(README)  # the generated tables' <a name="...">
    page = REPO / "docs" / "page.md"
    text = (
        "[a](nowhere.md) [b](../README.md#no-such-heading) [c](../README.md#quick-start) "
        "`[d](ignored.md)` [e](https://example.com/x.md) [f](#usage)"
    )
    assert broken(text, page) == [
        "docs/nowhere.md does not exist",
        "README.md has no heading for #no-such-heading",
        "docs/page.md does not exist",
    ]

"""Every pin in the docs resolves, and the CHANGELOG claims no release that does not exist.

The convention (README, "Usage"): while the repository has no release tag, every pin is
the placeholder `<commit-sha>` (Terraform's git `ref` takes a full commit SHA, and the README
says how to find one); from the first release on, every pin is the newest release tag `vX.Y.Z`.
A pin is what follows `?ref=` (Terraform's git sources) or `.git@` (pip's VCS URLs) in any
tracked Markdown or Terraform file outside tests/. A CHANGELOG release heading `## [X.Y.Z]` and
the tag `vX.Y.Z` exist together or not at all.

Tags come from git: run where the checkout has its tags (a clone does; a shallow CI fetch may
need `git fetch --tags`). Outside a git checkout the test skips and says why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = "<commit-sha>"
PIN = re.compile(r"(?:\?ref=|\.git@)([^\s\"'`&)#]+)")
RELEASE_TAG = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
DOCUMENTS = ("*.md", "*.tf", "*.tftpl")


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def release_tags() -> list[str]:
    """The repository's release tags, newest first."""
    if shutil.which("git") is None:
        pytest.skip("doc pins: no `git` on PATH to list the repository's tags")
    try:
        git("rev-parse", "--is-inside-work-tree")
    except subprocess.CalledProcessError:
        pytest.skip(f"doc pins: {REPO} is not a git checkout, so its tags are unknown")
    tags = [tag for tag in git("tag", "--list").split() if RELEASE_TAG.fullmatch(tag)]
    return sorted(tags, key=lambda tag: tuple(map(int, RELEASE_TAG.fullmatch(tag).groups())))[::-1]


def documents() -> list[Path]:
    listed = git("ls-files", "--", *DOCUMENTS).splitlines()
    return [REPO / path for path in listed if not path.startswith("tests/")]


def pins(text: str) -> list[str]:
    return PIN.findall(text)


def problems(found: dict[str, list[str]], tags: list[str]) -> list[str]:
    """What is wrong with the pins found in each document, given the release tags."""
    expected = tags[0] if tags else PLACEHOLDER
    why = (
        f"the newest release tag is {expected}"
        if tags
        else f"no release is tagged yet: pin {PLACEHOLDER} (README, Usage)"
    )
    return [
        f"{path}: pin {pin!r}: {why}"
        for path, pinned in found.items()
        for pin in pinned
        if pin != expected
    ]


def test_every_doc_pin_resolves(release_tags):
    found = {str(path.relative_to(REPO)): pins(path.read_text()) for path in documents()}
    assert sum(map(len, found.values())) >= 5, "the README and the examples show how to pin"
    assert problems(found, release_tags) == []


def test_the_checker_refuses_a_tag_that_does_not_exist_and_a_stale_placeholder():
    text = 'source = "git::https://example.com/x.git?ref=v0.1.0"\n`pip install "git+https://x.git@main#subdirectory=y"`'
    assert pins(text) == ["v0.1.0", "main"]
    assert len(problems({"README.md": pins(text)}, [])) == 2
    assert problems({"README.md": [PLACEHOLDER]}, []) == []
    assert problems({"README.md": [PLACEHOLDER]}, ["v1.0.0"]) != []  # released: pin the tag
    assert problems({"README.md": ["v0.9.0"]}, ["v1.0.0", "v0.9.0"]) != []  # not the newest
    assert problems({"README.md": ["v1.0.0"]}, ["v1.0.0", "v0.9.0"]) == []


def test_the_readme_explains_the_placeholder():
    readme = (REPO / "README.md").read_text()
    quick_start = readme[readme.index("## Quick start") : readme.index("## Examples")]
    explanation = " ".join(quick_start.split())
    assert f"`{PLACEHOLDER}`" in explanation
    assert "`git checkout` accepts, a full commit SHA included" in explanation
    assert "40-character SHA" in explanation
    assert "leave out `depth`" in explanation  # a shallow clone cannot fetch a commit


def test_changelog_releases_are_the_repositorys_release_tags(release_tags):
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert re.search(r"^## \[Unreleased\]$", changelog, re.MULTILINE)
    headings = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert {f"v{version}" for version in headings} == set(release_tags)
    links = re.findall(r"^\[[^\]]+\]: (\S+)$", changelog, re.MULTILINE)
    linked = {tag for link in links for tag in re.findall(r"v\d+\.\d+\.\d+", link)}
    assert linked <= set(release_tags), "a CHANGELOG link names a tag that does not exist"

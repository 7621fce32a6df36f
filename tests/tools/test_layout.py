"""tests/ holds tests and what they use; the developer tooling the Makefile runs lives in tools/
(and the benchmark in bench/), and each path CONTRIBUTING.md names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
MAKEFILE = (REPO / "Makefile").read_text()
OWN_PACKAGES = {"tools", "bench", "tests", "ecr_token_rotator"}


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def test_the_makefile_and_ci_run_nothing_from_tests_but_the_tests():
    # Helpers under tests/ may be programs of their own (a process a test starts), never tools.
    for path in (REPO / "Makefile", REPO / ".ci" / "run"):
        text = path.read_text()
        assert not re.search(r"-m tests\b|python3? tests/", text), path.name


def test_every_helper_under_tests_is_used_by_a_test():
    sources = {path: path.read_text() for path in TESTS.rglob("*.py")}
    helpers = [
        path
        for path in sources
        if not path.name.startswith("test_") and path.name not in ("conftest.py", "__init__.py")
    ]
    for helper in helpers:
        name = module_name(helper)
        package, _, leaf = name.rpartition(".")
        imports = (
            rf"from {re.escape(name)} import",
            rf"import {re.escape(name)}\b",
            rf"from {re.escape(package)} import [^\n]*\b{leaf}\b",
        )
        pattern = re.compile("|".join(imports))
        users = [path for path, text in sources.items() if path != helper and pattern.search(text)]
        assert users, f"{helper.relative_to(REPO)} is used by no test: tooling goes in tools/"


def test_the_makefile_runs_this_repositorys_programs_from_tools_or_bench():
    modules = re.findall(r"\$\(PY\) -m ([A-Za-z_][\w.]*)", MAKEFILE)
    own = [module for module in modules if module.split(".")[0] in OWN_PACKAGES]
    assert own, "the Makefile runs tools/ programs"
    for module in own:
        assert module.split(".")[0] in ("tools", "bench"), module
        path = REPO.joinpath(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module


def test_contributing_names_the_layout():
    development = (REPO / "CONTRIBUTING.md").read_text()
    for folder in ("tools/", "tests/", "bench/"):
        assert f"`{folder}" in development, folder
    for path in re.findall(r"`((?:tools|tests|bench)/[\w./-]*)`", development):
        assert (REPO / path).exists(), path

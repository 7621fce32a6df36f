"""`make help` shows what each target really does (variables expanded, names aligned), and the
shared validators run from their own virtualenv, which `make` skips cleanly without ../shared."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKEFILE = (REPO / "Makefile").read_text()

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no `make` on PATH")


def make(*args: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    ).stdout


def described_targets() -> list[str]:
    return re.findall(r"^([a-z][a-z-]*):.*## ", MAKEFILE, re.MULTILINE)


def test_help_lists_every_described_target_in_order():
    lines = make("help").splitlines()
    assert [line.split()[0] for line in lines] == described_targets()


def test_help_expands_the_variables_its_descriptions_mention():
    text = make("help")
    assert "$(" not in text
    (package,) = [line for line in text.splitlines() if line.split()[0] == "package"]
    assert "build dist/ecr-token-rotator.zip " in package  # $(ZIP)
    # The value make has, including one given on the command line.
    assert "build other/it's.zip " in make("help", "ZIP=other/it's.zip")


def test_help_aligns_descriptions_after_the_longest_name():
    lines = make("help").splitlines()
    width = max(map(len, described_targets()))
    for line in lines:
        name = line.split()[0]
        assert line.startswith(f"  {name}")
        assert line[2 + width : 4 + width] == "  ", line
        assert line[4 + width] != " ", line


def test_the_shared_validators_have_their_own_virtualenv():
    # .venv holds requirements-dev.txt, pinned; ../shared/tools/requirements.txt is not pinned.
    for target in ("tf-validate", "validate-examples"):
        recipe = make("-n", target, "SHARED=../shared")
        assert ".venv/bin/python" not in recipe, target
    venv = make("-n", "-B", "venv", "SHARED=../shared")
    assert "-r requirements-dev.txt" in venv
    assert "tools/requirements.txt" not in venv


def test_shared_venv_installs_from_shared_requirements(tmp_path):
    shared = tmp_path / "shared"
    (shared / "tools").mkdir(parents=True)
    (shared / "tools" / "requirements.txt").write_text("PyYAML>=6\n")
    recipe = make("-n", "shared-venv", f"SHARED={shared}", "SHARED_VENV=" + str(tmp_path / "v"))
    assert f"-m venv {tmp_path / 'v'}" in recipe
    assert (
        f"pip install --quiet --disable-pip-version-check -r {shared}/tools/requirements.txt"
        in (recipe)
    )


@pytest.mark.parametrize("target", ["shared-venv", "tf-validate"])
def test_without_shared_the_shared_targets_skip_and_say_why(tmp_path, target):
    venv = tmp_path / "venv"
    output = make(target, f"SHARED={tmp_path / 'absent'}", f"SHARED_VENV={venv}")
    assert f"skipped: {tmp_path / 'absent'}/tools/" in output
    assert "is absent" in output
    assert not venv.exists()

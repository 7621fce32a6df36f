"""The harness runs ../shared's setup.sh only when the offline provider is missing or stale:
setup.sh deletes and rewrites the mirror, which breaks a terraform of another process that is
using it (make test and make scan-iam run side by side in CI)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.terraform import harness

PINS = "grpcio==1.0 protobuf==2.0"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ../shared with a setup.sh, and an OFFLINE_DIR as that setup.sh leaves it."""
    tool = tmp_path / "shared" / "tools" / "offline_aws_provider"
    tool.mkdir(parents=True)
    (tool / "setup.sh").write_text(f'#!/usr/bin/env bash\nPINS="{PINS}"\n')
    directory = tmp_path / "offline"
    (directory / "venv").mkdir(parents=True)
    (directory / "venv" / ".pins").write_text(PINS + "\n")
    (directory / "terraformrc").write_text("provider_installation {}\n")
    launchers = [("aws", version) for version in harness.PROVIDER_VERSIONS.values()]
    for name, version in [*launchers, ("local", "2.5.2")]:
        folder = directory / "mirror" / "registry.terraform.io" / "hashicorp" / name / version
        (folder / "linux_amd64").mkdir(parents=True)
        launcher = folder / "linux_amd64" / f"terraform-provider-{name}_v{version}_x5"
        launcher.write_text(f'exec python "{tool}/provider.py" {name} {version}\n')
    monkeypatch.setattr(harness, "OFFLINE_PROVIDER", tool)
    monkeypatch.setattr(harness, "OFFLINE_DIR", directory)
    return directory


def test_a_complete_setup_is_used_as_it_is(layout):
    assert harness.offline_provider_ready()


def test_changed_pins_need_a_setup(layout):
    (layout / "venv" / ".pins").write_text("grpcio==0.9\n")
    assert not harness.offline_provider_ready()


def test_a_moved_shared_folder_needs_a_setup(layout, monkeypatch):
    monkeypatch.setattr(harness, "OFFLINE_PROVIDER", layout.parent / "elsewhere")
    assert not harness.offline_provider_ready()


@pytest.mark.parametrize("missing", ["terraformrc", "mirror", "venv"])
def test_anything_missing_needs_a_setup(layout, missing):
    target = layout / missing
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    assert not harness.offline_provider_ready()

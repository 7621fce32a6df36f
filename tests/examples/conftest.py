"""Every example applied by the real terraform, offline, once per session and provider major
(tools/terraform/harness.py), in the background from the end of collection on
(tests/background.py); skipped where terraform or ../shared is absent. ESO's template engine v2,
built once per session from Debian's Go and sprig (tests/examples/eso_engine); skipped where they
are absent."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from tests import background
from tests.examples.eso_engine import Engine, EngineUnavailable, build
from tools.terraform.harness import (
    MAJORS,
    AppliedExample,
    TerraformFailed,
    Unavailable,
    apply_example,
    example_names,
    offline_terraform,
)

Applied = Callable[[str, int], AppliedExample]


def apply_every_example(major: int) -> dict[str, AppliedExample | Exception]:
    """init, validate, plan, apply and a plan without changes of each example on one major."""
    offline_terraform()  # Unavailable: every test that needs an example skips
    results: dict[str, AppliedExample | Exception] = {}
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-examples-") as workdir:
        for name in example_names():
            try:
                results[name] = apply_example(name, major, Path(workdir))
            except (TerraformFailed, AssertionError) as e:
                results[name] = e
    return results


background.register("applied", *(partial(apply_every_example, major) for major in MAJORS))


@pytest.fixture(scope="session")
def applied() -> Applied:
    """applied(example, major): the example after init, validate, plan, apply and a plan without
    changes (every example on both majors, one worker thread per major)."""
    try:
        by_major = dict(zip(MAJORS, background.results("applied"), strict=True))
    except Unavailable as e:
        pytest.skip(f"examples under Terraform: {e}")

    def get(name: str, major: int) -> AppliedExample:
        result = by_major[major][name]
        if isinstance(result, Exception):
            raise result
        return result

    return get


@pytest.fixture(scope="session")
def eso_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """ESO's template engine v2 (Go text/template with sprig), compiled once per session."""
    try:
        return build(tmp_path_factory.mktemp("eso-engine"))
    except EngineUnavailable as e:
        pytest.skip(f"ESO's template engine (Go + sprig): {e}")

"""The module's `terraform test` suites on both provider majors, offline
(tools/terraform/harness.py), in the background from the end of collection on
(tests/background.py); skipped where terraform or ../shared is absent."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import pytest

from tests import background
from tools.terraform.harness import MAJORS, TerraformFailed, Unavailable, run_module_tests


def module_tests(major: int) -> str | TerraformFailed:
    """`terraform validate` and `terraform test` of the module on one major: the output, or how
    it failed."""
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-terraform-test-") as workdir:
        try:
            return run_module_tests(major, Path(workdir))
        except TerraformFailed as e:
            return e


background.register("module_test_outcomes", *(partial(module_tests, major) for major in MAJORS))


@pytest.fixture(scope="session")
def module_test_outcomes() -> dict[int, str | TerraformFailed]:
    """{major: the output of terraform test, or TerraformFailed}."""
    try:
        return dict(zip(MAJORS, background.results("module_test_outcomes"), strict=True))
    except Unavailable as e:
        pytest.skip(f"terraform test: {e}")

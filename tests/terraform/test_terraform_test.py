"""`terraform test` of the module's suites (tests/terraform/*.tftest.hcl and provider-<major>/),
on hashicorp/aws 5.100.0 and 6.47.0, offline (tools/terraform/harness.py). The suites hold the
module's own tests: every validation and precondition, each mode and toggle, the IAM policies as
rendered. Skipped where terraform or ../shared is absent; `make test-tf` shows their output."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.terraform.harness import (
    MAJORS,
    PROVIDER_VERSIONS,
    TerraformFailed,
    Unavailable,
    offline_terraform,
    run_module_tests,
    suite_directories,
)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str | TerraformFailed]:
    """Both majors at once (one thread and one provider process each)."""
    try:
        offline_terraform()
    except Unavailable as e:
        pytest.skip(f"terraform test: {e}")
    workdir: Path = tmp_path_factory.mktemp("terraform-test")

    def run(major: int) -> str | TerraformFailed:
        try:
            return run_module_tests(major, workdir)
        except TerraformFailed as e:
            return e

    with ThreadPoolExecutor(max_workers=len(MAJORS)) as pool:
        return dict(zip(MAJORS, pool.map(run, MAJORS), strict=True))


@pytest.mark.parametrize("major", MAJORS, ids=[f"aws{PROVIDER_VERSIONS[m]}" for m in MAJORS])
def test_terraform_test_passes(outcomes, major):
    outcome = outcomes[major]
    if isinstance(outcome, TerraformFailed):
        pytest.fail(str(outcome), pytrace=False)
    summaries = re.findall(r"^Success! (\d+) passed, 0 failed\.", outcome, re.MULTILINE)
    assert len(summaries) == len(suite_directories(major)), outcome
    assert all(int(passed) > 0 for passed in summaries), outcome

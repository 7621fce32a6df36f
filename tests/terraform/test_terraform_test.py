"""`terraform test` of the module's suites (tests/terraform/*.tftest.hcl and provider-<major>/),
on hashicorp/aws 5.100.0 and 6.47.0, offline (tools/terraform/harness.py). The suites hold the
module's own tests: every validation and precondition, each mode and toggle, the IAM policies as
rendered. Skipped where terraform or ../shared is absent; `make test-tf` shows their output."""

from __future__ import annotations

import re

import pytest

from tools.terraform.harness import MAJORS, PROVIDER_VERSIONS, TerraformFailed, suite_directories


@pytest.mark.parametrize("major", MAJORS, ids=[f"aws{PROVIDER_VERSIONS[m]}" for m in MAJORS])
def test_terraform_test_passes(module_test_outcomes, major):
    outcome = module_test_outcomes[major]
    if isinstance(outcome, TerraformFailed):
        pytest.fail(str(outcome), pytrace=False)
    summaries = re.findall(r"^Success! (\d+) passed, 0 failed\.", outcome, re.MULTILINE)
    assert len(summaries) == len(suite_directories(major)), outcome
    assert all(int(passed) > 0 for passed in summaries), outcome

"""Each example is a root module that applies: init, validate, plan, apply, then a plan that
shows no changes, on both provider majors; and what it writes is what is committed."""

from __future__ import annotations

import pytest

from tools.terraform.harness import MAJORS, PROVIDER_VERSIONS, example_names, stale_rendered

CASES = [(name, major) for name in example_names() for major in MAJORS]


@pytest.mark.parametrize(
    ("name", "major"), CASES, ids=[f"{n}-aws{PROVIDER_VERSIONS[m]}" for n, m in CASES]
)
def test_the_example_applies_and_then_plans_no_changes(applied, name, major):
    result = applied(name, major)
    assert result.log[-1] == "terraform plan -detailed-exitcode: no changes"
    assert result.generated, "the example writes its manifests (local_file)"


@pytest.mark.parametrize(
    ("name", "major"), CASES, ids=[f"{n}-aws{PROVIDER_VERSIONS[m]}" for n, m in CASES]
)
def test_the_committed_rendered_manifests_are_what_apply_writes(applied, name, major):
    assert stale_rendered(applied(name, major)) == [], "run `make manifests` and commit them"

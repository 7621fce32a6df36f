"""Every module-call snippet of the docs planned by the real terraform, offline, once per session
and provider major (tools/terraform/snippets.py), in the background from the end of collection on
(tests/background.py); skipped where terraform or ../shared is absent."""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path

import pytest

from tests import background
from tools.terraform.harness import MAJORS, Unavailable, offline_terraform
from tools.terraform.snippets import plan_doc_snippets


def plan_snippets(major: int) -> dict[str, str | None]:
    """{snippet: None, or why it does not plan} on one major."""
    offline_terraform()  # Unavailable: every test that needs the plans skips
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-snippets-") as workdir:
        return plan_doc_snippets(major, Path(workdir))


background.register("snippet_plans", *(partial(plan_snippets, major) for major in MAJORS))


@pytest.fixture(scope="session")
def snippet_plans() -> dict[int, dict[str, str | None]]:
    """{major: {snippet name: None when it plans, else what Terraform said}}."""
    try:
        return dict(zip(MAJORS, background.results("snippet_plans"), strict=True))
    except Unavailable as e:
        pytest.skip(f"the docs' module calls under Terraform: {e}")

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
from typing import Any

import pytest

from tests import background
from tests.conftest import Harness
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
# What the function publishes in the `published` fixture: two regions (two tokens) and two
# registry accounts, four hosts in the function's order (regions outer).
REGIONS = ("eu-central-1", "eu-west-1")
REGISTRY_IDS = ("123456789012", "210987654321")
HOSTS = [
    f"{account}.dkr.ecr.{region}.amazonaws.com" for region in REGIONS for account in REGISTRY_IDS
]


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

# examples/gitops with four registry hosts (two regions x two accounts, so two tokens) and Argo CD's
# native OCI credentials: one credential per host must get its own region's login.
GITOPS_VARIANT = {
    "ecr_regions": ["eu-central-1", "eu-west-1"],
    "ecr_registry_ids": ["123456789012", "210987654321"],
    "argocd_repository_type": "oci",
}


def apply_gitops_variant() -> AppliedExample:
    offline_terraform()  # Unavailable: the tests that need the variant skip
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-gitops-") as workdir:
        return apply_example("gitops", 6, Path(workdir), GITOPS_VARIANT)


background.register("gitops_variant", apply_gitops_variant)


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


@pytest.fixture(scope="session")
def gitops_variant() -> AppliedExample:
    """examples/gitops applied on aws 6.x with GITOPS_VARIANT's values."""
    try:
        (result,) = background.results("gitops_variant")
    except Unavailable as e:
        pytest.skip(f"examples under Terraform: {e}")
    return result


@pytest.fixture
def published(harness: Harness) -> tuple[dict[str, Any], list[str], set[str]]:
    """The function's first write into an empty secret (as the module creates it), for two
    regions and two registry accounts: (document, hosts in the return value, issued passwords)."""
    arn = harness.create_secret("platform/ecr-pull-credential")
    harness.configure(
        SECRET_ID=arn, ECR_REGIONS=",".join(REGIONS), ECR_REGISTRY_IDS=",".join(REGISTRY_IDS)
    )
    result = harness.invoke()
    return harness.document(arn), result["registry_hosts"], set(harness.issued.passwords)

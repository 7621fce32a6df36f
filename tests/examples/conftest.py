"""Every example applied by the real terraform, offline, once per session and provider major
(tools/terraform/harness.py); skipped where terraform or ../shared is absent."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

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


@pytest.fixture(scope="session")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    """applied(example, major): the example after init, validate, plan, apply and a plan without
    changes. The first call applies every example on both majors (one thread per major)."""
    try:
        offline_terraform()
    except Unavailable as e:
        pytest.skip(f"examples under Terraform: {e}")
    workdir = tmp_path_factory.mktemp("examples")
    results: dict[tuple[str, int], AppliedExample | Exception] = {}

    def apply_all(major: int) -> None:
        for name in example_names():
            try:
                results[name, major] = apply_example(name, major, workdir)
            except (TerraformFailed, AssertionError) as e:
                results[name, major] = e

    with ThreadPoolExecutor(max_workers=len(MAJORS)) as pool:
        list(pool.map(apply_all, MAJORS))

    def get(name: str, major: int) -> AppliedExample:
        result = results[name, major]
        if isinstance(result, Exception):
            raise result
        return result

    return get

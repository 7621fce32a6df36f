"""The refusals of ecr_pull_through_cache_prefixes and of an oversized role policy say what to fix.

tests/terraform/variables.tftest.hcl and iam.tftest.hcl prove that each bad value is refused
(`expect_failures` only says that a check failed); here each refusal is planned offline
(tools/terraform/harness.py) and its message must name the offending values, or the size and the
limit. Skipped where terraform or ../shared is absent.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT_ID
from tools.terraform.harness import PlannedCalls, Unavailable, plan_module_calls

EXISTING_SECRET = {
    "create_secret": False,
    "secret_arn": f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT_ID}:secret:ecr-pull-AbCdEf",
}
# Each refused for what ECR refuses in a pull-through cache rule's repository prefix.
BAD_PREFIXES = [
    "Docker-Hub",  # uppercase
    "/docker-hub",  # leading /
    "d",  # under 2 characters
    "docker--hub",  # two separators
    "docker-hub//x",  # empty path component
    "docker-hub-",  # trailing separator
    "p" * 31,  # over 30 characters
    "docker-hub/*",  # a wildcard: the module appends /* itself
]
REGIONS = ["eu-central-1", "eu-west-1", "us-east-1", "us-west-2"]
REGISTRIES = [ACCOUNT_ID, "210987654321", "111111111111"]

# call -> (module inputs, words its message must hold)
REFUSED: dict[str, tuple[dict[str, Any], list[str]]] = {
    "ecr_refuses": (
        {"ecr_pull_through_cache_prefixes": ["docker-hub", *BAD_PREFIXES, "ecr-public/"]},
        ["Invalid ecr_pull_through_cache_prefixes", *map(json.dumps, BAD_PREFIXES)],
    ),
    "root": (
        {"ecr_pull_through_cache_prefixes": ["ROOT"]},
        ["must not list ROOT", "ecr:CreateRepository on every repository"],
    ),
    "repeated": (
        {"ecr_pull_through_cache_prefixes": ["quay", "docker-hub", "docker-hub/"]},
        ["lists a prefix more than once"],
    ),
}
# 12 registries x 8 prefixes, for pulls and again for tag listing: 193 repository ARNs. (A plan
# of its own: a variable refused elsewhere would stop the plan before any precondition.)
OVERSIZED = {
    "ecr_regions": REGIONS,
    "ecr_registry_ids": REGISTRIES,
    "ecr_repository_arns": [f"arn:aws:ecr:eu-central-1:{ACCOUNT_ID}:repository/team-a/*"],
    "ecr_pull_through_cache_prefixes": [f"cache-{n}" for n in range(8)],
    "ecr_list_tags": True,
}


def plan(calls: dict[str, dict[str, Any]]) -> PlannedCalls:
    try:
        with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-consumers-") as workdir:
            return plan_module_calls(
                {
                    call: ("eu-central-1", {**EXISTING_SECRET, **inputs})
                    for call, inputs in calls.items()
                },
                Path(workdir),
            )
    except Unavailable as e:
        pytest.skip(f"terraform plan: {e}")


@pytest.fixture(scope="module")
def refused() -> PlannedCalls:
    return plan({call: inputs for call, (inputs, _) in REFUSED.items()})


@pytest.mark.parametrize("call", REFUSED)
def test_a_refusal_names_what_to_change(refused: PlannedCalls, call: str) -> None:
    first, *more = REFUSED[call][1]
    [message] = [m for m in refused.errors if first in m]
    for words in more:
        assert words in message, (words, message)


def test_the_valid_prefixes_beside_the_bad_ones_are_not_named(refused: PlannedCalls) -> None:
    [message] = [m for m in refused.errors if "Invalid ecr_pull_through_cache_prefixes" in m]
    assert '"docker-hub"' not in message
    assert '"ecr-public/"' not in message


def test_each_refused_call_fails_for_its_own_reason_only(refused: PlannedCalls) -> None:
    assert len(refused.errors) == len(REFUSED), refused.errors


def test_a_role_policy_over_iams_limit_is_refused_with_its_size() -> None:
    planned = plan({"oversized": OVERSIZED})
    [message] = planned.errors
    size = int(message.split("The function role's policy has ")[1].split(" characters")[0])
    assert size > 10240
    assert "IAM allows 10,240 per role" in message
    assert "ecr_pull_through_cache_prefixes" in message

"""Terraform and the function agree on the registry hosts, and Terraform's refusals say what to fix.

The module's `registry_hosts` output is what users wire into other things (kubelet's image
credential provider config, docs); the function writes the docker config. Both follow the same
endpoint table. Each configuration below is planned offline (tools/terraform/harness.py, in the
provider region of its partition: aws, aws-cn, aws-us-gov), then the real handler runs on moto
with the environment Terraform planned for the function (ECR Public stubbed: moto has none), and
must write exactly the hosts Terraform reported, in the same order.

Refusals are planned the same way: each precondition's message must name what was refused (the
region and the endpoint type, the partition, the count), which the .tftest.hcl suites cannot
check (`expect_failures` only says that a check failed). Skipped where terraform or ../shared is
absent.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests import background
from tests.conftest import ACCOUNT_ID, Harness
from tests.support.ecr_public import stubbed_ecr_public
from tests.support.failures import DEFAULT_POLICY
from tools.terraform.harness import PlannedCalls, Unavailable, plan_module_calls

OTHER_ACCOUNT = "210987654321"
SECRET_ARN = f"arn:aws:secretsmanager:eu-central-1:{ACCOUNT_ID}:secret:ecr-pull-AbCdEf"


def _existing_secret(region: str) -> dict[str, Any]:
    partition = {"cn": "aws-cn", "us-gov": "aws-us-gov"}.get(region.rsplit("-", 2)[0], "aws")
    return {
        "create_secret": False,
        "secret_arn": SECRET_ARN.replace("arn:aws:", f"arn:{partition}:").replace(
            "eu-central-1", region
        ),
    }


# call -> (provider region, module inputs): configurations the module accepts
ACCEPTED: dict[str, tuple[str, dict[str, Any]]] = {
    "defaults": ("eu-central-1", {}),
    "every_type_two_accounts": (
        "us-east-1",
        {
            "ecr_regions": ["us-east-1", "us-west-2"],
            "ecr_registry_ids": [ACCOUNT_ID, OTHER_ACCOUNT],
            "ecr_endpoint_types": ["dualstack-fips", "ipv4", "fips"],
        },
    ),
    "ipv6_cluster_with_ecr_public": (
        "eu-central-1",
        {"ecr_endpoint_types": ["dualstack"], "ecr_public": True},
    ),
    "ecr_public_over_ipv4": ("eu-west-1", {"ecr_public": True, "ecr_regions": ["eu-west-1"]}),
    "govcloud": (
        "us-gov-west-1",
        {
            "ecr_regions": ["us-gov-west-1", "us-gov-east-1"],
            "ecr_endpoint_types": ["ipv4", "dualstack", "fips", "dualstack-fips"],
        },
    ),
    "china": (
        "cn-north-1",
        {
            "ecr_regions": ["cn-northwest-1", "cn-north-1"],
            "ecr_endpoint_types": ["dualstack", "ipv4"],
        },
    ),
}

# call -> (provider region, module inputs, words the error must contain)
REFUSED: dict[str, tuple[str, dict[str, Any], tuple[str, ...]]] = {
    "fips_in_frankfurt": (
        "eu-central-1",
        {"ecr_endpoint_types": ["ipv4", "fips"]},
        ("ecr_endpoint_types: fips is not offered in eu-central-1", "us-gov-west-1"),
    ),
    "fips_types_in_two_of_three_regions": (
        "us-east-1",
        {
            "ecr_regions": ["us-east-1", "eu-west-1", "ap-south-1"],
            "ecr_endpoint_types": ["fips", "dualstack-fips"],
        },
        ("fips and dualstack-fips are not offered in eu-west-1, ap-south-1:",),
    ),
    "ecr_public_in_china": (
        "cn-north-1",
        {"ecr_public": True},
        ("ECR Public exists only in the aws partition", "this is aws-cn", "ecr_public = false"),
    ),
    "a_region_of_another_partition": (
        "eu-central-1",
        {"ecr_regions": ["eu-central-1", "us-gov-west-1"]},
        ("ecr_regions us-gov-west-1: not in this provider's partition (aws)",),
    ),
    "types_multiply_past_the_bound": (
        "us-east-1",
        {
            "ecr_regions": ["us-east-1", "us-west-2"],
            "ecr_registry_ids": [ACCOUNT_ID, OTHER_ACCOUNT, "111111111111"],
            "ecr_endpoint_types": ["ipv4", "dualstack"],
            "ecr_public": True,
        },
        (
            "would hold 14 registry hosts (ecr_regions: 2 x ecr_registry_ids: 3 x "
            "ecr_endpoint_types: 2 + 2 of ECR Public); at most 12",
        ),
    ),
    "probe_on_a_host_not_listed": (
        "eu-central-1",
        {"probe_images": [f"{ACCOUNT_ID}.dkr-ecr.eu-central-1.on.aws/app:1"]},
        (
            f"probe_images {ACCOUNT_ID}.dkr-ecr.eu-central-1.on.aws/app:1: not on a host the "
            f"docker config lists ({ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com)",
        ),
    ),
}


def _calls(cases: dict[str, tuple[Any, ...]]) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        call: (region, {**_existing_secret(region), **inputs})
        for call, (region, inputs, *_) in cases.items()
    }


def plan(cases: dict[str, tuple[Any, ...]]) -> PlannedCalls:
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-hosts-") as workdir:
        return plan_module_calls(_calls(cases), Path(workdir), outputs=("registry_hosts",))


background.register("planned_hosts", partial(plan, ACCEPTED), partial(plan, REFUSED))


@pytest.fixture(scope="session")
def planned_hosts() -> tuple[PlannedCalls, PlannedCalls]:
    try:
        accepted, refused = background.results("planned_hosts")
    except Unavailable as e:
        pytest.skip(f"terraform plan: {e}")
    return accepted, refused


@pytest.mark.parametrize("call", ACCEPTED)
def test_the_function_writes_the_hosts_terraform_reports(
    planned_hosts: tuple[PlannedCalls, PlannedCalls],
    harness: Harness,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
) -> None:
    accepted, _ = planned_hosts
    assert accepted.errors == [], accepted.errors
    environment = dict(accepted.environments[call])
    region = ACCEPTED[call][0]
    monkeypatch.setenv("AWS_REGION", region)  # what Lambda sets: the function's region
    # the secret is moto's (in eu-central-1); the hosts come from Terraform's environment
    environment["SECRET_ID"] = harness.create_secret()
    harness.configure(**environment)
    public = environment.get("ECR_PUBLIC") == "true"

    with stubbed_ecr_public(DEFAULT_POLICY, harness.issued) if public else nullcontext() as ecr:
        if ecr is not None:
            ecr.issue()
        result = harness.invoke()

    assert result["registry_hosts"] == accepted.outputs[call]["registry_hosts"]


@pytest.mark.parametrize("call", REFUSED)
def test_a_refusal_names_what_to_change(
    planned_hosts: tuple[PlannedCalls, PlannedCalls], call: str
) -> None:
    # Terraform's messages do not name the module call: each call's first words are its own.
    first, *more = REFUSED[call][2]
    [message] = [m for m in planned_hosts[1].errors if first in m]
    for words in more:
        assert words in message


def test_each_refused_call_fails_for_its_own_reason_only(
    planned_hosts: tuple[PlannedCalls, PlannedCalls],
) -> None:
    assert len(planned_hosts[1].errors) == len(REFUSED), planned_hosts[1].errors

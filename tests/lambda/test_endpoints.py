"""The registry host table: every endpoint type in every partition, the refusals, and agreement
with the host patterns of the Kubernetes ECR credential provider (kubernetes/cloud-provider-aws,
cmd/ecr-credential-provider: its test cases, and the EKS AMI's matchImages)."""

from __future__ import annotations

import re

import botocore.loaders
import pytest

from ecr_token_rotator import aws
from ecr_token_rotator.config import find_partition
from ecr_token_rotator.endpoints import (
    DUALSTACK,
    DUALSTACK_FIPS,
    DUALSTACK_SUFFIXES,
    FIPS,
    FIPS_REGIONS,
    IPV4,
    PUBLIC_DUALSTACK_HOST,
    PUBLIC_HOST,
    EndpointNotOfferedError,
    host_template,
    parse_registry_host,
    public_hosts,
)

ACCOUNT = "123456789012"

# Hosts each region's registry has, per endpoint type, as AWS documents them (the ECR user guide,
# "Amazon ECR endpoints") and AWS's own credential provider code writes them.
EXPECTED = {
    ("eu-central-1", IPV4): f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com",
    ("eu-central-1", DUALSTACK): f"{ACCOUNT}.dkr-ecr.eu-central-1.on.aws",
    ("us-east-1", IPV4): f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
    ("us-east-1", DUALSTACK): f"{ACCOUNT}.dkr-ecr.us-east-1.on.aws",
    ("us-east-1", FIPS): f"{ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com",
    ("us-east-1", DUALSTACK_FIPS): f"{ACCOUNT}.dkr-ecr-fips.us-east-1.on.aws",
    ("us-west-2", FIPS): f"{ACCOUNT}.dkr.ecr-fips.us-west-2.amazonaws.com",
    ("us-gov-west-1", IPV4): f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com",
    ("us-gov-west-1", DUALSTACK): f"{ACCOUNT}.dkr-ecr.us-gov-west-1.on.aws",
    ("us-gov-west-1", FIPS): f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
    ("us-gov-east-1", DUALSTACK_FIPS): f"{ACCOUNT}.dkr-ecr-fips.us-gov-east-1.on.aws",
    ("cn-north-1", IPV4): f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn",
    ("cn-north-1", DUALSTACK): f"{ACCOUNT}.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
    ("cn-northwest-1", DUALSTACK): f"{ACCOUNT}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
    ("eusc-de-east-1", IPV4): f"{ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu",
    ("us-iso-east-1", IPV4): f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov",
    ("us-isob-east-1", IPV4): f"{ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
    ("eu-isoe-west-1", IPV4): f"{ACCOUNT}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
    ("us-isof-south-1", IPV4): f"{ACCOUNT}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
}

# (region, type, words of the refusal): FIPS outside its regions; dual-stack where AWS documents
# no registry host name (the European Sovereign Cloud, the ISO partitions).
REFUSED = [
    ("eu-central-1", FIPS, "fips is not offered in eu-central-1"),
    ("eu-central-1", DUALSTACK_FIPS, "dualstack-fips is not offered in eu-central-1"),
    ("ca-central-1", FIPS, "FIPS registry endpoints only in us-east-1"),
    ("cn-north-1", FIPS, "fips is not offered in cn-north-1"),
    ("cn-north-1", DUALSTACK_FIPS, "dualstack-fips is not offered in cn-north-1"),
    ("eusc-de-east-1", DUALSTACK, "partition aws-eusc"),
    ("eusc-de-east-1", FIPS, "fips is not offered in eusc-de-east-1"),
    ("us-iso-east-1", DUALSTACK, "partition aws-iso"),
    ("us-isob-east-1", DUALSTACK, "partition aws-iso-b"),
    ("eu-isoe-west-1", DUALSTACK, "partition aws-iso-e"),
    ("us-isof-south-1", DUALSTACK, "partition aws-iso-f"),
]


def template(region: str, endpoint_type: str) -> str:
    partition = find_partition(region, aws.partitions())
    assert partition is not None, region
    return host_template(region, endpoint_type, partition)


@pytest.mark.parametrize(("region", "endpoint_type"), sorted(EXPECTED))
def test_each_type_in_each_partition_has_its_documented_host(
    region: str, endpoint_type: str
) -> None:
    host = template(region, endpoint_type).format(account=ACCOUNT)
    assert host == EXPECTED[region, endpoint_type]
    assert parse_registry_host(host) == (ACCOUNT, region, endpoint_type)


@pytest.mark.parametrize(("region", "endpoint_type", "words"), REFUSED)
def test_a_type_the_region_does_not_offer_is_refused_by_name(
    region: str, endpoint_type: str, words: str
) -> None:
    with pytest.raises(EndpointNotOfferedError) as raised:
        template(region, endpoint_type)
    message = str(raised.value)
    assert words in message
    assert f"{endpoint_type} is not offered in {region}" in message


def test_every_partition_botocore_knows_has_its_ipv4_host() -> None:
    """IPv4 hosts use the partition's own DNS suffix, from botocore's data: a partition added
    later still gets its IPv4 host, and no other type until the table names it."""
    for partition in aws.partitions():
        region = next(r for r in partition["regions"] if not r.endswith("-global"))
        host = host_template(region, IPV4, partition).format(account=ACCOUNT)
        assert host == f"{ACCOUNT}.dkr.ecr.{region}.{partition['outputs']['dnsSuffix']}"
        assert _offers(region, DUALSTACK) == (partition["id"] in DUALSTACK_SUFFIXES)


def _offers(region: str, endpoint_type: str) -> bool:
    try:
        template(region, endpoint_type)
    except EndpointNotOfferedError:
        return False
    return True


def test_fips_regions_are_those_botocore_has_ecr_fips_endpoints_for() -> None:
    """botocore's endpoint data lists FIPS variants of the ECR API for exactly these regions (its
    rule set builds a FIPS host for any region, which is why the function keeps the table)."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    fips_regions = set()
    for partition in endpoints["partitions"]:
        for region, data in partition["services"].get("api.ecr", {}).get("endpoints", {}).items():
            tags = [variant["tags"] for variant in data.get("variants", [])]
            if ["fips"] in tags and not region.startswith(("fips-", "dkr-")):
                fips_regions.add(region)
    assert fips_regions == set(FIPS_REGIONS)


# ---- the Kubernetes ECR credential provider's patterns and test cases -------------------------

# ecrPrivateHostPattern of cloud-provider-aws (cmd/ecr-credential-provider/main.go, with
# dual-stack since PR #1069); the EKS AMI's matchImages add `*.dkr.ecr.*.amazonaws.eu`.
KUBELET_PATTERN = re.compile(
    r"^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.com(?:\.cn)?|"
    r"on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|"
    r"csp\.hci\.ic\.gov|amazonaws\.eu)$"
)


@pytest.mark.parametrize("host", sorted(EXPECTED.values()))
def test_every_host_the_function_writes_is_one_kubelets_provider_recognises(host: str) -> None:
    match = KUBELET_PATTERN.match(host)
    parts = parse_registry_host(host)
    assert match is not None
    assert parts is not None
    assert match.group(3) == parts[1]


@pytest.mark.parametrize(
    "host",
    [
        # cloud-provider-aws TestRegistryPatternMatch: accepted hosts
        "123456789012.dkr.ecr.lala-land-1.amazonaws.com",
        "123456789012.dkr.ecr-fips.lala-land-1.amazonaws.com",
        "123456789012.dkr.ecr.lala-land-1.amazonaws.com.cn",
        "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
        "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
        "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
        "123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov",
        "123456789012.dkr-ecr.lala-land-1.on.aws",
        "123456789012.dkr-ecr-fips.lala-land-1.on.aws",
        "123456789012.dkr-ecr.lala-land-1.on.amazonwebservices.com.cn",
    ],
)
def test_the_providers_accepted_hosts_parse(host: str) -> None:
    parts = parse_registry_host(host)
    assert parts is not None
    assert parts[0] == ACCOUNT


@pytest.mark.parametrize(
    "host",
    [
        # cloud-provider-aws TestRegistryPatternMatch: rejected hosts
        "1234567890123.dkr.ecr.lala-land-1.amazonaws.com",  # 13 digits
        "12345678901.dkr.ecr.lala-land-1.amazonaws.com",  # 11 digits
        "12345678901A.dkr.ecr.lala-land-1.amazonaws.com",
        "123456789012.dkr.ecr.lala-land-1!.amazonaws.com",
        "123456789012.dkr.ecr.#lala-land-1.amazonaws.com",
        "123456789012.lala-land-1.amazonaws.com",  # no dkr.ecr
        "123456789012.dog.ecr.lala-land-1.amazonaws.com",
        "123456789012.dkr.cat.lala-land-1.amazonaws.com",
    ],
)
def test_the_providers_rejected_hosts_do_not_parse(host: str) -> None:
    assert parse_registry_host(host) is None


@pytest.mark.parametrize(
    ("host", "region", "endpoint_type"),
    [
        # hosts the provider's regex lets through (prefix and suffix match independently) but no
        # registry has: the table decides, and writes neither
        (f"{ACCOUNT}.dkr-ecr.eu-central-1.amazonaws.com", "eu-central-1", DUALSTACK),
        (f"{ACCOUNT}.dkr.ecr.eu-central-1.on.aws", "eu-central-1", IPV4),
        (f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.hacker.com", "eu-central-1", IPV4),
    ],
)
def test_mixtures_parse_but_are_not_the_tables_host(
    host: str, region: str, endpoint_type: str
) -> None:
    assert parse_registry_host(host) == (ACCOUNT, region, endpoint_type)
    assert template(region, endpoint_type).format(account=ACCOUNT) != host


def test_ecr_publics_dual_stack_host_comes_with_a_dual_stack_type() -> None:
    assert public_hosts((IPV4,)) == (PUBLIC_HOST,)
    assert public_hosts((FIPS,)) == (PUBLIC_HOST,)  # ECR Public has no FIPS endpoints
    assert public_hosts((IPV4, DUALSTACK)) == (PUBLIC_HOST, PUBLIC_DUALSTACK_HOST)
    assert public_hosts((DUALSTACK_FIPS,)) == (PUBLIC_HOST, PUBLIC_DUALSTACK_HOST)

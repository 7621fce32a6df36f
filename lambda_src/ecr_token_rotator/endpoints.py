"""Registry host names: every ECR endpoint a cluster may pull from (pure: no AWS calls).

kubelet, containerd and docker look a login up by the exact host of an image reference, so the
docker config needs one entry per host form a cluster uses. A region's private registry has up to
four (AWS ECR user guide, "Making requests to Amazon ECR registries"; "Amazon ECR endpoints"):

| endpoint type    | host                                             | offered in              |
| ---------------- | ------------------------------------------------ | ----------------------- |
| `ipv4`           | `<account>.dkr.ecr.<region>.<DNS suffix>`        | every region            |
| `dualstack`      | `<account>.dkr-ecr.<region>.<dual-stack suffix>` | aws, aws-us-gov, aws-cn |
| `fips`           | `<account>.dkr.ecr-fips.<region>.<DNS suffix>`   | FIPS_REGIONS            |
| `dualstack-fips` | `<account>.dkr-ecr-fips.<region>.on.aws`         | FIPS_REGIONS            |

The DNS suffix is the partition's own (botocore's partitions data: `amazonaws.com`,
`amazonaws.com.cn`, `amazonaws.eu`, the ISO partitions' suffixes). The dual-stack registry suffix
is not botocore's `dualStackDnsSuffix` (that one is for API endpoints), hence DUALSTACK_SUFFIXES;
its entries agree with the host patterns of the Kubernetes ECR credential provider
(kubernetes/cloud-provider-aws, `cmd/ecr-credential-provider`) and the EKS AMI's. A combination
AWS does not document (dual-stack in the European Sovereign Cloud and the ISO partitions, whose
host names only third-party code guesses at) is refused rather than guessed. botocore builds a
FIPS API host for any region, so FIPS availability comes from this table too.

ECR Public has one registry, in the `aws` partition only, with an IPv4 host and a dual-stack one
("Making requests to Amazon ECR Public registries"); its token comes from us-east-1.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

IPV4 = "ipv4"
DUALSTACK = "dualstack"
FIPS = "fips"
DUALSTACK_FIPS = "dualstack-fips"
ENDPOINT_TYPES = (IPV4, DUALSTACK, FIPS, DUALSTACK_FIPS)
DUALSTACK_TYPES = frozenset({DUALSTACK, DUALSTACK_FIPS})

# The labels between the account and the region, per endpoint type.
_PREFIXES = {
    IPV4: "dkr.ecr",
    DUALSTACK: "dkr-ecr",
    FIPS: "dkr.ecr-fips",
    DUALSTACK_FIPS: "dkr-ecr-fips",
}
_TYPE_OF_PREFIX = {prefix: endpoint_type for endpoint_type, prefix in _PREFIXES.items()}
# Dual-stack registry hosts, per partition: only where AWS's documentation or AWS's own credential
# provider code names them.
DUALSTACK_SUFFIXES = {
    "aws": "on.aws",
    "aws-us-gov": "on.aws",
    "aws-cn": "on.amazonwebservices.com.cn",
}
# The regions with FIPS registry endpoints (the ECR endpoints page; botocore's endpoint data has
# FIPS variants of the ECR API for exactly these).
FIPS_REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
)


PUBLIC_PARTITION = "aws"
PUBLIC_REGION = "us-east-1"  # where every ECR Public token is issued
PUBLIC_HOST = "public.ecr.aws"
PUBLIC_DUALSTACK_HOST = "ecr-public.aws.com"
PUBLIC_HOSTS = (PUBLIC_HOST, PUBLIC_DUALSTACK_HOST)


class EndpointNotOfferedError(ValueError):
    """A region (or its partition) has no registry endpoint of the requested type."""


@functools.cache
def _registry_host_pattern() -> re.Pattern[str]:
    """`<account>.<prefix>.<region>.<suffix>`; which prefix goes with which suffix is the table's
    business (host_template). Compiled when first needed (half a millisecond of a cold start): a
    refresh compares hosts, only probe images are parsed."""
    return re.compile(
        r"^(?P<account>\d{12})\.(?P<prefix>dkr\.ecr(?:-fips)?|dkr-ecr(?:-fips)?)"
        r"\.(?P<region>[a-z0-9-]+)\.(?P<suffix>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\Z",
        re.ASCII,
    )


def parse_registry_host(host: str) -> tuple[str, str, str] | None:
    """(account, region, endpoint type) of a private registry host; None if it is not one."""
    match = _registry_host_pattern().match(host)
    if match is None:
        return None
    return match["account"], match["region"], _TYPE_OF_PREFIX[match["prefix"]]


def host_template(region: str, endpoint_type: str, partition: Mapping[str, Any]) -> str:
    """`{account}.<prefix>.<region>.<suffix>` for a region of `partition` (botocore's data).

    Raises EndpointNotOfferedError, naming the region and the type, where the table has none.
    """
    partition_id = str(partition["id"])
    if endpoint_type in (FIPS, DUALSTACK_FIPS) and region not in FIPS_REGIONS:
        raise EndpointNotOfferedError(
            f"{endpoint_type} is not offered in {region}: ECR has FIPS registry endpoints only in "
            f"{', '.join(FIPS_REGIONS)}"
        )
    if endpoint_type in DUALSTACK_TYPES:
        suffix = DUALSTACK_SUFFIXES.get(partition_id)
        if suffix is None:
            raise EndpointNotOfferedError(
                f"{endpoint_type} is not offered in {region}: AWS does not document a dual-stack "
                f"registry host for partition {partition_id} (dual-stack hosts are written for "
                f"{', '.join(DUALSTACK_SUFFIXES)})"
            )
    else:
        suffix = str(partition["outputs"]["dnsSuffix"])
    return f"{{account}}.{_PREFIXES[endpoint_type]}.{region}.{suffix}"


def public_hosts(endpoint_types: tuple[str, ...]) -> tuple[str, ...]:
    """ECR Public's hosts for a cluster pulling over `endpoint_types`: `public.ecr.aws`, and
    `ecr-public.aws.com` when it pulls over dual-stack (ECR Public has no FIPS endpoints)."""
    if DUALSTACK_TYPES.intersection(endpoint_types):
        return PUBLIC_HOSTS
    return (PUBLIC_HOST,)


class HostPlan(NamedTuple):
    """The registry hosts a docker config lists, as config.py checked them."""

    endpoint_types: tuple[str, ...]
    # region -> endpoint type -> "{account}.<prefix>.<region>.<suffix>" (ipv4 always included:
    # the token's proxyEndpoint is checked against it)
    templates: Mapping[str, Mapping[str, str]]
    public_hosts: tuple[str, ...] = ()  # ECR Public's, when it is on

    def private_hosts(self, region: str, account: str) -> list[str]:
        """One host per endpoint type, in the configured order."""
        region_templates = self.templates[region]
        return [region_templates[kind].format(account=account) for kind in self.endpoint_types]

    def host_count(self, regions: int, registry_ids: int) -> int:
        """Hosts of a docker config: regions x registry accounts (at least each region's own) x
        endpoint types, plus ECR Public's."""
        return regions * max(registry_ids, 1) * len(self.endpoint_types) + len(self.public_hosts)

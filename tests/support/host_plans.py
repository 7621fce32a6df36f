"""Host plans (which registry hosts a docker config lists) built the way the function builds
them: from botocore's partitions data, through config.py's own parsing."""

from __future__ import annotations

from collections.abc import Sequence

from ecr_token_rotator import aws
from ecr_token_rotator.config import parse_endpoint_types
from ecr_token_rotator.endpoints import HostPlan, public_hosts


def host_plan(
    regions: Sequence[str], endpoint_types: Sequence[str] = (), *, ecr_public: bool = False
) -> HostPlan:
    types, templates = parse_endpoint_types(endpoint_types, regions, aws.partitions())
    return HostPlan(types, templates, public_hosts(types) if ecr_public else ())

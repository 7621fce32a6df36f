"""Settings: parse and validate the function's configuration (pure, no AWS calls).

The Lambda reads them from environment variables, the CLI from flags; both end in
`build_settings`, so a bad value gets the same specific error wherever it comes from.

Region names are checked against botocore's own partitions data (`partitions.json`): a region is
accepted when it is a well-formed name (lowercase letters, digits, hyphens) that matches one of
the partitions' `regionRegex`, e.g. `eu-central-1` (aws), `cn-north-1` (aws-cn) or
`eusc-de-east-1` (aws-eusc). A region newer than the runtime's botocore still passes when its
partition is known (the pattern, not the list of regions, decides); a region of a partition that
botocore does not know is refused, since botocore could not find its endpoints either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .errors import ConfigError

# re.ASCII: \d is 0-9 only (not every Unicode digit); \Z: "$" would also match before a final
# line break, letting "eu-central-1\n" through.
# What may appear in a host name label: a partition's regionRegex alone (\w) would allow "_" and
# upper case.
REGION_CHARACTERS = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z", re.ASCII)
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}\Z", re.ASCII)
SECRET_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+\Z",
    re.ASCII,
)
SECRET_NAME_PATTERN = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}\Z")
# <account>.dkr.ecr[-fips].<region>.<partition DNS suffix>, e.g. amazonaws.com or amazonaws.com.cn
ECR_HOST_PATTERN = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.(?P<dns_suffix>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\Z",
    re.ASCII,
)
# ECR repository names: lowercase path components separated by "/", with ".", "_" or "-" inside.
REPOSITORY_PATTERN = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z"
)
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
DIGEST_PATTERN = re.compile(r"^sha256:[a-f0-9]{64}\Z")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ImageRef(NamedTuple):
    """An ECR image to probe: `<host>/<repository>:<tag>` or `<host>/<repository>@sha256:<hex>`."""

    host: str
    registry_id: str
    region: str
    repository: str
    reference: str  # a tag or a digest

    def __str__(self) -> str:
        separator = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{separator}{self.reference}"


class Settings(NamedTuple):
    secret_id: str
    regions: tuple[str, ...]
    registry_ids: tuple[str, ...]  # empty: each region's own registry (the token's account)
    probe_images: tuple[ImageRef, ...]
    log_level: str
    home_region: str  # where the function (or CLI) runs: the region of a secret given by name

    @property
    def secret_region(self) -> str:
        return region_of_secret(self.secret_id, self.home_region)


def region_of_secret(secret_id: str, home_region: str | None) -> str:
    """A secret ARN names its region; a bare name lives in the caller's own region."""
    match = SECRET_ARN_PATTERN.match(secret_id)
    if match:
        return match["region"]
    if not home_region:
        raise ConfigError(
            f"secret {secret_id!r} is given by name and no region is set: use its ARN, "
            "or set AWS_REGION (or --region)"
        )
    return home_region


def split_list(raw: str | None) -> list[str]:
    """Split a comma-separated setting, dropping blanks: `"a, b,,"` -> `["a", "b"]`."""
    if raw is None:
        return []
    return [item.strip() for item in raw.split(",") if item.strip()]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def parse_secret_id(raw: str | None) -> str:
    secret_id = (raw or "").strip()
    if not secret_id:
        raise ConfigError("SECRET_ID is required: set it to the name or ARN of the secret")
    if secret_id.startswith("arn:"):
        if not SECRET_ARN_PATTERN.match(secret_id):
            raise ConfigError(
                f"SECRET_ID {secret_id!r} is not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
            )
    elif not SECRET_NAME_PATTERN.match(secret_id):
        raise ConfigError(
            f"SECRET_ID {secret_id!r} is not a valid secret name: use 1-512 characters "
            "from letters, digits and /_+=.@-"
        )
    return secret_id


def partition_of(region: str, partitions: Sequence[Mapping[str, Any]]) -> str | None:
    """The id of the partition whose region pattern `region` matches, or None."""
    if not REGION_CHARACTERS.match(region):
        return None
    for partition in partitions:
        pattern = partition.get("regionRegex")
        if pattern and re.fullmatch(pattern, region, re.ASCII):
            return str(partition["id"])
    return None


def parse_regions(
    raw: Iterable[str],
    default_region: str | None,
    partitions: Sequence[Mapping[str, Any]],
    *,
    botocore_version: str = "",
) -> tuple[str, ...]:
    regions = _unique(raw)
    if not regions:
        if not default_region:
            raise ConfigError(
                "no ECR region: set ECR_REGIONS (or --region), or AWS_REGION for the default"
            )
        regions = (default_region,)
    known = ", ".join(str(partition["id"]) for partition in partitions)
    for region in regions:
        if partition_of(region, partitions) is None:
            runtime = f"botocore {botocore_version}" if botocore_version else "botocore"
            raise ConfigError(
                f"ECR_REGIONS: {region!r} is not an AWS region name (like eu-central-1) of a "
                f"partition {runtime} knows ({known}); for a new partition, use a newer runtime"
            )
    return regions


def parse_registry_ids(raw: Iterable[str]) -> tuple[str, ...]:
    registry_ids = _unique(raw)
    for registry_id in registry_ids:
        if not ACCOUNT_ID_PATTERN.match(registry_id):
            raise ConfigError(f"ECR_REGISTRY_IDS: {registry_id!r} is not a 12-digit AWS account ID")
    return registry_ids


def parse_image_ref(raw: str) -> ImageRef:
    """Parse `<account>.dkr.ecr.<region>.<suffix>/<repo>[:tag|@sha256:digest]` (tag: latest)."""
    host, slash, rest = raw.partition("/")
    host_match = ECR_HOST_PATTERN.match(host)
    if not slash or host_match is None:
        raise ConfigError(
            f"PROBE_IMAGES: {raw!r} is not an ECR image reference like "
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest"
        )
    if "@" in rest:
        repository, _, reference = rest.partition("@")
        if not DIGEST_PATTERN.match(reference):
            raise ConfigError(f"PROBE_IMAGES: {raw!r} has a malformed digest (sha256:<64 hex>)")
    else:
        repository, colon, reference = rest.rpartition(":")
        if not colon:  # no tag given: docker's default
            repository, reference = rest, "latest"
        if not TAG_PATTERN.match(reference):
            raise ConfigError(f"PROBE_IMAGES: {raw!r} has a malformed tag {reference!r}")
    if not REPOSITORY_PATTERN.match(repository):
        raise ConfigError(f"PROBE_IMAGES: {raw!r} has a malformed repository name")
    return ImageRef(
        host=host,
        registry_id=host_match["account"],
        region=host_match["region"],
        repository=repository,
        reference=reference,
    )


def parse_probe_images(
    raw: Iterable[str], regions: tuple[str, ...], registry_ids: tuple[str, ...]
) -> tuple[ImageRef, ...]:
    images = tuple(parse_image_ref(item) for item in _unique(raw))
    for image in images:
        if image.region not in regions:
            raise ConfigError(
                f"PROBE_IMAGES: {image} is in region {image.region}, which is not in "
                f"ECR_REGIONS ({','.join(regions)}); add the region or remove the image"
            )
        if registry_ids and image.registry_id not in registry_ids:
            raise ConfigError(
                f"PROBE_IMAGES: {image} is in registry {image.registry_id}, which is not in "
                f"ECR_REGISTRY_IDS ({','.join(registry_ids)}); add the account or remove the image"
            )
    return images


def parse_log_level(raw: str | None) -> str:
    level = (raw or "INFO").strip().upper()
    level = {"WARN": "WARNING"}.get(level, level)
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL {raw!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def build_settings(
    *,
    secret_id: str | None,
    regions: Iterable[str],
    registry_ids: Iterable[str],
    probe_images: Iterable[str],
    log_level: str | None,
    default_region: str | None,
    partitions: Sequence[Mapping[str, Any]],
    botocore_version: str = "",
) -> Settings:
    parsed_regions = parse_regions(
        regions, default_region, partitions, botocore_version=botocore_version
    )
    parsed_registry_ids = parse_registry_ids(registry_ids)
    return Settings(
        secret_id=parse_secret_id(secret_id),
        regions=parsed_regions,
        registry_ids=parsed_registry_ids,
        probe_images=parse_probe_images(probe_images, parsed_regions, parsed_registry_ids),
        log_level=parse_log_level(log_level),
        home_region=default_region or parsed_regions[0],
    )


def settings_from_environment(
    environ: Mapping[str, str],
    partitions: Sequence[Mapping[str, Any]],
    *,
    botocore_version: str = "",
) -> Settings:
    """The Lambda's settings; `AWS_REGION` (set by Lambda) is the default ECR region."""
    return build_settings(
        secret_id=environ.get("SECRET_ID"),
        regions=split_list(environ.get("ECR_REGIONS")),
        registry_ids=split_list(environ.get("ECR_REGISTRY_IDS")),
        probe_images=split_list(environ.get("PROBE_IMAGES")),
        log_level=environ.get("LOG_LEVEL"),
        default_region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
        partitions=partitions,
        botocore_version=botocore_version,
    )

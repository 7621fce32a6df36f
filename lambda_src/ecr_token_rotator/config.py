"""Settings: parse and validate the function's configuration (pure, no AWS calls).

The Lambda reads them from environment variables, the CLI from flags; both end in
`build_settings`, so a bad value gets the same specific error wherever it comes from, and the
error names the setting as the user gave it (`ECR_REGIONS` to the Lambda, `--ecr-region` to the
CLI: `SettingNames`).

Region names are checked against botocore's own partitions data (`partitions.json`): a region is
accepted when it is a well-formed name (lowercase letters, digits, hyphens) that matches one of
the partitions' `regionRegex`, e.g. `eu-central-1` (aws), `cn-north-1` (aws-cn) or
`eusc-de-east-1` (aws-eusc). A region newer than the runtime's botocore still passes when its
partition is known (the pattern, not the list of regions, decides); a region of a partition that
botocore does not know is refused, since botocore could not find its endpoints either.

Every registry host the docker config will list is known here, before anything is fetched or
written: regions x registry accounts x endpoint types (endpoints.py), plus ECR Public's. A type a
region does not offer, and more hosts than one secret value holds, fail here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .document import MAX_REGISTRY_HOSTS
from .endpoints import (
    DUALSTACK,
    ENDPOINT_TYPES,
    IPV4,
    PUBLIC_DUALSTACK_HOST,
    PUBLIC_HOSTS,
    PUBLIC_PARTITION,
    PUBLIC_REGION,
    EndpointNotOfferedError,
    HostPlan,
    host_template,
    parse_registry_host,
    public_hosts,
)
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
# ECR repository names: lowercase path components separated by "/", with ".", "_" or "-" inside.
# (On ECR Public the first component is the registry's alias.)
REPOSITORY_PATTERN = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z"
)
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}\Z")
DIGEST_PATTERN = re.compile(r"^sha256:[a-f0-9]{64}\Z")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off", "")


class SettingNames(NamedTuple):
    """What each setting is called where the user sets it, for error messages."""

    secret_id: str
    regions: str
    registry_ids: str
    endpoint_types: str
    ecr_public: str
    probe_images: str
    log_level: str
    home_region: str  # where a secret given by name lives, and the default ECR region


# Positional: a keyword `secret_id="SECRET_ID"` reads as a hard-coded password to bandit's rules.
ENVIRONMENT_NAMES = SettingNames(
    "SECRET_ID",
    regions="ECR_REGIONS",
    registry_ids="ECR_REGISTRY_IDS",
    endpoint_types="ECR_ENDPOINT_TYPES",
    ecr_public="ECR_PUBLIC",
    probe_images="PROBE_IMAGES",
    log_level="LOG_LEVEL",
    home_region="AWS_REGION",
)
FLAG_NAMES = SettingNames(
    "--secret-id",
    regions="--ecr-region",
    registry_ids="--registry-id",
    endpoint_types="--endpoint-type",
    ecr_public="--ecr-public",
    probe_images="--probe-image",
    log_level="--log-level",
    home_region="--region",
)


class ImageRef(NamedTuple):
    """An image to probe: `<host>/<repository>:<tag>` or `<host>/<repository>@sha256:<hex>`."""

    host: str
    registry_id: str | None  # None: ECR Public (its repository starts with the registry's alias)
    region: str  # the region whose token logs in to the host (ECR Public: us-east-1)
    repository: str
    reference: str  # a tag or a digest
    endpoint_type: str = IPV4

    def __str__(self) -> str:
        separator = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{separator}{self.reference}"


class Settings(NamedTuple):
    secret_id: str
    regions: tuple[str, ...]
    registry_ids: tuple[str, ...]  # empty: each region's own registry (the token's account)
    hosts: HostPlan  # the endpoint types, their host names per region, ECR Public's hosts
    probe_images: tuple[ImageRef, ...]
    log_level: str
    home_region: str  # where the function (or CLI) runs: the region of a secret given by name
    names: SettingNames = ENVIRONMENT_NAMES

    @property
    def secret_region(self) -> str:
        return region_of_secret(self.secret_id, self.home_region, self.names)


def region_of_secret(
    secret_id: str, home_region: str | None, names: SettingNames = ENVIRONMENT_NAMES
) -> str:
    """A secret ARN names its region; a bare name lives in the caller's own region."""
    match = SECRET_ARN_PATTERN.match(secret_id)
    if match:
        return match["region"]
    if not home_region:
        raise ConfigError(
            f"secret {secret_id!r} is given by name and no region is set: use its ARN, "
            f"or set {names.home_region}"
        )
    return home_region


def split_list(raw: str | None) -> list[str]:
    """Split a comma-separated setting, dropping blanks: `"a, b,,"` -> `["a", "b"]`."""
    if raw is None:
        return []
    return [item.strip() for item in raw.split(",") if item.strip()]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def parse_secret_id(raw: str | None, names: SettingNames = ENVIRONMENT_NAMES) -> str:
    secret_id = (raw or "").strip()
    if not secret_id:
        raise ConfigError(f"{names.secret_id} is required: set it to the name or ARN of the secret")
    if secret_id.startswith("arn:"):
        if not SECRET_ARN_PATTERN.match(secret_id):
            raise ConfigError(
                f"{names.secret_id} {secret_id!r} is not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
            )
    elif not SECRET_NAME_PATTERN.match(secret_id):
        raise ConfigError(
            f"{names.secret_id} {secret_id!r} is not a valid secret name: use 1-512 characters "
            "from letters, digits and /_+=.@-"
        )
    return secret_id


def find_partition(
    region: str, partitions: Sequence[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The partition (botocore's data) whose region pattern `region` matches, or None."""
    if not REGION_CHARACTERS.match(region):
        return None
    for partition in partitions:
        pattern = partition.get("regionRegex")
        if pattern and re.fullmatch(pattern, region, re.ASCII):
            return partition
    return None


def partition_of(region: str, partitions: Sequence[Mapping[str, Any]]) -> str | None:
    """The id of the partition whose region pattern `region` matches, or None."""
    partition = find_partition(region, partitions)
    return None if partition is None else str(partition["id"])


def parse_region(
    region: str,
    partitions: Sequence[Mapping[str, Any]],
    setting: str,
    *,
    botocore_version: str = "",
) -> str:
    """`region` if it is a region name of a partition botocore knows."""
    if partition_of(region, partitions) is None:
        known = ", ".join(str(partition["id"]) for partition in partitions)
        runtime = f"botocore {botocore_version}" if botocore_version else "botocore"
        raise ConfigError(
            f"{setting}: {region!r} is not an AWS region name (like eu-central-1) of a "
            f"partition {runtime} knows ({known}); for a new partition, use a newer runtime"
        )
    return region


def parse_regions(
    raw: Iterable[str],
    default_region: str | None,
    partitions: Sequence[Mapping[str, Any]],
    *,
    botocore_version: str = "",
    names: SettingNames = ENVIRONMENT_NAMES,
) -> tuple[str, ...]:
    regions = _unique(raw)
    if not regions:
        if not default_region:
            raise ConfigError(
                f"no ECR region: set {names.regions}, or {names.home_region} for the default"
            )
        regions = (default_region,)
    for region in regions:
        parse_region(region, partitions, names.regions, botocore_version=botocore_version)
    return regions


def parse_registry_ids(
    raw: Iterable[str], names: SettingNames = ENVIRONMENT_NAMES
) -> tuple[str, ...]:
    registry_ids = _unique(raw)
    for registry_id in registry_ids:
        if not ACCOUNT_ID_PATTERN.match(registry_id):
            raise ConfigError(
                f"{names.registry_ids}: {registry_id!r} is not a 12-digit AWS account ID"
            )
    return registry_ids


def parse_flag(raw: str | bool | None, setting: str) -> bool:
    """A yes/no setting: `true`/`false` (also 1/0, yes/no, on/off, any case); unset is false."""
    if isinstance(raw, bool):
        return raw
    word = (raw or "").strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ConfigError(f"{setting} {raw!r} is not true or false")
    return word in TRUE_WORDS


def parse_endpoint_types(
    raw: Iterable[str],
    regions: Sequence[str],
    partitions: Sequence[Mapping[str, Any]],
    names: SettingNames = ENVIRONMENT_NAMES,
) -> tuple[tuple[str, ...], dict[str, dict[str, str]]]:
    """The endpoint types (default: ipv4) and, per region, the host template of each (and of
    ipv4, which the token's proxyEndpoint is checked against)."""
    endpoint_types = _unique(raw) or (IPV4,)
    unknown = [name for name in endpoint_types if name not in ENDPOINT_TYPES]
    if unknown:
        raise ConfigError(
            f"{names.endpoint_types}: unknown endpoint type(s) "
            f"{', '.join(repr(name) for name in unknown)}: use one or more of "
            f"{', '.join(ENDPOINT_TYPES)}"
        )
    templates: dict[str, dict[str, str]] = {}
    refusals: list[str] = []
    for region in regions:
        partition = find_partition(region, partitions)
        if partition is None:  # parse_regions has refused it already
            raise ConfigError(f"{names.regions}: {region!r} is not an AWS region name")
        templates[region] = {}
        for endpoint_type in _unique((IPV4, *endpoint_types)):
            try:
                templates[region][endpoint_type] = host_template(region, endpoint_type, partition)
            except EndpointNotOfferedError as e:
                refusals.append(str(e))
    if refusals:
        raise ConfigError(
            f"{names.endpoint_types}: {'; '.join(refusals)}. Remove the type, or the region "
            f"from {names.regions}"
        )
    return endpoint_types, templates


def check_public(
    enabled: bool,
    regions: Iterable[str],
    partitions: Sequence[Mapping[str, Any]],
    names: SettingNames = ENVIRONMENT_NAMES,
) -> None:
    """ECR Public exists only in the aws partition: its token comes from us-east-1, which
    credentials of another partition cannot reach."""
    if not enabled:
        return
    for region in regions:
        partition = partition_of(region, partitions)
        if partition != PUBLIC_PARTITION:
            raise ConfigError(
                f"{names.ecr_public}: ECR Public exists only in the {PUBLIC_PARTITION} partition "
                f"(its token comes from {PUBLIC_REGION}), and {region} is in {partition}: turn "
                "it off for this function"
            )


def check_host_count(
    regions: Sequence[str],
    registry_ids: Sequence[str],
    hosts: HostPlan,
    names: SettingNames = ENVIRONMENT_NAMES,
) -> None:
    """Refuse more hosts than one secret value holds with real-sized passwords (document.py),
    before anything is fetched: each host's entry repeats its region's password in `auth`."""
    count = hosts.host_count(len(regions), len(registry_ids))
    if count <= MAX_REGISTRY_HOSTS:
        return
    public = f" + {len(hosts.public_hosts)} of ECR Public" if hosts.public_hosts else ""
    raise ConfigError(
        f"{count} registry hosts ({len(regions)} region(s) x {max(len(registry_ids), 1)} "
        f"registry account(s) x {len(hosts.endpoint_types)} endpoint type(s){public}) are more "
        f"than the {MAX_REGISTRY_HOSTS} one secret value holds (each entry carries an `auth` of "
        f"3,600 to 4,300+ characters): use fewer {names.regions}, {names.registry_ids} or "
        f"{names.endpoint_types}, or a second secret"
    )


def _malformed_image(raw: str, setting: str) -> ConfigError:
    return ConfigError(
        f"{setting}: {raw!r} is not an ECR image reference like "
        f"123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:latest (any ECR registry host: "
        f"dkr.ecr, dkr-ecr, dkr.ecr-fips, dkr-ecr-fips; or {' or '.join(PUBLIC_HOSTS)}"
        "/<alias>/<repository>:<tag> for ECR Public)"
    )


def parse_image_ref(raw: str, setting: str = ENVIRONMENT_NAMES.probe_images) -> ImageRef:
    """Parse `<registry host>/<repo>[:tag|@sha256:digest]` (tag: latest). The host is a private
    registry's (any endpoint type: whether its region offers that type is checked against the
    settings) or ECR Public's, whose repositories are `<alias>/<name>`."""
    host, slash, rest = raw.partition("/")
    if not slash:
        raise _malformed_image(raw, setting)
    if host in PUBLIC_HOSTS:
        registry_id, region = None, PUBLIC_REGION
        endpoint_type = DUALSTACK if host == PUBLIC_DUALSTACK_HOST else IPV4
    else:
        parts = parse_registry_host(host)
        if parts is None:
            raise _malformed_image(raw, setting)
        registry_id, region, endpoint_type = parts
    if "@" in rest:
        repository, _, reference = rest.partition("@")
        if not DIGEST_PATTERN.match(reference):
            raise ConfigError(f"{setting}: {raw!r} has a malformed digest (sha256:<64 hex>)")
    else:
        repository, colon, reference = rest.rpartition(":")
        if not colon:  # no tag given: docker's default
            repository, reference = rest, "latest"
        if not TAG_PATTERN.match(reference):
            raise ConfigError(f"{setting}: {raw!r} has a malformed tag {reference!r}")
    if not REPOSITORY_PATTERN.match(repository):
        raise ConfigError(f"{setting}: {raw!r} has a malformed repository name")
    if registry_id is None and "/" not in repository:
        raise ConfigError(
            f"{setting}: {raw!r} lacks the registry alias: ECR Public images are "
            f"{host}/<alias>/<repository>"
        )
    return ImageRef(
        host=host,
        registry_id=registry_id,
        region=region,
        repository=repository,
        reference=reference,
        endpoint_type=endpoint_type,
    )


def _check_private_image(
    image: ImageRef, registry_ids: tuple[str, ...], hosts: HostPlan, names: SettingNames
) -> None:
    setting = names.probe_images
    if image.region not in hosts.templates:
        raise ConfigError(
            f"{setting}: {image} is in region {image.region}, which is not in "
            f"{names.regions} ({','.join(hosts.templates)}); add the region or remove the image"
        )
    if image.endpoint_type not in hosts.endpoint_types:
        raise ConfigError(
            f"{setting}: {image} is on the {image.endpoint_type} endpoint, which is not in "
            f"{names.endpoint_types} ({','.join(hosts.endpoint_types)}); add "
            f"{image.endpoint_type} or probe the image on a host of a listed type"
        )
    expected = hosts.templates[image.region][image.endpoint_type].format(account=image.registry_id)
    if image.host != expected:
        raise ConfigError(
            f"{setting}: {image}: {image.host} is not a registry host of {image.region}; its "
            f"{image.endpoint_type} host is {expected}"
        )
    if registry_ids and image.registry_id not in registry_ids:
        raise ConfigError(
            f"{setting}: {image} is in registry {image.registry_id}, which is not in "
            f"{names.registry_ids} ({','.join(registry_ids)}); add the account or remove the image"
        )


def parse_probe_images(
    raw: Iterable[str],
    registry_ids: tuple[str, ...],
    hosts: HostPlan,
    names: SettingNames = ENVIRONMENT_NAMES,
) -> tuple[ImageRef, ...]:
    """The images to probe, each on a host the docker config will list."""
    images = tuple(parse_image_ref(item, names.probe_images) for item in _unique(raw))
    for image in images:
        if image.registry_id is not None:
            _check_private_image(image, registry_ids, hosts, names)
        elif not hosts.public_hosts:
            raise ConfigError(
                f"{names.probe_images}: {image} is on ECR Public, which is off: set "
                f"{names.ecr_public} or remove the image"
            )
        elif image.host not in hosts.public_hosts:
            raise ConfigError(
                f"{names.probe_images}: {image} is on ECR Public's dual-stack host, which the "
                f"docker config lists only with a dual-stack type in {names.endpoint_types}"
            )
    return images


def parse_log_level(raw: str | None, names: SettingNames = ENVIRONMENT_NAMES) -> str:
    level = (raw or "INFO").strip().upper()
    level = {"WARN": "WARNING"}.get(level, level)
    if level not in LOG_LEVELS:
        raise ConfigError(f"{names.log_level} {raw!r} is not one of {', '.join(LOG_LEVELS)}")
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
    endpoint_types: Iterable[str] = (),
    ecr_public: str | bool | None = None,
    botocore_version: str = "",
    names: SettingNames = ENVIRONMENT_NAMES,
) -> Settings:
    parsed_secret_id = parse_secret_id(secret_id, names)
    parsed_regions = parse_regions(
        regions, default_region, partitions, botocore_version=botocore_version, names=names
    )
    home_region = default_region or parsed_regions[0]
    parsed_registry_ids = parse_registry_ids(registry_ids, names)
    types, templates = parse_endpoint_types(endpoint_types, parsed_regions, partitions, names)
    public = parse_flag(ecr_public, names.ecr_public)
    check_public(public, _unique((home_region, *parsed_regions)), partitions, names)
    hosts = HostPlan(
        endpoint_types=types,
        templates=templates,
        public_hosts=public_hosts(types) if public else (),
    )
    check_host_count(parsed_regions, parsed_registry_ids, hosts, names)
    return Settings(
        secret_id=parsed_secret_id,
        regions=parsed_regions,
        registry_ids=parsed_registry_ids,
        hosts=hosts,
        probe_images=parse_probe_images(probe_images, parsed_registry_ids, hosts, names),
        log_level=parse_log_level(log_level, names),
        home_region=home_region,
        names=names,
    )


# What settings_from_environment reads.
ENVIRONMENT_VARIABLES = (
    "SECRET_ID",
    "ECR_REGIONS",
    "ECR_REGISTRY_IDS",
    "ECR_ENDPOINT_TYPES",
    "ECR_PUBLIC",
    "PROBE_IMAGES",
    "LOG_LEVEL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
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
        endpoint_types=split_list(environ.get("ECR_ENDPOINT_TYPES")),
        ecr_public=environ.get("ECR_PUBLIC"),
        probe_images=split_list(environ.get("PROBE_IMAGES")),
        log_level=environ.get("LOG_LEVEL"),
        default_region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
        partitions=partitions,
        botocore_version=botocore_version,
    )

"""Configuration parsing: defaults, normalisation, and one specific error per bad value."""

from __future__ import annotations

import pytest

from ecr_token_rotator import aws, handler
from ecr_token_rotator.config import (
    ENVIRONMENT_VARIABLES,
    ImageRef,
    Settings,
    parse_image_ref,
    parse_regions,
    parse_registry_ids,
    region_of_secret,
    settings_from_environment,
    split_list,
)
from ecr_token_rotator.errors import ConfigError

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pull-AbCdEf"
IMAGE_HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"


def env(**values: str) -> dict[str, str]:
    return {"AWS_REGION": "eu-central-1", "SECRET_ID": ARN, **values}


def config_from_environment(environ: dict[str, str]) -> Settings:
    return settings_from_environment(environ, aws.partitions())


def test_defaults_use_the_function_region_and_its_own_registry() -> None:
    config = config_from_environment(env())
    assert config.secret_id == ARN
    assert config.regions == ("eu-central-1",)
    assert config.registry_ids == ()
    assert config.probe_images == ()
    assert config.log_level == "INFO"


def test_lists_are_trimmed_and_deduplicated_in_order() -> None:
    config = config_from_environment(
        env(
            ECR_REGIONS=" us-east-1, eu-west-1,us-east-1,",
            ECR_REGISTRY_IDS="210987654321 ,123456789012,210987654321",
        )
    )
    assert config.regions == ("us-east-1", "eu-west-1")
    assert config.registry_ids == ("210987654321", "123456789012")


@pytest.mark.parametrize(
    ("secret_id", "home", "region"),
    [(ARN, "us-east-1", "eu-west-1"), ("ecr-pull", "us-east-1", "us-east-1")],
)
def test_secret_region_is_the_arns_or_home(secret_id: str, home: str, region: str) -> None:
    assert region_of_secret(secret_id, home) == region


def test_secret_by_name_without_any_region_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no region"):
        region_of_secret("ecr-pull", None)


def test_the_secret_of_a_name_lives_in_the_function_region_not_the_first_ecr_region() -> None:
    config = config_from_environment(env(SECRET_ID="ecr-pull", ECR_REGIONS="us-east-1"))
    assert config.secret_region == "eu-central-1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            f"{IMAGE_HOST}/app:1.0",
            ImageRef(IMAGE_HOST, "123456789012", "eu-central-1", "app", "1.0"),
        ),
        (
            f"{IMAGE_HOST}/team/app",
            ImageRef(IMAGE_HOST, "123456789012", "eu-central-1", "team/app", "latest"),
        ),
        (
            f"{IMAGE_HOST}/a/b@sha256:{'a' * 64}",
            ImageRef(IMAGE_HOST, "123456789012", "eu-central-1", "a/b", f"sha256:{'a' * 64}"),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1",
            ImageRef(
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                "123456789012",
                "cn-north-1",
                "app",
                "v1",
            ),
        ),
    ],
)
def test_image_references(raw: str, expected: ImageRef) -> None:
    assert parse_image_ref(raw) == expected
    assert str(parse_image_ref(raw)).startswith(IMAGE_HOST.split(".", 1)[0])


@pytest.mark.parametrize(
    "raw",
    [
        "app:latest",
        "docker.io/library/nginx:1",
        f"{IMAGE_HOST}",
        f"{IMAGE_HOST}/",
        f"{IMAGE_HOST}/App:1",
        f"{IMAGE_HOST}/app:-bad",
        f"{IMAGE_HOST}/app@sha256:short",
        "12345.dkr.ecr.eu-central-1.amazonaws.com/app:1",
    ],
)
def test_bad_image_references_are_rejected(raw: str) -> None:
    with pytest.raises(ConfigError, match="PROBE_IMAGES"):
        parse_image_ref(raw)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"SECRET_ID": ""}, "SECRET_ID is required"),
        ({"SECRET_ID": "arn:aws:secretsmanager:eu-west-1:1234:secret:x"}, "not a Secrets Manager"),
        ({"SECRET_ID": "has space"}, "not a valid secret name"),
        ({"ECR_REGIONS": "eu-central-1,EU-WEST-1"}, "'EU-WEST-1' is not an AWS region"),
        ({"ECR_REGISTRY_IDS": "12345678901a"}, "'12345678901a' is not a 12-digit"),
        ({"PROBE_IMAGES": f"{IMAGE_HOST.replace('eu-central-1', 'us-east-1')}/app:1"}, "us-east-1"),
        (
            {"ECR_REGISTRY_IDS": "210987654321", "PROBE_IMAGES": f"{IMAGE_HOST}/app:1"},
            "registry 123456789012, which is not in ECR_REGISTRY_IDS",
        ),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL 'verbose'"),
    ],
)
def test_each_bad_value_gets_a_specific_error(settings: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(env(**settings))
    assert words in str(raised.value)


def test_no_region_at_all_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no ECR region"):
        config_from_environment({"SECRET_ID": ARN})


@pytest.mark.parametrize(
    ("raw", "level"), [("debug", "DEBUG"), ("WARN", "WARNING"), (None, "INFO")]
)
def test_log_levels(raw: str | None, level: str) -> None:
    settings = env() if raw is None else env(LOG_LEVEL=raw)
    assert config_from_environment(settings).log_level == level


def test_split_list_ignores_blanks() -> None:
    assert split_list(" a, ,b,, ") == ["a", "b"]
    assert split_list(None) == []


# ---- regions: botocore's partitions data -----------------------------------------------------


def botocore_regions() -> list[str]:
    """Every region of every partition in this botocore, less the "<partition>-global"
    pseudo-regions of its endpoint data (no service has registries there)."""
    return [
        region
        for partition in aws.partitions()
        for region in partition["regions"]
        if not region.endswith("-global")
    ]


def test_botocore_knows_the_regions_this_test_relies_on() -> None:
    """Guards the parametrisation below: a botocore without them would make it prove less."""
    assert {"eu-central-1", "cn-north-1", "us-gov-west-1", "eusc-de-east-1"} <= set(
        botocore_regions()
    )


@pytest.mark.parametrize("region", botocore_regions())
def test_every_region_botocore_knows_is_accepted(region: str) -> None:
    assert parse_regions([region], None, aws.partitions()) == (region,)


@pytest.mark.parametrize(
    "region",
    [
        "eu-central-9",  # not yet in this botocore's list: its partition's pattern decides
        "ap-southeast-99",
        "eusc-de-west-1",
        "us-gov-north-1",
        "cn-southwest-1",
    ],
)
def test_a_new_region_of_a_known_partition_is_accepted(region: str) -> None:
    assert parse_regions([region], None, aws.partitions()) == (region,)


@pytest.mark.parametrize(
    "region",
    [
        "aws-global",  # endpoint data's pseudo-region
        "eu_central-1",  # regionRegex's \w would let "_" in
        "eu-Central-1",
        "EU-CENTRAL-1",
        "eu-central-1\n",
        "eu-central-1 ",
        "eu-central",
        "moon-base-1",  # no partition's pattern
        "eusc-fr-east-1",  # the European Sovereign Cloud's pattern names its countries
        "eu-central-\u0661",  # an Arabic-Indic digit
        "",
    ],
)
def test_names_no_partition_matches_are_rejected(region: str) -> None:
    with pytest.raises(ConfigError, match="is not an AWS region name") as raised:
        parse_regions(["eu-central-1", region], None, aws.partitions())
    assert repr(region) in str(raised.value)


def test_a_runtime_whose_botocore_lacks_a_partition_says_so() -> None:
    """An older botocore (an older Lambda runtime) without aws-eusc: refused, naming botocore."""
    older = [partition for partition in aws.partitions() if partition["id"] != "aws-eusc"]
    with pytest.raises(ConfigError) as raised:
        parse_regions(["eusc-de-east-1"], None, older, botocore_version="1.34.0")
    message = str(raised.value)
    assert "'eusc-de-east-1'" in message
    assert "botocore 1.34.0" in message
    assert "aws-eusc" not in message
    assert "newer runtime" in message


def test_the_european_sovereign_cloud_from_the_environment() -> None:
    settings = config_from_environment(env(ECR_REGIONS="eusc-de-east-1,eu-central-1"))
    assert settings.regions == ("eusc-de-east-1", "eu-central-1")


# ---- account IDs: exactly 12 digits ---------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        "12345678901",
        "1234567890123",
        "12345678901a",
        "",
        "\uff11" * 12,
        "123456789012 ",
    ],
    ids=["11 digits", "13 digits", "a letter", "empty", "full-width digits", "trailing space"],
)
def test_an_account_id_of_any_other_shape_is_refused(account: str) -> None:
    with pytest.raises(ConfigError, match=r"is not a 12-digit AWS account ID"):
        parse_registry_ids([account])
    with pytest.raises(ConfigError, match="PROBE_IMAGES"):
        parse_image_ref(f"{account}.dkr.ecr.eu-central-1.amazonaws.com/app:1")


def test_twelve_digits_are_accepted() -> None:
    assert parse_registry_ids(["000000000000", "123456789012"]) == ("000000000000", "123456789012")


# ---- endpoint types, ECR Public, and the hosts they add up to ---------------------------------


def test_the_default_endpoint_type_is_ipv4() -> None:
    settings = config_from_environment(env(ECR_REGIONS="eu-central-1,cn-north-1"))
    assert settings.hosts.endpoint_types == ("ipv4",)
    assert settings.hosts.private_hosts("cn-north-1", "123456789012") == [
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
    ]
    assert settings.hosts.public_hosts == ()


def test_endpoint_types_in_the_given_order_per_region() -> None:
    settings = config_from_environment(
        env(ECR_REGIONS="us-east-1,cn-north-1", ECR_ENDPOINT_TYPES=" dualstack, ipv4,dualstack")
    )
    assert settings.hosts.endpoint_types == ("dualstack", "ipv4")
    assert settings.hosts.private_hosts("us-east-1", "210987654321") == [
        "210987654321.dkr-ecr.us-east-1.on.aws",
        "210987654321.dkr.ecr.us-east-1.amazonaws.com",
    ]
    assert settings.hosts.private_hosts("cn-north-1", "210987654321") == [
        "210987654321.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
        "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
    ]


def test_unknown_endpoint_types_are_all_named() -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(env(ECR_ENDPOINT_TYPES="ipv4,IPv6,dual-stack"))
    message = str(raised.value)
    assert "ECR_ENDPOINT_TYPES: unknown endpoint type(s) 'IPv6', 'dual-stack'" in message
    assert "ipv4, dualstack, fips, dualstack-fips" in message


def test_every_region_and_type_that_is_not_offered_is_named_before_anything_runs() -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(
            env(
                ECR_REGIONS="us-east-1,eu-central-1,eusc-de-east-1",
                ECR_ENDPOINT_TYPES="fips,dualstack",
            )
        )
    message = str(raised.value)
    assert "fips is not offered in eu-central-1" in message
    assert "fips is not offered in eusc-de-east-1" in message
    assert "dualstack is not offered in eusc-de-east-1" in message
    assert "us-east-1" not in message.split(":")[1]  # us-east-1 offers both


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ecr_public_adds_its_hosts(value: str) -> None:
    settings = config_from_environment(env(ECR_PUBLIC=value))
    assert settings.hosts.public_hosts == ("public.ecr.aws",)
    dual = config_from_environment(env(ECR_PUBLIC=value, ECR_ENDPOINT_TYPES="ipv4,dualstack"))
    assert dual.hosts.public_hosts == ("public.ecr.aws", "ecr-public.aws.com")


@pytest.mark.parametrize("value", ["false", "0", "no", ""])
def test_ecr_public_off(value: str) -> None:
    assert config_from_environment(env(ECR_PUBLIC=value)).hosts.public_hosts == ()


def test_ecr_public_needs_a_yes_or_no() -> None:
    with pytest.raises(ConfigError, match="ECR_PUBLIC 'maybe' is not true or false"):
        config_from_environment(env(ECR_PUBLIC="maybe"))


@pytest.mark.parametrize(
    ("settings", "region", "partition"),
    [
        ({"ECR_REGIONS": "cn-north-1"}, "cn-north-1", "aws-cn"),
        ({"ECR_REGIONS": "us-gov-west-1"}, "us-gov-west-1", "aws-us-gov"),
        (
            {"AWS_REGION": "eusc-de-east-1", "ECR_REGIONS": "eu-central-1"},
            "eusc-de-east-1",
            "aws-eusc",
        ),
    ],
)
def test_ecr_public_is_refused_outside_the_aws_partition(
    settings: dict[str, str], region: str, partition: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(env(ECR_PUBLIC="true", **settings))
    assert f"{region} is in {partition}" in str(raised.value)
    assert "ECR_PUBLIC" in str(raised.value)


@pytest.mark.parametrize(
    ("settings", "hosts"),
    [
        (
            {
                "ECR_REGIONS": "us-east-1,us-east-2,us-west-2",
                "ECR_ENDPOINT_TYPES": "ipv4,dualstack,fips,dualstack-fips",
            },
            12,
        ),
        (
            {
                "ECR_REGIONS": "us-east-1",
                "ECR_REGISTRY_IDS": "123456789012,210987654321,111111111111",
                "ECR_ENDPOINT_TYPES": "ipv4,dualstack,fips",
                "ECR_PUBLIC": "true",
            },
            11,
        ),
        (
            {
                "ECR_REGIONS": "eu-central-1,us-east-1",
                "ECR_ENDPOINT_TYPES": "ipv4,dualstack",
                "ECR_PUBLIC": "true",
                "ECR_REGISTRY_IDS": "123456789012,210987654321",
            },
            10,
        ),
    ],
)
def test_endpoint_types_and_ecr_public_count_towards_the_bound(
    settings: dict[str, str], hosts: int
) -> None:
    parsed = config_from_environment(env(**settings))
    assert parsed.hosts.host_count(len(parsed.regions), len(parsed.registry_ids)) == hosts


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (
            {
                "ECR_REGIONS": "us-east-1,us-east-2,us-west-2",
                "ECR_REGISTRY_IDS": "123456789012,210987654321",
                "ECR_ENDPOINT_TYPES": "ipv4,fips",
                "ECR_PUBLIC": "true",
            },
            "13 registry hosts (3 region(s) x 2 registry account(s) x 2 endpoint type(s) + 1 of "
            "ECR Public)",
        ),
        (
            {
                "ECR_REGIONS": "us-east-1,us-east-2,us-west-2,us-west-1",
                "ECR_ENDPOINT_TYPES": "ipv4,dualstack,fips,dualstack-fips",
            },
            "16 registry hosts (4 region(s) x 1 registry account(s) x 4 endpoint type(s))",
        ),
    ],
)
def test_more_hosts_than_a_secret_holds_fail_at_configuration(
    settings: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(env(**settings))
    message = str(raised.value)
    assert words in message
    assert "ECR_REGIONS, ECR_REGISTRY_IDS or ECR_ENDPOINT_TYPES" in message


# ---- probe images on every host form ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "endpoint_type"),
    [
        ("123456789012.dkr-ecr.us-east-1.on.aws/team/app:1", "us-east-1", "dualstack"),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/team/app:1", "us-east-1", "fips"),
        ("123456789012.dkr-ecr-fips.us-east-1.on.aws/team/app:1", "us-east-1", "dualstack-fips"),
        (
            "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn/app:1",
            "cn-north-1",
            "dualstack",
        ),
        ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu/app:1", "eusc-de-east-1", "ipv4"),
    ],
)
def test_probe_images_on_every_endpoint_type(raw: str, region: str, endpoint_type: str) -> None:
    settings = config_from_environment(
        env(ECR_REGIONS=region, ECR_ENDPOINT_TYPES=endpoint_type, PROBE_IMAGES=raw)
    )
    [image] = settings.probe_images
    assert (image.region, image.endpoint_type, image.registry_id) == (
        region,
        endpoint_type,
        "123456789012",
    )
    assert str(image) == raw


@pytest.mark.parametrize(
    ("raw", "types", "repository"),
    [
        ("public.ecr.aws/docker/library/nginx:1.27", "ipv4", "docker/library/nginx"),
        (
            "ecr-public.aws.com/eks-distro/kubernetes/pause:3.9",
            "ipv4,dualstack",
            "eks-distro/kubernetes/pause",
        ),
    ],
)
def test_public_images_need_ecr_public(raw: str, types: str, repository: str) -> None:
    settings = config_from_environment(
        env(ECR_PUBLIC="true", ECR_ENDPOINT_TYPES=types, PROBE_IMAGES=raw)
    )
    [image] = settings.probe_images
    assert (image.registry_id, image.region, image.repository) == (None, "us-east-1", repository)
    assert str(image) == raw


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        (
            {"PROBE_IMAGES": "123456789012.dkr-ecr.eu-central-1.on.aws/app:1"},
            "on the dualstack endpoint, which is not in ECR_ENDPOINT_TYPES (ipv4)",
        ),
        (
            {
                "ECR_ENDPOINT_TYPES": "dualstack",
                "PROBE_IMAGES": "123456789012.dkr-ecr.eu-central-1.amazonaws.com/app:1",
            },
            "is not a registry host of eu-central-1; its dualstack host is "
            "123456789012.dkr-ecr.eu-central-1.on.aws",
        ),
        (
            {
                "ECR_REGIONS": "cn-north-1",
                "PROBE_IMAGES": "123456789012.dkr.ecr.cn-north-1.amazonaws.com/app:1",
            },
            "its ipv4 host is 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
        ),
        (
            {"PROBE_IMAGES": "123456789012.dkr.ecr-fips.eu-central-1.amazonaws.com/app:1"},
            "on the fips endpoint, which is not in ECR_ENDPOINT_TYPES",
        ),
        (
            {"PROBE_IMAGES": "public.ecr.aws/team/app:1"},
            "is on ECR Public, which is off: set ECR_PUBLIC",
        ),
        (
            {"ECR_PUBLIC": "true", "PROBE_IMAGES": "ecr-public.aws.com/team/app:1"},
            "ECR Public's dual-stack host",
        ),
        (
            {"ECR_PUBLIC": "true", "PROBE_IMAGES": "public.ecr.aws/nginx:1"},
            "lacks the registry alias",
        ),
    ],
)
def test_probe_images_must_be_on_a_host_the_docker_config_lists(
    settings: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config_from_environment(env(**settings))
    assert words in str(raised.value)


def test_the_lambdas_settings_are_parsed_once_per_environment() -> None:
    """A warm container's environment does not change: its settings are parsed once."""
    values = tuple(env(ECR_REGIONS="us-east-1").get(name) for name in ENVIRONMENT_VARIABLES)
    assert handler._settings(values) is handler._settings(values)
    other = tuple(env(ECR_REGIONS="eu-west-1").get(name) for name in ENVIRONMENT_VARIABLES)
    assert handler._settings(other).regions == ("eu-west-1",)
    bad = tuple(env(ECR_REGIONS="mars").get(name) for name in ENVIRONMENT_VARIABLES)
    for _ in range(2):  # a failure is not remembered: every run reports it
        with pytest.raises(ConfigError, match="'mars'"):
            handler._settings(bad)

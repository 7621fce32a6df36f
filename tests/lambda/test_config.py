"""Configuration parsing: defaults, normalisation, and one specific error per bad value."""

from __future__ import annotations

import pytest

from ecr_token_rotator import aws
from ecr_token_rotator.config import (
    ImageRef,
    Settings,
    parse_image_ref,
    parse_regions,
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

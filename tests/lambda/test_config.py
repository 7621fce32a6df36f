"""Configuration parsing: defaults, normalisation, and one specific error per bad value."""

from __future__ import annotations

import pytest

from ecr_token_rotator.config import (
    ImageRef,
    config_from_environment,
    parse_image_ref,
    region_of_secret,
    split_list,
)
from ecr_token_rotator.errors import ConfigError

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pull-AbCdEf"
IMAGE_HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"


def env(**values: str) -> dict[str, str]:
    return {"AWS_REGION": "eu-central-1", "SECRET_ID": ARN, **values}


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

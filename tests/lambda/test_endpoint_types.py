"""A refresh writes every endpoint a cluster pulls from: each endpoint type in each partition
(moto, with AWS's proxyEndpoint per partition), ECR Public (botocore's Stubber: moto has none),
the pull probe on those hosts, and the size bound with several types."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from ecr_token_rotator.document import MAX_REGISTRY_HOSTS, MAX_SECRET_VALUE_BYTES
from ecr_token_rotator.errors import ConfigError, EcrTokenError, PermissionDeniedError, ProbeError
from tests.conftest import ACCOUNT_ID, Harness
from tests.support.ecr_public import PublicEcr, stubbed_ecr_public
from tests.support.failures import DEFAULT_POLICY, SEED_DOCUMENT
from tests.support.faults import inject_error

OTHER_ACCOUNT = "210987654321"

# region -> (endpoint types it offers, the hosts of ACCOUNT_ID in that order)
PARTITIONS = {
    "us-east-1": (
        "ipv4,dualstack,fips,dualstack-fips",
        [
            f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com",
            f"{ACCOUNT_ID}.dkr-ecr.us-east-1.on.aws",
            f"{ACCOUNT_ID}.dkr.ecr-fips.us-east-1.amazonaws.com",
            f"{ACCOUNT_ID}.dkr-ecr-fips.us-east-1.on.aws",
        ],
    ),
    "eu-central-1": (
        "ipv4,dualstack",
        [
            f"{ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com",
            f"{ACCOUNT_ID}.dkr-ecr.eu-central-1.on.aws",
        ],
    ),
    "us-gov-west-1": (
        "dualstack-fips,fips,dualstack,ipv4",
        [
            f"{ACCOUNT_ID}.dkr-ecr-fips.us-gov-west-1.on.aws",
            f"{ACCOUNT_ID}.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            f"{ACCOUNT_ID}.dkr-ecr.us-gov-west-1.on.aws",
            f"{ACCOUNT_ID}.dkr.ecr.us-gov-west-1.amazonaws.com",
        ],
    ),
    "cn-north-1": (
        "ipv4,dualstack",
        [
            f"{ACCOUNT_ID}.dkr.ecr.cn-north-1.amazonaws.com.cn",
            f"{ACCOUNT_ID}.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
        ],
    ),
    "eusc-de-east-1": ("ipv4", [f"{ACCOUNT_ID}.dkr.ecr.eusc-de-east-1.amazonaws.eu"]),
    "us-iso-east-1": ("ipv4", [f"{ACCOUNT_ID}.dkr.ecr.us-iso-east-1.c2s.ic.gov"]),
}


def auths_of(harness: Harness, arn: str) -> dict[str, str]:
    config = json.loads(harness.document(arn)["dockerconfigjson"])
    return {host: entry["auth"] for host, entry in config["auths"].items()}


def login(auth: str) -> str:
    return base64.b64decode(auth).decode()


@pytest.mark.parametrize("region", sorted(PARTITIONS))
def test_every_type_a_partition_offers_is_written_with_the_regions_token(
    harness: Harness, region: str
) -> None:
    types, hosts = PARTITIONS[region]
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, ECR_REGIONS=region, ECR_ENDPOINT_TYPES=types)

    result = harness.invoke()

    assert result["registry_hosts"] == hosts
    auths = auths_of(harness, arn)
    assert list(auths) == hosts
    [password] = harness.issued.passwords  # one token for the region, on every endpoint
    assert {login(auth) for auth in auths.values()} == {f"AWS:{password}"}
    document = harness.document(arn)
    assert document["registry"] == hosts[0]
    assert document["team"] == "platform"


def test_hosts_are_region_by_account_by_type(harness: Harness) -> None:
    arn = harness.create_secret()
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="eu-central-1,us-east-1",
        ECR_REGISTRY_IDS=f"{ACCOUNT_ID},{OTHER_ACCOUNT}",
        ECR_ENDPOINT_TYPES="ipv4,dualstack",
    )

    result = harness.invoke()

    assert result["registry_hosts"] == [
        f"{account}.{prefix}.{region}.{suffix}"
        for region in ("eu-central-1", "us-east-1")
        for account in (ACCOUNT_ID, OTHER_ACCOUNT)
        for prefix, suffix in (("dkr.ecr", "amazonaws.com"), ("dkr-ecr", "on.aws"))
    ]
    logins: dict[str, set[str]] = {"eu-central-1": set(), "us-east-1": set()}
    for host, auth in auths_of(harness, arn).items():
        logins["eu-central-1" if ".eu-central-1." in host else "us-east-1"].add(login(auth))
    # one token per region (fetched concurrently: in either order), on all of its hosts
    assert sorted(logins.values(), key=min) == sorted(
        ({f"AWS:{password}"} for password in harness.issued.passwords), key=min
    )


@pytest.mark.parametrize(
    ("regions", "types", "words"),
    [
        ("eu-central-1", "fips", "fips is not offered in eu-central-1"),
        ("us-east-1,cn-north-1", "ipv4,fips", "fips is not offered in cn-north-1"),
        ("eusc-de-east-1", "dualstack", "dualstack is not offered in eusc-de-east-1"),
        ("us-isob-east-1", "dualstack-fips", "dualstack-fips is not offered in us-isob-east-1"),
    ],
)
def test_a_type_a_region_does_not_offer_fails_before_anything_is_fetched(
    harness: Harness, regions: str, types: str, words: str
) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, ECR_REGIONS=regions, ECR_ENDPOINT_TYPES=types)
    before = harness.snapshot(arn)

    with pytest.raises(ConfigError, match=words):
        harness.invoke()

    assert harness.issued.passwords == []
    assert harness.snapshot(arn) == before


# ---- the pull probe on dual-stack and FIPS hosts ----------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        f"{ACCOUNT_ID}.dkr-ecr.us-east-1.on.aws",
        f"{ACCOUNT_ID}.dkr.ecr-fips.us-east-1.amazonaws.com",
        f"{ACCOUNT_ID}.dkr-ecr-fips.us-east-1.on.aws",
    ],
)
def test_the_probe_pulls_from_the_images_own_host_with_the_regions_token(
    harness: Harness, host: str
) -> None:
    arn = harness.create_secret()
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="us-east-1",
        ECR_ENDPOINT_TYPES="ipv4,dualstack,fips,dualstack-fips",
        PROBE_IMAGES=f"{host}/team/app:1.0",
    )

    harness.invoke()

    [(probed_host, path, auth)] = harness.stub.state.requests
    assert (probed_host, path) == (host, "/v2/team/app/manifests/1.0")
    assert auth == auths_of(harness, arn)[host]


def test_a_dual_stack_host_that_refuses_the_token_fails_the_run(harness: Harness) -> None:
    """How a user learns that their setup's dual-stack registry does not take the region's token:
    the probe on that host fails and nothing is published."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    host = f"{ACCOUNT_ID}.dkr-ecr.us-east-1.on.aws"
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="us-east-1",
        ECR_ENDPOINT_TYPES="ipv4,dualstack",
        PROBE_IMAGES=f"{host}/team/app:1.0",
    )
    harness.stub.state.statuses["team/app"] = 401
    before = harness.snapshot(arn)

    with pytest.raises(ProbeError) as raised:
        harness.invoke()

    assert f"{host}/team/app:1.0: HTTP 401 from the registry" in str(raised.value)
    assert harness.snapshot(arn) == before


# ---- ECR Public ---------------------------------------------------------------------------------


@pytest.fixture
def public(harness: Harness) -> Iterator[PublicEcr]:
    with stubbed_ecr_public(DEFAULT_POLICY, harness.issued) as stubbed:
        yield stubbed


def test_ecr_public_gets_its_own_entry_with_its_own_token(
    harness: Harness, public: PublicEcr
) -> None:
    public.issue()
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, ECR_PUBLIC="true")

    result = harness.invoke()

    private_host = f"{ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com"
    assert result["registry_hosts"] == [private_host, "public.ecr.aws"]
    [public_password] = [p for p in harness.issued.passwords if p.startswith("public-")]
    [private_password] = [p for p in harness.issued.passwords if p.startswith(ACCOUNT_ID)]
    auths = auths_of(harness, arn)
    assert login(auths[private_host]) == f"AWS:{private_password}"
    assert login(auths["public.ecr.aws"]) == f"AWS:{public_password}"
    document = harness.document(arn)
    assert (document["registry"], document["password"]) == (private_host, private_password)
    # the earliest expiry of all tokens (ECR Public's, queued before the run)
    assert document["expires_at"] == min(harness.issued.expiries).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ecr_publics_dual_stack_host_with_a_dual_stack_type(
    harness: Harness, public: PublicEcr
) -> None:
    public.issue()
    arn = harness.create_secret()
    harness.configure(SECRET_ID=arn, ECR_PUBLIC="true", ECR_ENDPOINT_TYPES="dualstack")

    result = harness.invoke()

    assert result["registry_hosts"] == [
        f"{ACCOUNT_ID}.dkr-ecr.eu-central-1.on.aws",
        "public.ecr.aws",
        "ecr-public.aws.com",
    ]
    auths = auths_of(harness, arn)
    assert auths["public.ecr.aws"] == auths["ecr-public.aws.com"]


@pytest.mark.parametrize("host", ["public.ecr.aws", "ecr-public.aws.com"])
def test_the_probe_pulls_from_ecr_public_through_its_token_service(
    harness: Harness, public: PublicEcr, host: str
) -> None:
    public.issue()
    arn = harness.create_secret()
    harness.configure(
        SECRET_ID=arn,
        ECR_PUBLIC="true",
        ECR_ENDPOINT_TYPES="ipv4,dualstack",
        PROBE_IMAGES=f"{host}/eks-distro/kubernetes/pause:3.9",
    )

    harness.invoke()

    state = harness.stub.state
    [(token_host, token_path, token_auth)] = state.token_requests
    assert token_host == host
    assert token_path.startswith(
        "/token/?scope=repository%3Aeks-distro%2Fkubernetes%2Fpause%3Apull"
    )
    assert token_auth == auths_of(harness, arn)[host]  # ECR Public's login, as docker sends it
    path = "/v2/eks-distro/kubernetes/pause/manifests/3.9"
    assert [(h, p) for h, p, _ in state.requests] == [(host, path), (host, path)]
    assert state.requests[1][2] == f"Bearer {state.bearer_tokens[0]}"


def test_ecr_public_refusing_the_token_fails_the_probe(harness: Harness, public: PublicEcr) -> None:
    public.issue()
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(
        SECRET_ID=arn, ECR_PUBLIC="true", PROBE_IMAGES="public.ecr.aws/docker/library/nginx:1"
    )
    harness.stub.state.authorize = lambda auth: False  # e.g. an expired token
    before = harness.snapshot(arn)

    with pytest.raises(ProbeError) as raised:
        harness.invoke()

    message = str(raised.value)
    assert "HTTP 403 from the token service at public.ecr.aws" in message
    assert "ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken" in message
    assert raised.value.denied_action == "ecr-public:GetAuthorizationToken"
    assert harness.snapshot(arn) == before


@pytest.mark.parametrize(
    ("message", "action"),
    [
        (
            "User is not authorized to perform: ecr-public:GetAuthorizationToken",
            "ecr-public:GetAuthorizationToken",
        ),
        (
            "User is not authorized to perform: sts:GetServiceBearerToken",
            "sts:GetServiceBearerToken",
        ),
    ],
)
def test_a_denied_ecr_public_names_the_action_and_publishes_nothing(
    harness: Harness, public: PublicEcr, message: str, action: str
) -> None:
    public.fail("AccessDeniedException", message)
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, ECR_PUBLIC="true")
    before = harness.snapshot(arn)

    with pytest.raises(PermissionDeniedError) as raised:
        harness.invoke()

    assert raised.value.denied_action == action
    assert raised.value.step == "ecr-public:GetAuthorizationToken"
    assert harness.snapshot(arn) == before


def test_a_failing_region_and_ecr_public_are_both_named(harness: Harness) -> None:
    inject_error("ecr", "us-east-1", "GetAuthorizationToken", "AccessDeniedException")
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, ECR_PUBLIC="true", ECR_REGIONS="eu-central-1,us-east-1")

    with stubbed_ecr_public(DEFAULT_POLICY, harness.issued) as public:  # after inject_error's reset
        public.fail("ThrottlingException")
        with pytest.raises(EcrTokenError) as raised:
            harness.invoke()

    text = str(raised.value)
    assert text.startswith("2 of 3 token requests (regions and ECR Public) failed")
    assert "ECR in us-east-1 denied" in text
    assert "ECR Public throttled GetAuthorizationToken" in text
    assert raised.value.denied_action == "ecr:GetAuthorizationToken"


# ---- the size bound, with several types ---------------------------------------------------------


def test_the_bound_with_every_type_is_written_with_real_sized_passwords(
    harness: Harness, public: PublicEcr
) -> None:
    """3 FIPS regions x 3 types + ECR Public's 2 hosts = 11, passwords of 3,200 characters."""
    harness.issued.password_length = 3_200
    public.issue()
    arn = harness.create_secret(value={"team": "platform"})
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="us-east-1,us-east-2,us-west-2",
        ECR_ENDPOINT_TYPES="ipv4,dualstack,fips",
        ECR_PUBLIC="true",
    )

    result = harness.invoke()

    assert len(result["registry_hosts"]) == 11 <= MAX_REGISTRY_HOSTS
    value = harness.secrets().get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) <= MAX_SECRET_VALUE_BYTES
    assert len(auths_of(harness, arn)) == 11


def test_types_beyond_the_bound_fail_before_anything_is_fetched(harness: Harness) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(
        SECRET_ID=arn,
        ECR_REGIONS="us-east-1,us-east-2,us-west-2,us-west-1",
        ECR_ENDPOINT_TYPES="ipv4,dualstack,fips,dualstack-fips",
    )

    with pytest.raises(ConfigError) as raised:
        harness.invoke()

    assert "16 registry hosts (4 region(s) x 1 registry account(s) x 4 endpoint type(s))" in str(
        raised.value
    )
    assert harness.issued.passwords == []

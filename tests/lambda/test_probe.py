"""The pull probe: against the loopback registry stub, and with the production HTTPS transport
through a real CONNECT proxy to a real TLS registry on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ecr_token_rotator import aws
from ecr_token_rotator.config import ImageRef, parse_image_ref
from ecr_token_rotator.deadline import Deadline
from ecr_token_rotator.errors import ProbeError
from ecr_token_rotator.probe import HttpsTransport, RegistryAnswer, manifest_path, probe_images
from tests.support.registry_stub import registry_stub
from tests.support.tls_registry import (
    TOKEN,
    CertificateFiles,
    Server,
    connect_proxy,
    make_certificates,
    tls_registry,
)

HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
APP = parse_image_ref(f"{HOST}/team/app:1.0")
PINNED = parse_image_ref(f"{HOST}/base@sha256:{'b' * 64}")
AUTHS = {HOST: "QVdTOnNlY3JldA=="}
UA = "ecr-token-rotator/test"


def deadline(seconds: float = 60) -> Deadline:
    return Deadline.within(seconds)


def test_manifest_paths() -> None:
    assert manifest_path(APP) == "/v2/team/app/manifests/1.0"
    assert manifest_path(PINNED) == f"/v2/base/manifests/sha256:{'b' * 64}"


def test_each_image_is_asked_for_its_manifest_with_the_hosts_auth() -> None:
    with registry_stub() as stub:
        probe_images([APP, PINNED], AUTHS, stub.transport(), deadline(), UA)
    assert stub.state.requests == [
        (HOST, "/v2/team/app/manifests/1.0", AUTHS[HOST]),
        (HOST, f"/v2/base/manifests/sha256:{'b' * 64}", AUTHS[HOST]),
    ]


def test_all_failures_are_reported_together() -> None:
    other = parse_image_ref("210987654321.dkr.ecr.eu-central-1.amazonaws.com/x:1")
    with registry_stub() as stub:
        stub.state.statuses.update({"team/app": 403, "base": 500})
        with pytest.raises(ProbeError) as raised:
            probe_images([APP, PINNED, other], AUTHS, stub.transport(), deadline(), UA)
    message = str(raised.value)
    assert "team/app:1.0: HTTP 403" in message
    assert "ecr:BatchGetImage" in message
    assert "arn:<partition>:ecr:eu-central-1:123456789012:repository/team/app" in message
    assert "unexpected HTTP 500" in message
    assert "add account 210987654321 to ECR_REGISTRY_IDS" in message
    assert AUTHS[HOST] not in message
    assert raised.value.denied_action is None  # not only denials: not a permission problem


def test_only_denials_name_the_pull_action() -> None:
    with registry_stub() as stub:
        stub.state.statuses.update({"team/app": 403, "base": 401})
        with pytest.raises(ProbeError) as raised:
            probe_images([APP, PINNED], AUTHS, stub.transport(), deadline(), UA)
    assert raised.value.denied_action == "ecr:BatchGetImage"
    assert raised.value.step == "the pull probe"


# ---- the production transport: proxy, CA bundle, User-Agent, malformed answers ----------------


@pytest.fixture
def certificates(tmp_path: Path) -> CertificateFiles:
    return make_certificates(tmp_path, [HOST, "localhost"])


@pytest.fixture
def registry(certificates: CertificateFiles) -> Iterator[Server]:
    with tls_registry(certificates) as server:
        yield server


@pytest.fixture
def proxy(registry: Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    with connect_proxy(registry.port) as server:
        for name in ("NO_PROXY", "no_proxy", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", f"http://probe:p%40ss@127.0.0.1:{server.port}")
        yield server


def trusting(certificates: CertificateFiles, monkeypatch: pytest.MonkeyPatch) -> HttpsTransport:
    """The transport the handler makes, with AWS_CA_BUNDLE naming the test CA."""
    monkeypatch.setenv("AWS_CA_BUNDLE", str(certificates.ca_file))
    aws.reset_clients()
    return HttpsTransport(ca_bundle=aws.ca_bundle)


def test_through_https_proxy_with_a_verified_certificate_and_a_user_agent(
    certificates: CertificateFiles,
    registry: Server,
    proxy: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    probe_images([APP], AUTHS, trusting(certificates, monkeypatch), deadline(), UA)

    [(connect, tunnel_headers)] = proxy.seen.requests
    assert connect.startswith(f"CONNECT {HOST}:443 HTTP/1.")
    credentials = base64.b64encode(b"probe:p@ss").decode()  # from the proxy URL, unquoted
    assert tunnel_headers["proxy-authorization"] == f"Basic {credentials}"
    assert "authorization" not in tunnel_headers  # the registry login never goes to the proxy
    [(request, headers)] = registry.seen.requests
    assert request == "HEAD /v2/team/app/manifests/1.0 HTTP/1.1"
    assert headers["host"] == HOST
    assert headers["authorization"] == f"Basic {AUTHS[HOST]}"
    assert headers["user-agent"] == UA


def test_without_the_ca_bundle_the_certificate_is_refused(
    registry: Server, proxy: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    aws.reset_clients()
    with pytest.raises(ProbeError, match="SSLCertVerificationError"):
        probe_images([APP], AUTHS, HttpsTransport(ca_bundle=aws.ca_bundle), deadline(), UA)
    assert registry.seen.requests == []


def test_no_proxy_sends_the_request_directly(
    certificates: CertificateFiles,
    registry: Server,
    proxy: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_PROXY", ".amazonaws.com")
    with pytest.raises(ProbeError, match="cannot reach the registry"):
        # Directly to <host>:443, which does not resolve or answer here.
        probe_images([APP], AUTHS, trusting(certificates, monkeypatch), deadline(), UA)
    assert proxy.seen.requests == []


def test_a_proxy_that_is_not_http_is_named(
    certificates: CertificateFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://127.0.0.1:3128")  # TLS to the proxy itself
    with pytest.raises(ProbeError, match="must be an http:// URL"):
        probe_images([APP], AUTHS, trusting(certificates, monkeypatch), deadline(), UA)


def test_every_malformed_answer_is_a_probe_failure(
    certificates: CertificateFiles,
    registry: Server,
    proxy: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """http.client's HTTPExceptions (not OSErrors) end in the combined error too."""
    images = [parse_image_ref(f"{HOST}/{repo}:1") for repo in ("bad-status", "long-header")]
    images.append(parse_image_ref(f"{HOST}/hang-up:1"))
    images.append(APP)  # and one that works

    with pytest.raises(ProbeError) as raised:
        probe_images(images, AUTHS, trusting(certificates, monkeypatch), deadline(), UA)

    message = str(raised.value)
    assert f"{HOST}/bad-status:1: cannot reach the registry (BadStatusLine" in message
    assert f"{HOST}/long-header:1: cannot reach the registry (LineTooLong" in message
    assert f"{HOST}/hang-up:1: cannot reach the registry (RemoteDisconnected" in message
    assert "team/app" not in message
    assert AUTHS[HOST] not in message


def test_a_registry_that_never_answers_is_bounded_by_the_deadline(
    certificates: CertificateFiles,
    registry: Server,
    proxy: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    silent = parse_image_ref(f"{HOST}/silent:1")
    short = deadline(8)
    started = time.monotonic()

    with pytest.raises(ProbeError, match=r"silent:1: cannot reach the registry.*TimeoutError"):
        probe_images([silent], AUTHS, trusting(certificates, monkeypatch), short, UA)

    assert time.monotonic() - started < short.budget  # generous: about a quarter of it


def test_the_token_flow_through_the_proxy_with_a_verified_certificate(
    certificates: CertificateFiles,
    registry: Server,
    proxy: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A registry that answers with a Bearer challenge (as ECR Public does): the production
    transport asks the challenge's token service with the `auth`, then fetches the manifest with
    the token, each request through the CONNECT proxy."""
    image = parse_image_ref(f"{HOST}/token-flow:1")

    probe_images([image], AUTHS, trusting(certificates, monkeypatch), deadline(), UA)

    requests = [(line, headers.get("authorization")) for line, headers in registry.seen.requests]
    assert requests == [
        ("HEAD /v2/token-flow/manifests/1 HTTP/1.1", f"Basic {AUTHS[HOST]}"),
        (
            "GET /token/?scope=repository%3Atoken-flow%3Apull&service=x HTTP/1.1",
            f"Basic {AUTHS[HOST]}",
        ),
        ("HEAD /v2/token-flow/manifests/1 HTTP/1.1", f"Bearer {TOKEN}"),
    ]
    assert len(proxy.seen.requests) == 3


# ---- the registry token flow: where the credential may go, what a token service may answer ---


class Scripted:
    """A transport that answers from a script, recording each request."""

    def __init__(self, *answers: RegistryAnswer) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, str, str, dict[str, str]]] = []

    def request(
        self, method: str, host: str, path: str, headers: Mapping[str, str], timeout: float
    ) -> RegistryAnswer:
        self.sent.append((method, host, path, dict(headers)))
        return self.answers.pop(0)


def challenge(realm: str) -> RegistryAnswer:
    return RegistryAnswer(401, {"www-authenticate": f'Bearer realm="{realm}",service="s"'})


PUBLIC_IMAGE = ImageRef("public.ecr.aws", None, "us-east-1", "team/app", "1", "ipv4")


@pytest.mark.parametrize(
    ("image", "realm"),
    [
        (APP, "https://auth.example.com/token"),  # another host
        (APP, f"http://{HOST}/token"),  # not https
        (APP, f"https://{HOST}:8443/token"),  # another port
        (APP, "https://public.ecr.aws/token/"),  # ECR Public's, for a private registry
        (PUBLIC_IMAGE, "https://public.ecr.aws.example.com/token/"),
    ],
)
def test_the_credential_goes_to_no_token_service_but_the_registrys_own(
    image: ImageRef, realm: str
) -> None:
    transport = Scripted(challenge(realm))
    auths = {image.host: AUTHS[HOST]}
    with pytest.raises(ProbeError, match="sends the credential nowhere else"):
        probe_images([image], auths, transport, deadline(), UA)
    assert len(transport.sent) == 1  # the manifest request only


def test_ecr_publics_dual_stack_host_may_use_the_ipv4_hosts_token_service() -> None:
    image = PUBLIC_IMAGE._replace(host="ecr-public.aws.com", endpoint_type="dualstack")
    transport = Scripted(
        challenge("https://public.ecr.aws/token/"),
        RegistryAnswer(200, {}, b'{"token": "t"}'),
        RegistryAnswer(200, {}),
    )
    probe_images([image], {image.host: "YXV0aA=="}, transport, deadline(), UA)
    assert [(m, h) for m, h, _, _ in transport.sent] == [
        ("HEAD", "ecr-public.aws.com"),
        ("GET", "public.ecr.aws"),
        ("HEAD", "ecr-public.aws.com"),
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1]", b'{"token": ""}', b'{"expires_in": 60}', b"x" * 70_000],
    ids=["empty", "not JSON", "a list", "empty token", "no token", "too long"],
)
def test_a_token_service_answer_without_a_token_is_a_probe_failure(body: bytes) -> None:
    transport = Scripted(challenge("https://public.ecr.aws/token/"), RegistryAnswer(200, {}, body))
    with pytest.raises(ProbeError) as raised:
        probe_images([PUBLIC_IMAGE], {"public.ecr.aws": "YXV0aA=="}, transport, deadline(), UA)
    assert "the token service at public.ecr.aws answered without a token" in str(raised.value)


def test_a_basic_challenge_is_a_refused_login() -> None:
    """Private ECR answers a wrong login with 401 and a Basic challenge: no token flow."""
    transport = Scripted(RegistryAnswer(401, {"www-authenticate": 'Basic realm="x"'}))
    with pytest.raises(ProbeError, match="HTTP 401 from the registry") as raised:
        probe_images([APP], AUTHS, transport, deadline(), UA)
    assert raised.value.denied_action == "ecr:BatchGetImage"
    assert len(transport.sent) == 1

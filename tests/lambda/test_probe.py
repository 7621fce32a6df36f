"""The pull probe: against the loopback registry stub, and with the production HTTPS transport
through a real CONNECT proxy to a real TLS registry on loopback."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecr_token_rotator import aws
from ecr_token_rotator.config import parse_image_ref
from ecr_token_rotator.deadline import Deadline
from ecr_token_rotator.errors import ProbeError
from ecr_token_rotator.probe import HttpsTransport, manifest_path, probe_images
from tests.support.registry_stub import registry_stub
from tests.support.tls_registry import (
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

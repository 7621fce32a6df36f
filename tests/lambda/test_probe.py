"""The pull probe against the loopback registry stub."""

from __future__ import annotations

import http.client
import ssl

import pytest

from ecr_token_rotator.config import parse_image_ref
from ecr_token_rotator.errors import ProbeError
from ecr_token_rotator.probe import HttpsTransport, manifest_path, probe_images
from tests.support.registry_stub import registry_stub

HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
APP = parse_image_ref(f"{HOST}/team/app:1.0")
PINNED = parse_image_ref(f"{HOST}/base@sha256:{'b' * 64}")
AUTHS = {HOST: "QVdTOnNlY3JldA=="}


def test_manifest_paths() -> None:
    assert manifest_path(APP) == "/v2/team/app/manifests/1.0"
    assert manifest_path(PINNED) == f"/v2/base/manifests/sha256:{'b' * 64}"


def test_each_image_is_asked_for_its_manifest_with_the_hosts_auth() -> None:
    with registry_stub() as stub:
        probe_images([APP, PINNED], AUTHS, stub.transport())
    assert stub.state.requests == [
        (HOST, "/v2/team/app/manifests/1.0", AUTHS[HOST]),
        (HOST, f"/v2/base/manifests/sha256:{'b' * 64}", AUTHS[HOST]),
    ]


def test_all_failures_are_reported_together() -> None:
    other = parse_image_ref("210987654321.dkr.ecr.eu-central-1.amazonaws.com/x:1")
    with registry_stub() as stub:
        stub.state.statuses.update({"team/app": 403, "base": 500})
        with pytest.raises(ProbeError) as raised:
            probe_images([APP, PINNED, other], AUTHS, stub.transport())
    message = str(raised.value)
    assert "team/app:1.0: HTTP 403" in message
    assert "ecr:BatchGetImage" in message
    assert "arn:<partition>:ecr:eu-central-1:123456789012:repository/team/app" in message
    assert "unexpected HTTP 500" in message
    assert "add account 210987654321 to ECR_REGISTRY_IDS" in message
    assert AUTHS[HOST] not in message


def test_production_transport_is_https_to_the_image_host_with_verified_certificates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[tuple[str, ssl.SSLContext]] = []

    class RecordingConnection:
        def __init__(self, host: str, *, timeout: float, context: ssl.SSLContext) -> None:
            opened.append((host, context))

        def request(self, method: str, path: str, headers: dict[str, str]) -> None:
            assert (method, path) == ("HEAD", "/v2/team/app/manifests/1.0")

        def getresponse(self) -> object:
            return type("Response", (), {"status": 200})()

        def close(self) -> None:
            pass

    monkeypatch.setattr(http.client, "HTTPSConnection", RecordingConnection)
    probe_images([APP], AUTHS, HttpsTransport())

    [(host, context)] = opened
    assert host == HOST
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname

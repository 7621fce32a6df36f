"""Check, before publishing, that the new credential can really pull the probe images.

A token from a role without ECR pull rights logs in fine and then gets 403 on pull, so a login
test proves nothing. The probe asks each image's registry for the manifest (registry HTTP API v2,
`HEAD /v2/<repository>/manifests/<tag or digest>`) exactly as a container runtime does.
"""

from __future__ import annotations

import http.client
import logging
import ssl
from collections.abc import Mapping, Sequence
from typing import Protocol

from .config import ImageRef
from .errors import ProbeError

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 10.0
MANIFEST_MEDIA_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
PULL_ACTIONS = "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability"


class RegistryTransport(Protocol):
    """Sends one HEAD request to a registry host and returns the HTTP status."""

    def head(self, host: str, path: str, headers: Mapping[str, str]) -> int: ...


class HttpsTransport:
    """Production transport: HTTPS to the image's own registry host, certificates verified."""

    def __init__(self, timeout: float = PROBE_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._tls: ssl.SSLContext | None = None

    def head(self, host: str, path: str, headers: Mapping[str, str]) -> int:
        if self._tls is None:  # loading the CA bundle costs ~20 ms: only when probing
            self._tls = ssl.create_default_context()
        connection = http.client.HTTPSConnection(host, timeout=self._timeout, context=self._tls)
        try:
            connection.request("HEAD", path, headers=dict(headers))
            return connection.getresponse().status
        finally:
            connection.close()


def manifest_path(image: ImageRef) -> str:
    return f"/v2/{image.repository}/manifests/{image.reference}"


def _failure(image: ImageRef, status: int) -> str | None:
    if status == http.client.OK:
        return None
    if status in (http.client.UNAUTHORIZED, http.client.FORBIDDEN):
        return (
            f"{image}: HTTP {status}, the token may not pull this repository: grant {PULL_ACTIONS} "
            f"on arn:<partition>:ecr:{image.region}:{image.registry_id}:repository/"
            f"{image.repository} to the function's role (the token carries exactly its ECR "
            "permissions), and allow that role in the repository policy for a registry in "
            "another account"
        )
    if status == http.client.NOT_FOUND:
        return f"{image}: HTTP 404, no such repository or tag; fix PROBE_IMAGES"
    return f"{image}: unexpected HTTP {status} from the registry"


def probe_images(
    images: Sequence[ImageRef], auths: Mapping[str, str], transport: RegistryTransport
) -> None:
    """Fetch every image's manifest with the host's `auth`; raise one error listing all failures."""
    failures: list[str] = []
    for image in images:
        auth = auths.get(image.host)
        if auth is None:
            failures.append(
                f"{image}: its registry is not in the docker config; add account "
                f"{image.registry_id} to ECR_REGISTRY_IDS"
            )
            continue
        headers = {"Authorization": f"Basic {auth}", "Accept": MANIFEST_MEDIA_TYPES}
        try:
            status = transport.head(image.host, manifest_path(image), headers)
        except OSError as e:  # DNS, refused, TLS and timeout errors are all OSErrors
            failures.append(f"{image}: cannot reach the registry ({type(e).__name__}: {e})")
            continue
        failure = _failure(image, status)
        if failure:
            failures.append(failure)
        else:
            logger.info("probe image pulled", extra={"event": "probe_ok", "image": str(image)})
    if failures:
        raise ProbeError(
            "the new credential failed the pull probe, so the secret was not changed: "
            + "; ".join(failures)
        )

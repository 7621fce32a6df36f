"""Check, before publishing, that the new credential can really pull the probe images.

A token from a role without ECR pull rights logs in fine and then gets 403 on pull, so a login
test proves nothing. The probe asks each image's registry for the manifest (registry HTTP API v2,
`HEAD /v2/<repository>/manifests/<tag or digest>`) exactly as a container runtime does.

The probe reaches the registry the way botocore reaches AWS from the same function: through
`HTTPS_PROXY` (a CONNECT tunnel, honouring `NO_PROXY`; botocore's own proxy settings code decides),
verifying the certificate with botocore's CA bundle (`AWS_CA_BUNDLE`, else botocore's default), so
a VPC whose only way out is a proxy works for both. Each request is bounded by the run's deadline.
"""

from __future__ import annotations

import http.client
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Protocol
from urllib.parse import urlsplit

from .config import ImageRef
from .deadline import Deadline
from .errors import ProbeError

logger = logging.getLogger(__name__)

# Per socket operation; a request waits on at most four (connect, proxy CONNECT answer, TLS
# handshake, response), and all of them together stay within one AWS call's share of the deadline.
PROBE_TIMEOUT_SECONDS = 10.0
SOCKET_WAITS_PER_REQUEST = 4
MANIFEST_MEDIA_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
PULL_ACTION = "ecr:BatchGetImage"
PULL_ACTIONS = f"{PULL_ACTION}, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability"
# What http.client raises for one exchange, with a text safe to show: OSError covers DNS, refused,
# reset, TLS and timeouts; HTTPException a malformed answer (BadStatusLine, LineTooLong,
# RemoteDisconnected, ...). (It also raises ValueError for a header it refuses to send, quoting
# the header's value, which may be a credential: that text is never shown.)
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class UnsupportedProxyError(ValueError):
    """The proxy for a registry is not an http:// URL (the probe tunnels with CONNECT)."""


class RegistryTransport(Protocol):
    """Sends one HEAD request to a registry host and returns the HTTP status."""

    def head(self, host: str, path: str, headers: Mapping[str, str], timeout: float) -> int: ...


class HttpsTransport:
    """Production transport: HTTPS to the image's own registry host, certificates verified.

    `ca_bundle` returns the CA file botocore uses (None: botocore's default bundle); `proxies`
    returns botocore's proxy settings for a URL (from the environment, NO_PROXY applied).
    """

    def __init__(
        self,
        ca_bundle: Callable[[], str | None] | None = None,
        proxies: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self._ca_bundle = ca_bundle or (lambda: None)
        self._proxies = proxies or _environment_proxies
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:  # loading the CA bundle costs ~20 ms: only when probing
            from botocore.httpsession import get_cert_path  # noqa: PLC0415

            self._tls = ssl.create_default_context(cafile=self._ca_bundle() or get_cert_path(True))
        return self._tls

    def head(self, host: str, path: str, headers: Mapping[str, str], timeout: float) -> int:
        from botocore.httpsession import ProxyConfiguration  # noqa: PLC0415

        url = f"https://{host}{path}"
        proxy_settings = ProxyConfiguration(proxies=dict(self._proxies(url)))
        proxy_url = proxy_settings.proxy_url_for(url)
        if not proxy_url:
            connection = http.client.HTTPSConnection(host, timeout=timeout, context=self._context())
        else:
            proxy = urlsplit(proxy_url)
            if proxy.scheme != "http" or not proxy.hostname:
                raise UnsupportedProxyError(
                    f"the proxy for {host} must be an http:// URL (a CONNECT tunnel) for the probe"
                )
            connection = http.client.HTTPSConnection(
                proxy.hostname, proxy.port or 80, timeout=timeout, context=self._context()
            )
            connection.set_tunnel(host, 443, headers=proxy_settings.proxy_headers_for(proxy_url))
        try:
            connection.request("HEAD", path, headers=dict(headers))
            return connection.getresponse().status
        finally:
            connection.close()


def _environment_proxies(url: str) -> Mapping[str, str]:
    from botocore.utils import get_environ_proxies  # noqa: PLC0415

    return dict(get_environ_proxies(url))


def manifest_path(image: ImageRef) -> str:
    return f"/v2/{image.repository}/manifests/{image.reference}"


def _failure(image: ImageRef, status: int) -> str | None:
    if status == HTTPStatus.OK:
        return None
    if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return (
            f"{image}: HTTP {status}, the token may not pull this repository: grant {PULL_ACTIONS} "
            f"on arn:<partition>:ecr:{image.region}:{image.registry_id}:repository/"
            f"{image.repository} to the function's role (the token carries exactly its ECR "
            "permissions), and allow that role in the repository policy for a registry in "
            "another account"
        )
    if status == HTTPStatus.NOT_FOUND:
        return f"{image}: HTTP 404, no such repository or tag; fix PROBE_IMAGES"
    return f"{image}: unexpected HTTP {status} from the registry"


def probe_images(
    images: Sequence[ImageRef],
    auths: Mapping[str, str],
    transport: RegistryTransport,
    deadline: Deadline,
    user_agent: str,
) -> None:
    """Fetch every image's manifest with the host's `auth`; raise one error listing all failures."""
    failures: list[str] = []
    denied = 0
    share = deadline.policy.worst_case / max(len(images), 1)
    timeout = max(0.1, min(PROBE_TIMEOUT_SECONDS, share / SOCKET_WAITS_PER_REQUEST))
    for image in images:
        auth = auths.get(image.host)
        if auth is None:
            failures.append(
                f"{image}: its registry is not in the docker config; add account "
                f"{image.registry_id} to ECR_REGISTRY_IDS"
            )
            continue
        deadline.check(f"the probe of {image}")
        headers = {
            "Authorization": f"Basic {auth}",
            "Accept": MANIFEST_MEDIA_TYPES,
            "User-Agent": user_agent,
        }
        try:
            status = transport.head(image.host, manifest_path(image), headers, timeout)
        except TRANSPORT_ERRORS as e:
            failures.append(f"{image}: cannot reach the registry ({type(e).__name__}: {e})")
            continue
        except UnsupportedProxyError as e:
            failures.append(f"{image}: {e}")
            continue
        except ValueError as e:
            failures.append(f"{image}: the request could not be sent ({type(e).__name__})")
            continue
        failure = _failure(image, status)
        if failure:
            failures.append(failure)
            denied += status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
        else:
            logger.info("probe image pulled", extra={"event": "probe_ok", "image": str(image)})
    if failures:
        error = ProbeError(
            "the new credential failed the pull probe, so nothing was published: "
            + "; ".join(failures)
        )
        error.step = "the pull probe"
        if denied == len(failures):  # only denials: the role's pull permission (maybe still new)
            error.denied_action = PULL_ACTION
        raise error

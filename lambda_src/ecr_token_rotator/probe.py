"""Check, before publishing, that the new credential can really pull the probe images.

A token from a role without ECR pull rights logs in fine and then gets 403 on pull, so a login
test proves nothing. The probe asks each image's registry for the manifest (registry HTTP API v2,
`HEAD /v2/<repository>/manifests/<tag or digest>`) exactly as a container runtime does, on the
image's own host: so a probe image on a dual-stack or FIPS host proves that the region's token is
accepted there too. A private registry takes the docker config's `auth` as HTTP Basic; ECR Public
answers 401 with a Bearer challenge instead, and the probe then follows the registry token flow
container runtimes use: it asks the challenge's token service (on an ECR Public host only) for a
pull token with the `auth`, and fetches the manifest with that token. A refused login is a 401
or 403 at either step.

The probe reaches the registry the way botocore reaches AWS from the same function: through
`HTTPS_PROXY` (a CONNECT tunnel, honouring `NO_PROXY`; botocore's own proxy settings code decides),
verifying the certificate with botocore's CA bundle (`AWS_CA_BUNDLE`, else botocore's default), so
a VPC whose only way out is a proxy works for both. Each request's socket waits are bounded, and
each image's probe as a whole by the run's deadline (name resolution included: deadline.py).
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from time import monotonic
from typing import NamedTuple, Protocol
from urllib.parse import urlencode, urlsplit

from .config import ENVIRONMENT_NAMES, ImageRef, SettingNames
from .deadline import Deadline
from .endpoints import IPV4, PUBLIC_HOSTS
from .errors import ProbeError

logger = logging.getLogger(__name__)

# Per socket operation; a request waits on at most four (connect, proxy CONNECT answer, TLS
# handshake, response), and all of them together stay within one AWS call's share of the deadline.
PROBE_TIMEOUT_SECONDS = 10.0
SOCKET_WAITS_PER_REQUEST = 4
MIN_REQUEST_TIMEOUT = 0.1
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
PUBLIC_ACTION = "ecr-public:GetAuthorizationToken"
PUBLIC_ACTIONS = f"{PUBLIC_ACTION} and sts:GetServiceBearerToken"
# A token service's answer is a small JSON object; anything longer is not one.
MAX_TOKEN_ANSWER_BYTES = 64 * 1024
DENIED = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
# `Bearer realm="https://...",service="...",scope="..."` (RFC 6750 auth-params, quoted values)
_CHALLENGE_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')
# What http.client raises for one exchange, with a text safe to show: OSError covers DNS, refused,
# reset, TLS and timeouts; HTTPException a malformed answer (BadStatusLine, LineTooLong,
# RemoteDisconnected, ...). (It also raises ValueError for a header it refuses to send, quoting
# the header's value, which may be a credential: that text is never shown.)
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class UnsupportedProxyError(ValueError):
    """The proxy for a registry is not an http:// URL (the probe tunnels with CONNECT)."""


class RegistryAnswer(NamedTuple):
    """A registry's answer: status, headers (lower-case names; the first of repeated ones) and up
    to MAX_TOKEN_ANSWER_BYTES of body (a token service's answer: secret material)."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def __repr__(self) -> str:
        return f"RegistryAnswer(status={self.status!r}, body=<{len(self.body)} bytes>)"


class RegistryTransport(Protocol):
    """Sends one request to a registry host over HTTPS and returns its answer."""

    def request(
        self, method: str, host: str, path: str, headers: Mapping[str, str], timeout: float
    ) -> RegistryAnswer: ...


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

    def request(
        self, method: str, host: str, path: str, headers: Mapping[str, str], timeout: float
    ) -> RegistryAnswer:
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
            connection.request(method, path, headers=dict(headers))
            return answer_of(connection.getresponse(), method)
        finally:
            connection.close()


def answer_of(response: http.client.HTTPResponse, method: str) -> RegistryAnswer:
    """Status, headers and (bounded) body of an http.client response."""
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        headers.setdefault(name.lower(), value)
    body = b"" if method == "HEAD" else response.read(MAX_TOKEN_ANSWER_BYTES + 1)
    return RegistryAnswer(response.status, headers, body)


def _environment_proxies(url: str) -> Mapping[str, str]:
    from botocore.utils import get_environ_proxies  # noqa: PLC0415

    return dict(get_environ_proxies(url))


def manifest_path(image: ImageRef) -> str:
    return f"/v2/{image.repository}/manifests/{image.reference}"


class _Budget:
    """The time one image's probe may take, shared by its requests (one, or three with a token)."""

    def __init__(self, seconds: float) -> None:
        self._ends = monotonic() + seconds

    def timeout(self) -> float:
        left = self._ends - monotonic()
        return max(MIN_REQUEST_TIMEOUT, min(PROBE_TIMEOUT_SECONDS, left / SOCKET_WAITS_PER_REQUEST))


class _Outcome(NamedTuple):
    status: int
    where: str  # who answered with it: "the registry", or "the token service at <host>"


def _bearer_challenge(answer: RegistryAnswer) -> dict[str, str] | None:
    scheme, _, params = answer.headers.get("www-authenticate", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return dict(_CHALLENGE_PARAM.findall(params))


def _token_path(image: ImageRef, challenge: Mapping[str, str]) -> tuple[str, str]:
    """Host and path of the token request the challenge asks for; only to an ECR Public host or
    the image's own (the `auth` goes nowhere else)."""
    realm = urlsplit(challenge.get("realm", ""))
    allowed = {image.host, *(PUBLIC_HOSTS if image.registry_id is None else ())}
    host = realm.hostname or ""
    if realm.scheme != "https" or host not in allowed or realm.port not in (None, 443):
        raise ProbeError(
            f"{image}: the registry asked for a token from {challenge.get('realm')!r}, which is "
            "not an https URL of the registry itself; the probe sends the credential nowhere else"
        )
    query = {"scope": f"repository:{image.repository}:pull"}
    if challenge.get("service"):
        query["service"] = challenge["service"]
    return host, f"{realm.path or '/'}?{urlencode(query)}"


def _fetch_manifest(
    image: ImageRef,
    auth: str,
    transport: RegistryTransport,
    headers: Mapping[str, str],
    budget: _Budget,
) -> _Outcome:
    """HEAD the manifest with the `auth`; on a Bearer challenge, with a token the challenge's
    token service issues for it."""
    path = manifest_path(image)
    answer = transport.request(
        "HEAD", image.host, path, {**headers, "Authorization": f"Basic {auth}"}, budget.timeout()
    )
    challenge = _bearer_challenge(answer) if answer.status == HTTPStatus.UNAUTHORIZED else None
    if challenge is None:
        return _Outcome(answer.status, "the registry")
    token_host, token_path = _token_path(image, challenge)
    token_answer = transport.request(
        "GET",
        token_host,
        token_path,
        {"Authorization": f"Basic {auth}", "User-Agent": headers["User-Agent"]},
        budget.timeout(),
    )
    where = f"the token service at {token_host}"
    if token_answer.status != HTTPStatus.OK:
        return _Outcome(token_answer.status, where)
    try:
        issued = json.loads(token_answer.body[:MAX_TOKEN_ANSWER_BYTES])
        token = issued.get("token") or issued.get("access_token")
    except (ValueError, AttributeError) as e:  # its text could quote the token: not shown
        raise ProbeError(f"{image}: {where} answered without a token") from e
    if not isinstance(token, str) or not token:
        raise ProbeError(f"{image}: {where} answered without a token")
    answer = transport.request(
        "HEAD", image.host, path, {**headers, "Authorization": f"Bearer {token}"}, budget.timeout()
    )
    return _Outcome(answer.status, "the registry")


def _failure(image: ImageRef, outcome: _Outcome, names: SettingNames) -> str | None:
    status, where = outcome
    if status == HTTPStatus.OK:
        return None
    if status in DENIED and image.registry_id is None:
        return (
            f"{image}: HTTP {status} from {where}, ECR Public refused the token: grant "
            f"{PUBLIC_ACTIONS} to the function's role (an authenticated pull from ECR Public needs "
            "nothing more)"
        )
    if status in DENIED:
        return (
            f"{image}: HTTP {status} from {where}, the token may not pull this repository: grant "
            f"{PULL_ACTIONS} on arn:<partition>:ecr:{image.region}:{image.registry_id}:repository/"
            f"{image.repository} to the function's role (the token carries exactly its ECR "
            "permissions), and allow that role in the repository policy for a registry in "
            "another account"
        )
    if status == HTTPStatus.NOT_FOUND:
        return f"{image}: HTTP 404, no such repository or tag; fix {names.probe_images}"
    return f"{image}: unexpected HTTP {status} from {where}"


def _stalled(image: ImageRef) -> str:
    """What to check when an image's probe was abandoned: it outlasted the socket timeouts, which
    bound neither resolving the registry's name nor trying its addresses one after another."""
    from .aws import in_lambda  # noqa: PLC0415 - only a probe that hung needs it

    if in_lambda():
        # Only the IPv4 registry host has a VPC endpoint (docs/networking.md).
        vpc_endpoint = (
            f" or the com.amazonaws.{image.region}.ecr.dkr interface endpoint"
            if image.registry_id is not None and image.endpoint_type == IPV4
            else f" ({image.host} has no VPC endpoint)"
        )
        path = (
            f"the function's network path: in VPC mode a NAT gateway{vpc_endpoint}, with "
            "security groups and DNS that let HTTPS through (or the proxy in HTTPS_PROXY)"
        )
    else:
        path = "this machine's connection to it (VPN, firewall, DNS; HTTPS_PROXY for a proxy)"
    return (
        f"the registry {image.host} did not answer within the probe's timeouts, which bound "
        "neither resolving its name nor trying its addresses one after another (a resolver that "
        f"does not answer, or addresses that drop connections): check {path}"
    )


def probe_images(
    images: Sequence[ImageRef],
    auths: Mapping[str, str],
    transport: RegistryTransport,
    deadline: Deadline,
    user_agent: str,
    *,
    names: SettingNames = ENVIRONMENT_NAMES,
) -> None:
    """Fetch every image's manifest with the host's `auth`; raise one error listing all failures."""
    failures: list[str] = []
    denied: list[ImageRef] = []
    share = deadline.policy.worst_case / max(len(images), 1)
    for image in images:
        auth = auths.get(image.host)
        if auth is None:
            failures.append(
                f"{image}: its registry is not in the docker config; add account "
                f"{image.registry_id} to {names.registry_ids}"
            )
            continue
        headers = {"Accept": MANIFEST_MEDIA_TYPES, "User-Agent": user_agent}
        fetch = functools.partial(_fetch_manifest, image, auth, transport, headers, _Budget(share))
        try:
            outcome = deadline.run(
                f"the probe of {image}",
                fetch,
                worst_case=share,
                advice=functools.partial(_stalled, image),
            )
        except ProbeError as e:
            failures.append(str(e))
            continue
        except TRANSPORT_ERRORS as e:
            failures.append(f"{image}: cannot reach the registry ({type(e).__name__}: {e})")
            continue
        except UnsupportedProxyError as e:
            failures.append(f"{image}: {e}")
            continue
        except ValueError as e:
            failures.append(f"{image}: the request could not be sent ({type(e).__name__})")
            continue
        failure = _failure(image, outcome, names)
        if failure:
            failures.append(failure)
            if outcome.status in DENIED:
                denied.append(image)
        else:
            logger.info("probe image pulled", extra={"event": "probe_ok", "image": str(image)})
    if failures:
        error = ProbeError(
            "the new credential failed the pull probe, so nothing was published: "
            + "; ".join(failures)
        )
        error.step = "the pull probe"
        if len(denied) == len(failures):  # only denials: the role's pull permission (maybe new)
            private = any(image.registry_id is not None for image in denied)
            error.denied_action = PULL_ACTION if private else PUBLIC_ACTION
        raise error

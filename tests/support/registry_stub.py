"""A loopback stand-in for ECR registries' HTTP API v2, for the pull probe.

Private registries (any host but ECR Public's) answer `HEAD /v2/<repository>/manifests/<ref>`
with the status configured for the repository, else 200 when `authorize` accepts the
`Authorization: Basic` value (by default any non-empty one), else 401 with a Basic challenge, as
ECR does.

ECR Public's hosts (`public.ecr.aws`, `ecr-public.aws.com`) follow the registry token flow the
probe has to follow there (as docker does): a manifest request without a valid Bearer token gets
401 with `WWW-Authenticate: Bearer realm="https://<host>/token/",service="<host>",scope="aws"`;
`GET /token/?scope=repository:<name>:pull&service=<host>` with a Basic login that `authorize`
accepts returns `{"token": ...}` (a fresh opaque token, recorded in `bearer_tokens`), any other
login 403 (ECR Public's answer to an expired token: "denied: Your authorization token has
expired"); the manifest request with that Bearer token then gets the repository's status or 200.

`LoopbackTransport` sends the probe's requests there instead of to the registry host, which it
passes in the `Host` header; production code keeps its HTTPS transport.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ecr_token_rotator.endpoints import PUBLIC_HOSTS
from ecr_token_rotator.probe import RegistryAnswer, answer_of


@dataclass
class RegistryState:
    statuses: dict[str, int] = field(default_factory=dict)  # repository -> forced status
    authorize: Callable[[str], bool] = bool  # base64(user:password) -> may it log in?
    # manifest requests: (host, path, the Basic value or "Bearer <token>")
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    token_requests: list[tuple[str, str, str]] = field(default_factory=list)  # (host, path, auth)
    bearer_tokens: list[str] = field(default_factory=list)  # issued by the token service
    bearer_hosts: frozenset[str] = frozenset(PUBLIC_HOSTS)  # hosts with the token flow
    _counter: itertools.count[int] = field(default_factory=itertools.count)


class RegistryStub:
    def __init__(self, state: RegistryState, port: int) -> None:
        self.state = state
        self.port = port

    def transport(self) -> LoopbackTransport:
        return LoopbackTransport(self.port)


def _handler(state: RegistryState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(
            self, status: int, headers: Mapping[str, str] | None = None, body: bytes = b""
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            host = self.headers.get("Host", "")
            auth = self.headers.get("Authorization", "").removeprefix("Basic ")
            state.requests.append((host, self.path, auth))
            parts = self.path.split("/manifests/")
            repository = parts[0].removeprefix("/v2/") if len(parts) == 2 else ""
            if host in state.bearer_hosts:
                if auth.removeprefix("Bearer ") not in state.bearer_tokens:
                    challenge = f'Bearer realm="https://{host}/token/",service="{host}",scope="aws"'
                    self._answer(401, {"WWW-Authenticate": challenge})
                    return
                self._answer(state.statuses.get(repository, 200))
                return
            if repository in state.statuses:
                self._answer(state.statuses[repository])
            elif state.authorize(auth):
                self._answer(200)
            else:
                self._answer(401, {"WWW-Authenticate": f'Basic realm="https://{host}/"'})

        def do_GET(self) -> None:
            host = self.headers.get("Host", "")
            auth = self.headers.get("Authorization", "").removeprefix("Basic ")
            state.token_requests.append((host, self.path, auth))
            url = urlsplit(self.path)
            scope = parse_qs(url.query).get("scope", [""])[0]
            if host not in state.bearer_hosts or url.path != "/token/" or ":pull" not in scope:
                self._answer(404)
            elif not state.authorize(auth):
                self._answer(403, body=b'{"errors":[{"code":"DENIED"}]}')
            else:
                token = f"bearer-token-{next(state._counter):04d}"
                state.bearer_tokens.append(token)
                body = json.dumps({"token": token}).encode()
                self._answer(200, {"Content-Type": "application/json"}, body)

        def log_message(self, *_: object) -> None:  # keep test output clean
            pass

    return Handler


@contextmanager
def registry_stub() -> Iterator[RegistryStub]:
    state = RegistryState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield RegistryStub(state, server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class LoopbackTransport:
    """Implements the probe's `RegistryTransport` over plain HTTP to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self._port = port

    def request(
        self, method: str, host: str, path: str, headers: Mapping[str, str], timeout: float
    ) -> RegistryAnswer:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
        try:
            connection.request(method, path, headers={**headers, "Host": host})
            return answer_of(connection.getresponse(), method)
        finally:
            connection.close()

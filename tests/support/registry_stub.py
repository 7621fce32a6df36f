"""A loopback stand-in for an ECR registry's HTTP API v2, for the pull probe.

`RegistryStub` answers `HEAD /v2/<repository>/manifests/<reference>` with the status configured
for the repository, else 200 when `authorize` accepts the `Authorization: Basic` value (by
default any non-empty one), else 401. `LoopbackTransport` sends the probe's requests there
instead of to the registry host, which it passes in the `Host` header; production code keeps
its HTTPS transport.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class RegistryState:
    statuses: dict[str, int] = field(default_factory=dict)  # repository -> forced status
    authorize: Callable[[str], bool] = bool  # base64(user:password) -> may it log in?
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (host, path, auth)


class RegistryStub:
    def __init__(self, state: RegistryState, port: int) -> None:
        self.state = state
        self.port = port

    def transport(self) -> LoopbackTransport:
        return LoopbackTransport(self.port)


@contextmanager
def registry_stub() -> Iterator[RegistryStub]:
    state = RegistryState()

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            auth = self.headers.get("Authorization", "").removeprefix("Basic ")
            state.requests.append((self.headers.get("Host", ""), self.path, auth))
            parts = self.path.split("/manifests/")
            repository = parts[0].removeprefix("/v2/") if len(parts) == 2 else ""
            if repository in state.statuses:
                status = state.statuses[repository]
            else:
                status = 200 if state.authorize(auth) else 401
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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

    def head(self, host: str, path: str, headers: Mapping[str, str], timeout: float) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=timeout)
        try:
            connection.request("HEAD", path, headers={**headers, "Host": host})
            return connection.getresponse().status
        finally:
            connection.close()

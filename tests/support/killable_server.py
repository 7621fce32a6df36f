"""A moto server that a fault test can kill, bring back on the same port, and make misbehave.

`killable_moto_server()` runs moto's `ThreadedMotoServer` on a free loopback port with the same
ECR and Secrets Manager fixes as `moto_server()`. Moto keeps its state in this process, not in the
server, so a test can stop the server the way a crashed process stops answering, start it again
on the same port, and look at what the secret holds:

- `stop()`: the listening socket is closed (new connections are refused, as after a crash) and
  the connections of requests still in flight are closed without an answer.
- `start()`: a new server on the same port, with the same state.
- `die_after(operation)`: the server processes the next `operation` request completely (moto's
  state changes), then dies before answering it; with `restart=True` it is listening again
  before the client notices, so botocore's own retry reaches it (same `ClientRequestToken`).
- `answer_error(operation, code, ...)`: the server answers `operation` with an AWS error instead
  of processing it (moto's state does not change), for every request or every n-th one, in one
  region or all. Operations are matched on the `X-Amz-Target` header of AWS's JSON protocol,
  which ECR and Secrets Manager use.
- `fail_after(operation)`: the server processes the next `operation` request completely, then
  answers it with an HTTP 500 InternalServiceError, as AWS may when the answer of an applied
  change is lost: botocore retries, and the retry meets the changed state.

Each Secrets Manager request is processed under one lock. AWS applies every request atomically;
moto's backend has no locks, and its PutSecretValue moves AWSCURRENT and AWSPREVIOUS in several
steps, so two concurrent writes could leave two versions labelled AWSCURRENT in moto, which
never happens on AWS. Requests still overlap freely between the function's read and its write,
which is what the concurrency tests are about.
"""

from __future__ import annotations

import collections
import json
import re
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

from tests.support.moto_ecr import IssuedTokens
from tests.support.moto_server import moto_fixes

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# The region of a request, from the SigV4 credential scope: Credential=<key>/<date>/<region>/...
_SCOPE_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")


# What AWS answers for a failure on its side (botocore retries it).
LOST_ANSWER = "InternalServiceError"


class ServerDied(ConnectionAbortedError):
    """Raised inside the request thread after a simulated death; werkzeug drops it quietly."""


@dataclass
class ErrorRule:
    operation: str
    code: str
    status: int
    every: int  # answer every n-th matching request (1: all of them)
    region: str | None
    seen: int = 0
    answered: int = 0

    def applies(self, operation: str, region: str | None) -> bool:
        if operation != self.operation or (self.region and region != self.region):
            return False
        self.seen += 1
        if self.seen % self.every:
            return False
        self.answered += 1
        return True


class KillableMotoServer:
    def __init__(self, issued: IssuedTokens) -> None:
        self.issued = issued
        self.requests: collections.Counter[str] = collections.Counter()  # operation -> count
        self._server: ThreadedMotoServer | None = None
        self._port = 0
        self._lock = threading.Lock()  # guards the fields below
        self._in_flight: set[socket.socket] = set()
        self._rules: list[ErrorRule] = []
        self._deaths: dict[str, bool] = {}  # operation -> restart right away
        self._lost_answers: set[str] = set()  # operations to process, then answer with a 500
        self._secrets_manager = threading.Lock()  # one Secrets Manager request at a time

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("the server is already running")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self._port, verbose=False)
        server.start()
        werkzeug_server = server._server  # the only handle on moto's WSGI app
        assert werkzeug_server is not None
        werkzeug_server.app = self._middleware(werkzeug_server.app)
        self._port = server.get_host_and_port()[1]
        self._server = server

    def stop(self) -> None:
        """Stop answering, as a crashed process does: refuse new connections, drop open ones."""
        self._close_listener()
        self._drop_in_flight()

    def die_after(self, operation: str, *, restart: bool = False) -> None:
        """Process the next `operation` request, then die before answering it."""
        with self._lock:
            self._deaths[operation] = restart

    def fail_after(self, operation: str) -> None:
        """Process the next `operation` request, then answer it with HTTP 500."""
        with self._lock:
            self._lost_answers.add(operation)

    def answer_error(
        self,
        operation: str,
        code: str,
        *,
        status: int = 400,
        every: int = 1,
        region: str | None = None,
    ) -> ErrorRule:
        """Answer `operation` (every `every`-th request, in `region` or any) with `code`."""
        rule = ErrorRule(operation, code, status, every, region)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()
            self._deaths.clear()
            self._lost_answers.clear()

    def reset_state(self) -> None:
        """Forget every secret and repository (moto's own reset API)."""
        url = f"{self.endpoint_url}/moto-api/reset"  # always http://127.0.0.1:<port>
        request = urllib.request.Request(url, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        werkzeug_server = server._server
        assert werkzeug_server is not None
        # server.stop() ends the accept loop, which checks for it every 0.5 s; connecting wakes
        # it at once (a few connections at most, which it never gets to answer).
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        while stopping.is_alive():
            with suppress(OSError):
                socket.create_connection(("127.0.0.1", self._port), timeout=0.1).close()
            stopping.join(0.01)
        werkzeug_server.server_close()  # the listening socket: now connections are refused

    def _drop_in_flight(self) -> None:
        with self._lock:
            connections, self._in_flight = list(self._in_flight), set()
        for connection in connections:
            with suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)

    def _middleware(self, app: WsgiApp) -> WsgiApp:
        def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            operation = target.rpartition(".")[2]
            scope = _SCOPE_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
            region = scope["region"] if scope else None
            connection = environ.get("werkzeug.socket")
            with self._lock:
                self.requests[operation] += 1
                rule = next((r for r in self._rules if r.applies(operation, region)), None)
                death = self._deaths.pop(operation, None) if rule is None else None
                lost = rule is None and operation in self._lost_answers
                self._lost_answers.discard(operation)
                if connection is not None:
                    self._in_flight.add(connection)
            try:
                if rule is not None:
                    return _error(start_response, rule)
                if target.startswith("secretsmanager."):
                    with self._secrets_manager:
                        body = _complete(app, environ, start_response)
                else:
                    body = _complete(app, environ, start_response)
                if death is not None:
                    self._die(restart=death)
                    raise ServerDied(f"moto server died after processing {operation}")
                if lost:
                    return _error(start_response, ErrorRule(operation, LOST_ANSWER, 500, 1, None))
                return body
            finally:
                with self._lock:
                    self._in_flight.discard(connection)  # type: ignore[arg-type]

        return wrapped

    def _die(self, *, restart: bool) -> None:
        self._close_listener()
        if restart:
            self.start()  # listening again before the client sees its connection drop
        self._drop_in_flight()


def _complete(app: WsgiApp, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Run moto's app to the end, so its state has changed before anything is sent."""
    result = app(environ, start_response)
    try:
        return list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _error(start_response: StartResponse, rule: ErrorRule) -> list[bytes]:
    body = json.dumps({"__type": rule.code, "message": "injected by the test"}).encode()
    start_response(
        f"{rule.status} Injected",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", "fault"),
        ],
    )
    return [body]


@contextmanager
def killable_moto_server() -> Iterator[KillableMotoServer]:
    with ExitStack() as stack:
        server = KillableMotoServer(stack.enter_context(moto_fixes()))
        server.start()
        stack.callback(server.stop)
        server.reset_state()  # moto's state outlives servers: start from nothing
        stack.callback(server.reset_state)
        stack.callback(lambda: None if server.running else server.start())  # runs first
        yield server

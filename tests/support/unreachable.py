"""Endpoints that never answer, the ways a network fails before botocore's timeouts start: a name
whose resolution hangs, and a name whose addresses all drop SYNs. Loopback only.

- `TestNames`: host names this process resolves itself (`socket.getaddrinfo` is wrapped, once, for
  the whole test session): `hang(name)` makes resolving a name block until the test ends,
  `resolve(name, addresses)` makes it resolve to the given loopback addresses (and ports);
  `hanging()` and `resolving_to()` do that for a new name under `.test`. Every name stays answered
  here after its test (resolution fails at once), so a call the function abandoned and that wakes
  up later never asks a real resolver about it (nor a real registry's name, in probe tests).
- `syn_dropping_addresses(count)`: listeners on 127.0.0.2, 127.0.0.3, ... on one port, each with a
  full accept queue (one connection queued, listen backlog 0, never accepted): Linux then drops
  every further SYN, so a connection attempt waits out its whole connect timeout, as with a
  security group or a route that drops packets.
"""

from __future__ import annotations

import errno
import itertools
import select
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

Address = tuple[str, int]
Rule = Callable[[int], list[tuple[Any, ...]]]

# A hanging resolution ends by itself after this long (a test that hangs on it fails on its own
# timeout long before), so that no thread waits forever.
HANG_LIMIT_SECONDS = 120.0

_rules: dict[str, Rule] = {}
_rules_lock = threading.Lock()
_real_getaddrinfo = socket.getaddrinfo
_installed = False
_counter = itertools.count(1)


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """socket.getaddrinfo, except for the names of `TestNames`."""
    name = host.decode() if isinstance(host, bytes) else host
    with _rules_lock:
        rule = _rules.get(name) if isinstance(name, str) else None
    if rule is None:
        return _real_getaddrinfo(host, port, *args, **kwargs)
    return rule(int(port or 0))


def _install() -> None:
    global _installed  # noqa: PLW0603 - installed once for the whole session, on purpose
    with _rules_lock:
        if not _installed:
            socket.getaddrinfo = _getaddrinfo
            _installed = True


def _unknown(_: int) -> list[tuple[Any, ...]]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test name, retired)")


class TestNames:
    """Host names for one test (see the module docstring); `close()` retires them."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self) -> None:
        _install()
        self._names: list[str] = []
        self._released = threading.Event()
        self.waiting = 0  # resolutions of hanging names under way
        self._lock = threading.Lock()

    def _set(self, name: str, rule: Rule) -> None:
        with _rules_lock:
            _rules[name] = rule
        if name not in self._names:
            self._names.append(name)

    def hanging(self, prefix: str = "hang") -> str:
        """A new name whose resolution hangs (see `hang`)."""
        name = f"{prefix}-{next(_counter)}.unreachable.test"
        self.hang(name)
        return name

    def resolving_to(self, addresses: Sequence[Address], prefix: str = "addrs") -> str:
        """A new name that resolves to `addresses` (see `resolve`)."""
        name = f"{prefix}-{next(_counter)}.unreachable.test"
        self.resolve(name, addresses)
        return name

    def hang(self, name: str) -> None:
        """Resolving `name` blocks until `release()` (or the test's end); it then resolves as
        `resolve()` said meanwhile, else fails."""

        def hang(port: int) -> list[tuple[Any, ...]]:
            with self._lock:
                self.waiting += 1
            try:
                self._released.wait(HANG_LIMIT_SECONDS)
            finally:
                with self._lock:
                    self.waiting -= 1
            with _rules_lock:
                now = _rules.get(name)
            if now is None or now is hang:
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            return now(port)

        self._set(name, hang)

    def resolve(self, name: str, addresses: Sequence[Address]) -> None:
        """From now on `name` resolves to `addresses`, each with its own port (whatever port is
        asked for); resolutions already hanging on it resolve there once released."""
        self._set(name, lambda _: _infos(addresses))

    def release(self) -> None:
        """End every hanging resolution (it fails)."""
        self._released.set()

    def close(self) -> None:
        with _rules_lock:
            for name in self._names:
                _rules[name] = _unknown
        self.release()


def _infos(addresses: Sequence[Address]) -> list[tuple[Any, ...]]:
    return [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)
        for address in addresses
    ]


def _listener(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
        sock.listen(0)  # backlog 0: one queued connection fills the accept queue
    except OSError:
        sock.close()
        raise
    return sock


def _fill(stack: ExitStack, address: Address) -> None:
    """Queue one connection that nobody accepts: the accept queue is then full."""
    filler = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    filler.setblocking(False)
    filler.connect_ex(address)
    _, writable, _ = select.select([], [filler], [], 5.0)
    if not writable:
        raise RuntimeError(f"could not queue a connection to {address}")


def _drops_syns(address: Address) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.3)
        try:
            probe.connect(address)
        except TimeoutError:
            return True
        except OSError:
            return False
        return False


@contextmanager
def syn_dropping_addresses(count: int = 8) -> Iterator[list[Address]]:
    """`count` loopback addresses on one port that drop connection attempts (SYNs)."""
    hosts = [f"127.0.0.{2 + i}" for i in range(count)]
    with ExitStack() as stack:
        for _ in range(20):  # the port picked on the first address may be taken on another
            listeners: list[socket.socket] = []
            try:
                first = _listener(hosts[0], 0)
                listeners.append(first)
                port = first.getsockname()[1]
                listeners.extend(_listener(host, port) for host in hosts[1:])
            except OSError as e:
                for sock in listeners:
                    sock.close()
                if e.errno == errno.EADDRNOTAVAIL:
                    pytest.skip(f"no loopback address {hosts} here (only 127.0.0.1?): {e}")
                continue
            break
        else:
            raise RuntimeError("no port free on every loopback address")
        for sock in listeners:
            stack.enter_context(sock)
        addresses = [(host, port) for host in hosts]
        for address in addresses:
            _fill(stack, address)
        if not _drops_syns(addresses[0]):
            pytest.skip("this kernel does not drop SYNs to a listener whose accept queue is full")
        yield addresses

"""Fixtures of the fault and concurrency suite.

- `server`: a `KillableMotoServer` on loopback (see tests/support/killable_server.py).
- `lab`: a `FaultLab`, the conftest `Harness` pointed at that server (the function's clients reach
  it through AWS_ENDPOINT_URL, over real HTTP), with LOG_LEVEL=DEBUG, and the three fixtures below
  as attributes.
- `exposure`: the redaction check of tests/support/redaction.py, run on every fault of the suite:
  the function's log records (at DEBUG, from every logger that runs in Lambda), the exceptions it
  raised, what it printed, and the stdout/stderr of every subprocess a test adds, are searched at
  teardown for every password the patched ECR issued (with its token and `auth` forms) and the
  seed document's password. `lab` depends on it, so no test that runs the function escapes it.
- `retry_sleeps`: botocore's backoff sleeps, recorded instead of slept (the retries still happen;
  tests count them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ecr_token_rotator import aws
from tests.conftest import Harness
from tests.support.failures import SEED_MATERIAL
from tests.support.faults import skip_retry_sleeps
from tests.support.killable_server import KillableMotoServer, killable_moto_server
from tests.support.redaction import exception_texts, leaks, record_texts, reset_capture
from tests.support.registry_stub import RegistryStub, registry_stub


class Exposure:
    """Everything the function showed the outside world during `watching()` blocks."""

    def __init__(
        self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self._caplog = caplog
        self._capsys = capsys
        self.texts: list[str] = []
        self.sources = 0  # watched blocks and added outputs

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Capture the function's output in this block (not the test's own set-up calls)."""
        reset_capture(self._caplog)
        self._capsys.readouterr()
        self.sources += 1
        try:
            yield
        except BaseException as error:
            self.texts += exception_texts(error)
            raise
        finally:
            captured = self._capsys.readouterr()
            self.texts += [*record_texts(self._caplog.records), captured.out, captured.err]

    def add(self, *texts: str) -> None:
        """Output the test collected itself: results, subprocess stdout and stderr."""
        self.sources += 1
        self.texts += texts

    def add_error(self, error: BaseException) -> None:
        self.texts += exception_texts(error)

    def check(self, material: list[str]) -> None:
        assert self.sources, "the test never watched the function: the search would prove nothing"
        assert any(text.strip() for text in self.texts), "nothing was captured"
        assert material, "no secret material to search for"
        assert leaks(self.texts, material) == []


class FaultLab(Harness):
    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        server: KillableMotoServer,
        stub: RegistryStub,
        exposure: Exposure,
        retry_sleeps: list[float],
    ) -> None:
        super().__init__(monkeypatch, server.issued, stub)
        self.server = server
        self.exposure = exposure
        self.retry_sleeps = retry_sleeps


@pytest.fixture
def server() -> Iterator[KillableMotoServer]:
    with killable_moto_server() as running:
        yield running


@pytest.fixture
def exposure(
    server: KillableMotoServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Exposure]:
    caplog.set_level(logging.DEBUG)
    watched = Exposure(caplog, capsys)
    yield watched
    watched.check([*server.issued.secret_material(), *SEED_MATERIAL])


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return skip_retry_sleeps(monkeypatch)


@pytest.fixture
def lab(
    server: KillableMotoServer,
    exposure: Exposure,
    retry_sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FaultLab]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    aws.reset_clients()
    with registry_stub() as stub:
        stub.state.authorize = lambda auth: auth in server.issued.secret_material()
        yield FaultLab(monkeypatch, server, stub, exposure, retry_sleeps)

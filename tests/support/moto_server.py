"""A moto server on a free loopback port, with the ECR and Secrets Manager fixes the tests use."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from moto.server import ThreadedMotoServer

from tests.support.moto_ecr import IssuedTokens, patched_ecr_tokens
from tests.support.secrets_manager_model import faithful_versions


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str
    issued: IssuedTokens


@contextmanager
def moto_fixes() -> Iterator[IssuedTokens]:
    """What every moto server here runs with: realistic ECR tokens, AWS-faithful versions."""
    with patched_ecr_tokens() as issued, faithful_versions():
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        yield issued


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    with ExitStack() as stack:
        issued = stack.enter_context(moto_fixes())
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        stack.callback(server.stop)
        host, port = server.get_host_and_port()
        yield MotoServer(endpoint_url=f"http://{host}:{port}", issued=issued)

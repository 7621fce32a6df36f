"""`make moto` / `make moto-stop`: a local AWS for trying the CLI, no AWS account needed.

    python -m tools.local_aws start   # make moto: prints the exports to use
    python -m tools.local_aws stop    # make moto-stop

`start` runs a moto server (ECR and Secrets Manager) in the background on a free loopback port,
with the fixes `make demo` and the tests use (tests/support/moto_server.py): its ECR issues
fresh tokens of a real lifetime (a plain moto server's expired in 2015, which the function
refuses). It prints, on stdout, the `export` lines that point the AWS SDKs and the CLI at it, so
that a shell takes them with `eval "$(make --silent moto)"`; what it did goes to stderr. Run again
in a shell whose AWS_ENDPOINT_URL names a server it started, it prints the same exports.

`stop` stops the server AWS_ENDPOINT_URL names (where unset: every server `start` started on
this machine). Each server's pid and URL are in a state file in the temporary directory, which
the server removes when it stops.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REGION = "eu-central-1"
STATE_PREFIX = "ecr-token-rotator-moto-"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
# What the exports set: the endpoint, a region (AWS_REGION for the CLI and the AWS CLI v2,
# AWS_DEFAULT_REGION for boto3), and credentials moto accepts (any non-empty values).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class Server:
    """A server `start` started: its process, URL and state file."""

    pid: int
    endpoint_url: str
    state: Path

    def exports(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **CREDENTIALS,
        }

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # a process of another user has taken the pid
            return False
        return True


def state_directory() -> Path:
    return Path(tempfile.gettempdir())


def servers() -> list[Server]:
    """The servers `start` started that are still running (state files of dead ones removed)."""
    found = []
    for state in sorted(state_directory().glob(f"{STATE_PREFIX}*.json")):
        try:
            recorded = json.loads(state.read_text())
            server = Server(int(recorded["pid"]), str(recorded["endpoint_url"]), state)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours
        if server.alive():
            found.append(server)
        else:
            with contextlib.suppress(OSError):
                state.unlink()
    return found


def _named_by_environment() -> Server | None:
    url = os.environ.get("AWS_ENDPOINT_URL")
    return next((server for server in servers() if server.endpoint_url == url), None)


def print_exports(server: Server) -> None:
    for name, value in server.exports().items():
        print(f"export {name}={shlex.quote(value)}")


def start() -> int:
    running = _named_by_environment()
    if running is not None:
        print(f"local AWS already running at {running.endpoint_url}", file=sys.stderr)
        print_exports(running)
        return 0
    state = state_directory() / f"{STATE_PREFIX}{uuid.uuid4().hex}.json"
    log = state.with_suffix(".log")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.local_aws", "serve", str(state)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, and the shell's Ctrl-C
        )
    ends = time.monotonic() + START_TIMEOUT_SECONDS
    while not state.exists():
        if process.poll() is not None or time.monotonic() > ends:
            process.kill()
            print(f"the moto server did not start:\n{log.read_text()}", file=sys.stderr)
            log.unlink()
            return 1
        time.sleep(0.1)
    server = next(server for server in servers() if server.state == state)
    print(
        f"local AWS (moto: ECR issuing fresh tokens, Secrets Manager) at {server.endpoint_url}, "
        f"pid {server.pid}; stop it with `make moto-stop`",
        file=sys.stderr,
    )
    print_exports(server)
    return 0


def stop() -> int:
    named = _named_by_environment()
    targets = [named] if named else ([] if os.environ.get("AWS_ENDPOINT_URL") else servers())
    if not targets:
        url = os.environ.get("AWS_ENDPOINT_URL")
        print(
            f"no local AWS from `make moto` is running{f' at {url}' if url else ''}",
            file=sys.stderr,
        )
        return 0
    for server in targets:
        os.kill(server.pid, signal.SIGTERM)
        ends = time.monotonic() + STOP_TIMEOUT_SECONDS
        while server.alive() and time.monotonic() < ends:
            time.sleep(0.05)
        if server.alive():
            print(f"pid {server.pid} did not stop; kill it", file=sys.stderr)
            return 1
        print(f"stopped the local AWS at {server.endpoint_url}", file=sys.stderr)
    return 0


def serve(state: Path) -> int:
    """The server process: moto with the project's fixes until SIGTERM (or SIGINT)."""
    from tests.support.moto_server import moto_server  # noqa: PLC0415 - the server's process only

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with moto_server() as server:
        written = state.with_suffix(".tmp")
        written.write_text(json.dumps({"pid": os.getpid(), "endpoint_url": server.endpoint_url}))
        written.replace(state)  # whole, or not at all: `start` waits for it
        try:
            while not stopping.wait(1.0):  # wakes up to run the signal handler, whatever the OS
                pass
        finally:
            state.unlink(missing_ok=True)
            state.with_suffix(".log").unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("start", help="start a local AWS; print the exports to use")
    commands.add_parser("stop", help="stop the local AWS AWS_ENDPOINT_URL names (else every one)")
    commands.add_parser("serve", help="(the server process itself)").add_argument("state")
    args = parser.parse_args(argv)
    if args.command == "start":
        return start()
    if args.command == "stop":
        return stop()
    return serve(Path(args.state))


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the packaged function the way Lambda does: unpacked zip + boto3, nothing else.

`python -I -S lambda_runtime.py <event-json>` (`CHILD`: isolated, no site-packages) is started with
`LAMBDA_TASK_ROOT` (the unpacked zip) and `LAMBDA_RUNTIME_DEPS` (a folder holding only boto3 and
what it needs, standing in for the runtime's own copy) in its environment. It imports
`ecr_token_rotator.handler`, invokes `lambda_handler(event, context)` once and prints the result
as the last line of stdout. `run_packaged` does all of it from a test, the demo or the bench.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import lambda_runtime
from tests.support.lambda_runtime import RESULT_MARKER

# boto3 and its dependency tree, as the Lambda Python runtime provides them.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# The child process: only what Lambda's runtime itself would have loaded before the handler.
CHILD = lambda_runtime.__file__


def unpack(zip_path: Path, task_root: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(task_root)
    return task_root


def runtime_deps(target: Path) -> Path:
    """A folder of symlinks to boto3 and its dependencies from this interpreter's environment."""
    import importlib.util  # noqa: PLC0415 - only the parent process needs it

    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = target / source.name
        if not link.exists():
            link.symlink_to(source)
    return target


def environment(task_root: Path, deps: Path, **settings: str) -> dict[str, str]:
    """The child's whole environment: no inherited PYTHONPATH, proxies or AWS profile."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DEPS": str(deps),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": "ecr-token-rotator",
        **settings,
    }


def run_packaged(
    zip_path: Path, workdir: Path, event: dict[str, str], **settings: str
) -> subprocess.CompletedProcess[str]:
    """Unpack `zip_path` under `workdir` and invoke its handler once in a bare interpreter."""
    task_root = unpack(zip_path, workdir / "task")
    deps = runtime_deps(workdir / "runtime")
    return subprocess.run(
        [sys.executable, "-I", "-S", CHILD, json.dumps(event)],
        env=environment(task_root, deps, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def result_of(process: subprocess.CompletedProcess[str]) -> dict[str, object]:
    """The handler's return value, from the last line the child printed."""
    last = process.stdout.splitlines()[-1]
    if not last.startswith(RESULT_MARKER):
        raise ValueError(f"the packaged handler printed no result: {process.stderr[-2000:]}")
    return dict(json.loads(last.removeprefix(RESULT_MARKER)))

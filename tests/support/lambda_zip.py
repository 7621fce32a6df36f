"""Run the packaged function the way Lambda does: unpacked zip + boto3, nothing else.

`python -I -S lambda_zip.py <event-json>` (isolated, no site-packages) is started with
`LAMBDA_TASK_ROOT` (the unpacked zip) and `LAMBDA_RUNTIME_DEPS` (a folder holding only boto3 and
what it needs, standing in for the runtime's own copy) in its environment. It imports
`ecr_token_rotator.handler`, invokes `lambda_handler(event, context)` once and prints the result
as the last line of stdout. `unpack` and `runtime_deps` prepare both folders.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

# boto3 and its dependency tree, as the Lambda Python runtime provides them.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
RESULT_MARKER = "LAMBDA_RESULT "


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


class _Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "ecr-token-rotator")
    aws_request_id = "00000000-0000-4000-8000-000000000000"


def main(argv: list[str]) -> int:
    sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DEPS"]]
    from ecr_token_rotator.handler import lambda_handler  # noqa: PLC0415 - after sys.path is set

    result = lambda_handler(json.loads(argv[0]) if argv else {}, _Context())
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

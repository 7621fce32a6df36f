"""Another tool that keeps one key of its own in the secret, knowing nothing of the function.

`python other_writer.py ENDPOINT_URL REGION SECRET_ID KEY` sets KEY to 1, 2, 3, ... with a plain
read-modify-write (GetSecretValue, then PutSecretValue of the whole document), every few
milliseconds, until its stdin closes; it prints each value once it is written. A separate process,
as such a tool is: its SDK's logs are not the function's.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

PAUSE_SECONDS = 0.05


def main(endpoint_url: str, region: str, secret_id: str, key: str) -> int:
    import boto3  # noqa: PLC0415 - only the child process needs it

    client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    value = 0
    while not select.select([sys.stdin], [], [], PAUSE_SECONDS)[0]:  # stdin closed: readable
        document = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"])
        value += 1
        document[key] = value
        client.put_secret_value(SecretId=secret_id, SecretString=json.dumps(document))
        print(value, flush=True)
    return 0


@contextmanager
def other_writer(endpoint_url: str, region: str, secret_id: str, key: str) -> Iterator[list[int]]:
    """Run the tool for the duration of the block, which starts once it has written its first
    value; yields the values it wrote (complete at the end of the block)."""
    process = subprocess.Popen(
        [sys.executable, __file__, endpoint_url, region, secret_id, key],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ":".join(sys.path),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        },
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the tool is running: its first write is done
    written = [int(first)] if first.strip() else []
    try:
        yield written
    finally:
        stdout, stderr = process.communicate(input="", timeout=30)
        written += [int(line) for line in stdout.split()]
    if process.returncode != 0:
        raise RuntimeError(f"the other tool failed: {stderr[-2000:]}")


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))

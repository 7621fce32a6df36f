"""The seed's handler: the straightforward refresh the benchmark compares against (not used
anywhere else).

What a first version of this Lambda usually looks like: read the secret (other tools keep keys
in it), get a token, `base64decode(...)[4:]` for the password, write the merged document with
`put_secret_value`: three AWS calls, one after another. Module-level clients, as the Lambda
documentation recommends, so a warm container reuses them. For more than one region it does the
obvious thing, one region after another. It checks nothing, writes no expiry and publishes
without a compare-and-swap; it is the yardstick for cost, not a design.

`python -I -S baseline.py` runs it once the way `tests/support/lambda_zip.py` runs the packaged
function: boto3 from LAMBDA_RUNTIME_DEPS, settings from the environment (SECRET_ID, ECR_REGIONS,
AWS_REGION, AWS_ENDPOINT_URL).
"""

from __future__ import annotations

import base64
import json
import os
import sys

if __name__ == "__main__":  # a bare interpreter: boto3 comes from the runtime's folder
    sys.path.insert(0, os.environ["LAMBDA_RUNTIME_DEPS"])

import boto3
from botocore.client import BaseClient

_clients: dict[tuple[str, str], BaseClient] = {}


def _client(service: str, region: str) -> BaseClient:
    if (service, region) not in _clients:
        _clients[service, region] = boto3.client(service, region_name=region)
    return _clients[service, region]


def lambda_handler(event: object, context: object) -> dict[str, str]:
    home = os.environ["AWS_REGION"]
    secrets = _client("secretsmanager", home)
    current = secrets.get_secret_value(SecretId=os.environ["SECRET_ID"])
    regions = [r for r in os.environ.get("ECR_REGIONS", home).split(",") if r]
    auths = {}
    for region in regions:
        data = _client("ecr", region).get_authorization_token()["authorizationData"][0]
        password = base64.b64decode(data["authorizationToken"]).decode()[4:]
        host = data["proxyEndpoint"].removeprefix("https://")
        auths[host] = {"username": "AWS", "password": password, "auth": data["authorizationToken"]}
    registry = next(iter(auths))
    document = {
        **json.loads(current["SecretString"]),
        "registry": registry,
        "username": "AWS",
        "password": auths[registry]["password"],
        "dockerconfigjson": json.dumps({"auths": auths}),
    }
    response = secrets.put_secret_value(
        SecretId=os.environ["SECRET_ID"], SecretString=json.dumps(document)
    )
    return {"secret_arn": response["ARN"], "version_id": response["VersionId"]}


if __name__ == "__main__":
    import time

    result = lambda_handler({}, None)
    # When the refresh ended, for the benchmark only (see tests/support/lambda_runtime.py).
    with open(os.environ["BENCH_DONE_FILE"], "w", encoding="utf-8") as stream:
        stream.write(repr(time.monotonic()))
    print(json.dumps(result))

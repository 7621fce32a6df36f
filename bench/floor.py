"""The least a compare-and-swap refresh can cost: its four AWS calls and nothing else (used only by
the benchmark, next to the seed's handler in bench/baseline.py).

GetSecretValue on this thread while GetAuthorizationToken runs on another, then PutSecretValue of
the merged document under a staging label of its own, then UpdateSecretVersionStage moving
AWSCURRENT to it from the version read. Module-level clients with boto3's defaults, as the
baseline has them (from a session of their own, whose event hooks the benchmark uses). No checks,
no logs, no metric, no retry of a refused move: what any implementation of the function's
publishing pays at least, so the benchmark can show how much of the difference to the baseline
is the compare-and-swap itself and how much is the function's own work.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.client import BaseClient

session = boto3.session.Session()
_clients: dict[tuple[str, str], BaseClient] = {}
_pool = ThreadPoolExecutor(1)


def _client(service: str, region: str) -> BaseClient:
    if (service, region) not in _clients:
        _clients[service, region] = session.client(service, region_name=region)  # type: ignore[call-overload]
    return _clients[service, region]


def _token(region: str) -> dict[str, Any]:
    return dict(_client("ecr", region).get_authorization_token()["authorizationData"][0])


def lambda_handler(event: object, context: object) -> dict[str, str]:
    home = os.environ["AWS_REGION"]
    secret_id = os.environ["SECRET_ID"]
    secrets = _client("secretsmanager", home)
    token = _pool.submit(_token, home)
    current = secrets.get_secret_value(SecretId=secret_id)
    data = token.result()
    host = data["proxyEndpoint"].removeprefix("https://")
    document = {
        **json.loads(current["SecretString"]),
        "registry": host,
        "dockerconfigjson": json.dumps({"auths": {host: {"auth": data["authorizationToken"]}}}),
    }
    written = secrets.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps(document), VersionStages=["FLOOR"]
    )
    secrets.update_secret_version_stage(
        SecretId=secret_id,
        VersionStage="AWSCURRENT",
        MoveToVersionId=written["VersionId"],
        RemoveFromVersionId=current["VersionId"],
    )
    return {"secret_arn": written["ARN"], "version_id": written["VersionId"]}

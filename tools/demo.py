"""`make demo`: the function's main job, end to end, on this machine, with no AWS account.

1. starts a moto server on a free loopback port (ECR and Secrets Manager);
2. creates an ECR repository and a secret in the layout older ExternalSecrets use
   (`registry`/`username`/`password`, plus a key of another team's);
3. runs the packaged function (dist/ecr-token-rotator.zip, unpacked, with only boto3 beside it)
   exactly as Lambda would, for a scheduled event;
4. shows the secret document and the Kubernetes Secret that ESO's default ExternalSecret would
   create from it, with every password and `auth` masked.
"""

from __future__ import annotations

import base64
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from tests.support import lambda_zip
from tests.support.moto_server import moto_server

REPO = Path(__file__).resolve().parents[1]
ZIP = REPO / "dist" / "ecr-token-rotator.zip"
REGION = "eu-central-1"
SECRET_NAME = "platform/ecr-pull-credential"
MASK = "********"
SEED_DOCUMENT = {
    "registry": f"123456789012.dkr.ecr.{REGION}.amazonaws.com",
    "username": "AWS",
    "password": "expired-password-from-last-week",
    "owner": "platform-team",  # someone else's key: the function keeps it
}


def step(text: str) -> None:
    print(f"\n==> {text}")


def masked_document(document: dict[str, Any]) -> dict[str, Any]:
    shown = dict(document, password=MASK)
    config = json.loads(document["dockerconfigjson"])
    for entry in config["auths"].values():
        entry.update({key: MASK for key in ("password", "auth") if key in entry})
    shown["dockerconfigjson"] = json.dumps(config)
    return shown


def kubernetes_secret(document: dict[str, Any]) -> str:
    """What the default ExternalSecret (key `dockerconfigjson`) makes, shown decoded and masked."""
    encoded_length = len(base64.b64encode(document["dockerconfigjson"].encode()))
    decoded = json.loads(masked_document(document)["dockerconfigjson"])
    return "\n".join(
        [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: ecr-pull-secret",
            "  namespace: default",
            "type: kubernetes.io/dockerconfigjson",
            "data:",
            f"  .dockerconfigjson: <base64, {encoded_length} characters>",
            "# .dockerconfigjson decoded, secrets masked:",
            *(f"#   {line}" for line in json.dumps(decoded, indent=2).splitlines()),
        ]
    )


def main() -> int:
    if not ZIP.exists():
        print(f"{ZIP} is missing: run `make package`", file=sys.stderr)
        return 1
    started = time.monotonic()
    with moto_server() as server, tempfile.TemporaryDirectory() as tmp:
        step(f"moto server listening on {server.endpoint_url} (no AWS account involved)")
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        ecr = session.client("ecr", endpoint_url=server.endpoint_url)
        secrets = session.client("secretsmanager", endpoint_url=server.endpoint_url)
        repository = ecr.create_repository(repositoryName="demo/app")["repository"]
        step(f"ECR repository {repository['repositoryUri']}")
        arn = secrets.create_secret(Name=SECRET_NAME, SecretString=json.dumps(SEED_DOCUMENT))["ARN"]
        step(f"secret {SECRET_NAME} seeded in the registry/username/password layout")
        print(json.dumps(dict(SEED_DOCUMENT, password=MASK), indent=2))

        step(f"running the packaged function ({ZIP.relative_to(REPO)}) for a scheduled event")
        event = {"source": "aws.events", "detail-type": "Scheduled Event"}
        process = lambda_zip.run_packaged(
            ZIP,
            Path(tmp),
            event,
            AWS_ENDPOINT_URL=server.endpoint_url,
            AWS_REGION=REGION,
            SECRET_ID=SECRET_NAME,
        )
        print(process.stderr.rstrip(), file=sys.stderr)
        if process.returncode != 0:
            print("the function failed", file=sys.stderr)
            return 1
        *metric_lines, result_line = process.stdout.splitlines()
        print("CloudWatch metric line (EMF):", *metric_lines, sep="\n")
        print("return value:", result_line.removeprefix(lambda_zip.RESULT_MARKER))

        document = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
        step("the secret now holds (passwords masked)")
        print(json.dumps(masked_document(document), indent=2))
        step("the Kubernetes Secret ESO creates from it (examples/*/manifests)")
        print(kubernetes_secret(document))
    print(f"\ndone in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

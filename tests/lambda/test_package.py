"""The Lambda zip: reproducible byte for byte, only the package inside, and it runs as Lambda
runs it (unpacked, boto3 alone beside it, in a fresh interpreter) against a moto server."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.support import lambda_zip
from tests.support.moto_server import MotoServer, moto_server

REPO = Path(__file__).resolve().parents[2]
COMMITTED_ZIP = REPO / "dist" / "ecr-token-rotator.zip"
BUILD_SCRIPT = REPO / "lambda_src" / "build_zip.py"
SOURCES = sorted((REPO / "lambda_src" / "ecr_token_rotator").glob("*.py"))

pytestmark = pytest.mark.slow


def build(output: Path) -> bytes:
    subprocess.run([sys.executable, str(BUILD_SCRIPT), str(output)], check=True)
    return output.read_bytes()


@pytest.fixture(scope="module")
def fresh_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("build") / "ecr-token-rotator.zip"
    build(output)
    return output


def test_two_builds_are_identical(fresh_zip: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again.zip")
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(fresh_zip.read_bytes()).hexdigest()


def test_the_committed_zip_is_a_fresh_build(fresh_zip: Path) -> None:
    assert COMMITTED_ZIP.read_bytes() == fresh_zip.read_bytes(), (
        "dist/ecr-token-rotator.zip is stale: run `make package` and commit it"
    )


def test_zip_holds_exactly_the_package_sources_with_fixed_metadata(fresh_zip: Path) -> None:
    with zipfile.ZipFile(fresh_zip) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names == sorted(names)
        assert names == [f"ecr_token_rotator/{path.name}" for path in SOURCES]
        for info, source in zip(infos, SOURCES, strict=True):
            assert archive.read(info) == source.read_bytes()
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_STORED


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with moto_server() as running:
        yield running


def run_packaged_handler(
    zip_path: Path, tmp_path: Path, server: MotoServer, event: dict[str, str], **settings: str
) -> subprocess.CompletedProcess[str]:
    return lambda_zip.run_packaged(
        zip_path,
        tmp_path,
        event,
        AWS_ENDPOINT_URL=server.endpoint_url,
        AWS_REGION="eu-central-1",
        **settings,
    )


def test_the_packaged_handler_refreshes_a_secret(
    fresh_zip: Path, tmp_path: Path, server: MotoServer
) -> None:
    secrets = boto3.client(
        "secretsmanager", region_name="eu-central-1", endpoint_url=server.endpoint_url
    )
    name = f"ecr-pull-{uuid.uuid4().hex[:8]}"
    arn = secrets.create_secret(Name=name, SecretString=json.dumps({"team": "platform"}))["ARN"]

    process = run_packaged_handler(fresh_zip, tmp_path, server, {}, SECRET_ID=name)

    assert process.returncode == 0, process.stderr
    assert lambda_zip.result_of(process)["secret_arn"] == arn
    document = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert document["team"] == "platform"
    assert document["password"] == server.issued.passwords[-1]
    metric = json.loads(process.stdout.splitlines()[0])
    assert metric["FunctionName"] == "ecr-token-rotator"
    assert metric["RefreshSuccess"] == 1


def test_the_packaged_handler_fails_cleanly(
    fresh_zip: Path, tmp_path: Path, server: MotoServer
) -> None:
    process = run_packaged_handler(fresh_zip, tmp_path, server, {}, SECRET_ID="does-not-exist")
    assert process.returncode != 0
    assert "secret does-not-exist does not exist" in process.stderr
    assert lambda_zip.RESULT_MARKER not in process.stdout


def test_the_zip_imports_nothing_but_stdlib_and_boto3(fresh_zip: Path, tmp_path: Path) -> None:
    """Every module of the package imports in a bare interpreter with only boto3 beside it."""
    task_root = lambda_zip.unpack(fresh_zip, tmp_path / "task")
    deps = lambda_zip.runtime_deps(tmp_path / "runtime")
    modules = [f"ecr_token_rotator.{path.stem}" for path in SOURCES if path.stem != "__main__"]
    code = (
        f"import sys; sys.path[:0] = [{str(task_root)!r}, {str(deps)!r}]\n"
        f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
    )
    subprocess.run([sys.executable, "-I", "-S", "-c", code], check=True, timeout=60)

"""A real registry and a real client, in a network of their own.

- `image_layout` / `chart_layout`: OCI image layouts (the directory format `skopeo copy oci:...`
  reads and writes) holding a small container image, or a Helm chart as Helm pushes it (config
  `application/vnd.cncf.helm.config.v1+json`, one layer `application/vnd.cncf.helm.chart.content.
  v1.tar+gzip` holding the packaged .tgz);
- `PrivateRegistry`: Debian's `docker-registry` (the CNCF distribution registry) with TLS and
  htpasswd users, and `skopeo` commands against it, all run in new user, network and mount
  namespaces (`unshare`): the registry listens on 127.0.0.1:443 of a network that has nothing but
  its own loopback, and a private /etc/hosts sends the ECR hosts of the docker config there. So
  the clients connect to the very host names the function wrote (`<account>.dkr.ecr.<region>.
  amazonaws.com`, port 443), read the docker config as is, and no packet can leave the machine.

A run is a list of phases: each starts the registry with its own htpasswd file (the same storage
throughout), runs its commands and stops it. Tokens of two regions differ, and htpasswd holds one
password per user, so one phase stands for one region's registry.

`unavailable()` says why this cannot run here (a missing tool, namespaces not permitted), for a
skip message.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shlex
import shutil
import subprocess
import tarfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.tls_registry import make_certificates

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
IMAGE_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
TOOLS = ("unshare", "ip", "mount", "docker-registry", "skopeo", "htpasswd")
# Debian package of each tool, for the skip message.
PACKAGES = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}
# bcrypt, which htpasswd files use, reads the first 72 bytes of a password; the registry compares
# the same 72 bytes (real ECR passwords are thousands of characters).
BCRYPT_MAX_BYTES = 72


def _tar_gz(files: dict[str, bytes]) -> bytes:
    """A reproducible .tar.gz of `files` (path -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def _descriptor(blobs: Path, media_type: str, content: bytes) -> dict[str, object]:
    digest = hashlib.sha256(content).hexdigest()
    (blobs / digest).write_bytes(content)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(content)}


def _layout(
    directory: Path, tag: str, config: tuple[str, bytes], layers: list[tuple[str, bytes]]
) -> str:
    """An OCI image layout with one manifest, tagged `tag`; its manifest digest."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(blobs, *config),
        "layers": [_descriptor(blobs, media_type, content) for media_type, content in layers],
    }
    descriptor = _descriptor(blobs, OCI_MANIFEST, json.dumps(manifest).encode())
    descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (directory / "index.json").write_text(
        json.dumps({"schemaVersion": 2, "manifests": [descriptor]})
    )
    return str(descriptor["digest"])


def image_layout(directory: Path, tag: str) -> str:
    """A one-layer linux/amd64 image; its manifest digest."""
    layer = _tar_gz({"etc/app.conf": b"greeting = hello\n"})
    diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    return _layout(
        directory, tag, (IMAGE_CONFIG, json.dumps(config).encode()), [(IMAGE_LAYER, layer)]
    )


def chart_layout(directory: Path, name: str, version: str) -> tuple[str, bytes]:
    """The Helm chart `name` `version` as `helm push` stores it; (manifest digest, chart .tgz)."""
    chart_yaml = f"apiVersion: v2\nname: {name}\nversion: {version}\ntype: application\n"
    package = _tar_gz(
        {
            f"{name}/Chart.yaml": chart_yaml.encode(),
            f"{name}/values.yaml": b"imagePullSecrets: []\n",
            f"{name}/templates/configmap.yaml": (
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
            ),
        }
    )
    config = {"apiVersion": "v2", "name": name, "version": version, "type": "application"}
    digest = _layout(
        directory,
        version,
        (HELM_CONFIG, json.dumps(config).encode()),
        [(HELM_CHART_LAYER, package)],
    )
    return digest, package


def read_layout(directory: Path) -> tuple[dict[str, object], dict[str, bytes]]:
    """The one manifest of an OCI image layout and its blobs by digest."""
    index = json.loads((directory / "index.json").read_text())
    (descriptor,) = index["manifests"]
    blobs = {
        f"sha256:{path.name}": path.read_bytes()
        for path in (directory / "blobs" / "sha256").iterdir()
    }
    return json.loads(blobs[descriptor["digest"]]), blobs


def unavailable() -> str | None:
    """Why the registry cannot run here, or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = sorted({PACKAGES.get(tool, tool) for tool in missing})
        return f"{', '.join(missing)} not on PATH (Debian: apt-get install {' '.join(packages)})"
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--net", "--mount", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"cannot make a private network namespace (unshare: {probe.stderr.strip()})"
    return None


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Phase:
    """The registry with these logins (user -> password), and the commands run against it."""

    logins: dict[str, str]
    commands: list[list[str]] = field(default_factory=list)


@dataclass
class PrivateRegistry:
    """Files of one run under `directory`; the hosts the private /etc/hosts sends to 127.0.0.1."""

    directory: Path
    hosts: list[str]

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.certificates = make_certificates(self.directory, self.hosts)
        # skopeo's --cert-dir: *.crt files are the certificate authorities it trusts.
        self.cert_dir = self.directory / "certs.d"
        self.cert_dir.mkdir()
        shutil.copy(self.certificates.ca_file, self.cert_dir / "ca.crt")
        (self.directory / "hosts").write_text(
            "127.0.0.1 localhost\n" + "".join(f"127.0.0.1 {host}\n" for host in self.hosts)
        )

    def _htpasswd(self, path: Path, logins: dict[str, str]) -> None:
        lines = []
        for user, password in logins.items():
            result = subprocess.run(
                ["htpasswd", "-niBC", "4", user],
                input=password.encode()[:BCRYPT_MAX_BYTES],
                capture_output=True,
                check=True,
            )
            lines.append(result.stdout.decode().strip())
        path.write_text("\n".join(lines) + "\n")

    def _config(self, path: Path, htpasswd: Path) -> None:
        path.write_text(
            textwrap.dedent(
                f"""\
                version: 0.1
                log:
                  level: info
                storage:
                  filesystem:
                    rootdirectory: {self.directory / "storage"}
                http:
                  addr: 127.0.0.1:443
                  secret: test-only-upload-state-secret
                  tls:
                    certificate: {self.certificates.cert_file}
                    key: {self.certificates.key_file}
                auth:
                  htpasswd:
                    realm: ecr-token-rotator-test
                    path: {htpasswd}
                """
            )
        )

    def run(self, phases: list[Phase]) -> list[list[Result]]:
        """Each phase's commands' results, in order."""
        lines = [
            "set -u",
            "ip link set lo up",
            f"mount --bind {shlex.quote(str(self.directory / 'hosts'))} /etc/hosts",
        ]
        for number, phase in enumerate(phases):
            htpasswd = self.directory / f"htpasswd-{number}"
            config = self.directory / f"registry-{number}.yml"
            self._htpasswd(htpasswd, phase.logins)
            self._config(config, htpasswd)
            log = self.directory / f"registry-{number}.log"
            lines += [
                f"docker-registry serve {shlex.quote(str(config))} "
                f"> {shlex.quote(str(log))} 2>&1 &",
                "registry=$!",
                "for _ in $(seq 100); do (: > /dev/tcp/127.0.0.1/443) 2>/dev/null && break; "
                "sleep 0.1; done",
            ]
            for index, command in enumerate(phase.commands):
                out = self.directory / f"step-{number}-{index}"
                lines.append(
                    f"{shlex.join(command)} > {shlex.quote(str(out))}.out "
                    f"2> {shlex.quote(str(out))}.err; echo $? > {shlex.quote(str(out))}.rc"
                )
            lines += ['kill "$registry"', 'wait "$registry" 2>/dev/null || true']
        script = self.directory / "run.sh"
        script.write_text("\n".join(lines) + "\n")
        subprocess.run(
            ["unshare", "--map-root-user", "--net", "--mount", "bash", str(script)],
            check=True,
            timeout=300,
            cwd=self.directory,
        )
        results = []
        for number, phase in enumerate(phases):
            phase_results = []
            for index in range(len(phase.commands)):
                out = self.directory / f"step-{number}-{index}"
                phase_results.append(
                    Result(
                        int(Path(f"{out}.rc").read_text()),
                        Path(f"{out}.out").read_text(),
                        Path(f"{out}.err").read_text(),
                    )
                )
            results.append(phase_results)
        return results

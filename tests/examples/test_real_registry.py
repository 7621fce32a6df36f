"""The credentials examples/gitops renders pull from a real registry with a real client.

The function writes its secret against moto for two regions and two registry accounts, with
passwords as long as real ECR ones. ESO's engine renders the example's ExternalSecrets from it
(the committed manifests, which test_manifests holds to what Terraform writes): the pull secret
that Flux and the kubelet use, whose `.dockerconfigjson` is also the registry config file of the
README's "Helm CLI and CI runners" recipe, and Argo CD's credential (username, password). Then
Debian's `docker-registry` (the CNCF distribution registry: TLS, htpasswd user `AWS` with one
region's password) and `skopeo` (which reads the docker config format with --authfile, as Helm's
--registry-config, containerd and Flux do) run in a private network where the ECR host names
lead to the registry (tests/support/oci_registry.py): a publisher pushes an image and a Helm
chart, and the rendered credentials pull them back. The registry plays one region at a time, so
each host's login must be its own region's token: the other region's is refused.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.examples.cluster import (
    DOCKERCONFIGJSON,
    DOCKERCONFIGJSON_KEY,
    eso_secret,
    kubelet_logins,
    load_manifests,
)
from tests.examples.conftest import HOSTS, REGIONS, REGISTRY_IDS
from tests.support import oci_registry
from tests.support.oci_registry import HELM_CHART_LAYER, HELM_CONFIG, Phase, PrivateRegistry
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR

pytestmark = pytest.mark.slow

GITOPS = EXAMPLES_DIR / "gitops" / "manifests" / "rendered"
# Real ECR passwords are 2,700-3,200+ characters.
PASSWORD_LENGTH = 3200
PUBLISHER = "publisher"
# A host of each region: eu-central-1 in account 123456789012, eu-west-1 in 210987654321.
REGION_HOSTS = {REGIONS[0]: HOSTS[0], REGIONS[1]: HOSTS[-1]}


@pytest.fixture
def registry_tools() -> None:
    reason = oci_registry.unavailable()
    if reason:
        pytest.skip(f"real registry and client: {reason}")


def external_secrets() -> tuple[dict[str, Any], dict[str, Any]]:
    """The gitops example's pull secret and Argo CD credential ExternalSecret specs."""
    found = [obj for _, obj in load_manifests(GITOPS) if obj["kind"] == "ExternalSecret"]
    (pull,) = [o for o in found if o["spec"]["target"]["template"]["type"] == DOCKERCONFIGJSON]
    (argocd,) = [o for o in found if o is not pull]
    return pull["spec"], argocd["spec"]


def skopeo_copy(source: str, destination: str, authfile: str, cert_dir: str, push: bool) -> list:
    side = "dest" if push else "src"
    return [
        "skopeo",
        "--insecure-policy",  # signature policy, not TLS: the test CA is verified
        "copy",
        f"--{side}-authfile",
        authfile,
        f"--{side}-cert-dir",
        cert_dir,
        source,
        destination,
    ]


@dataclass(frozen=True)
class Rendered:
    registry_config: bytes  # the pull secret's .dockerconfigjson
    region_password: dict[str, str]
    argocd: dict[str, str]  # the Argo CD credential's fields


def render(harness, eso_engine) -> Rendered:
    """The example's credentials, rendered by ESO's engine from the function's secret."""
    harness.issued.password_length = PASSWORD_LENGTH
    arn = harness.create_secret("ecr-token-rotator")
    harness.configure(
        SECRET_ID=arn, ECR_REGIONS=",".join(REGIONS), ECR_REGISTRY_IDS=",".join(REGISTRY_IDS)
    )
    assert harness.invoke()["registry_hosts"] == HOSTS
    document = harness.document(arn)
    pull_spec, argocd_spec = external_secrets()
    pull_secret = eso_secret(pull_spec, document)
    argocd = eso_secret(argocd_spec, document, eso_engine)
    logins = kubelet_logins(pull_secret)
    region_password = {region: logins[host].password for region, host in REGION_HOSTS.items()}
    assert len(set(region_password.values())) == len(REGIONS)
    assert all(len(password) == PASSWORD_LENGTH for password in region_password.values())
    return Rendered(
        pull_secret.data[DOCKERCONFIGJSON_KEY],
        region_password,
        {key: value.decode() for key, value in argocd.data.items()},
    )


def test_rendered_credentials_pull_an_image_and_a_chart_from_a_real_registry(
    registry_tools, harness, eso_engine, tmp_path
):
    rendered = render(harness, eso_engine)
    first, other_region = REGION_HOSTS[REGIONS[0]], REGION_HOSTS[REGIONS[1]]
    assert rendered.argocd["url"] == first  # the example's one host, the chart's
    # The README's recipe: the pull secret's .dockerconfigjson, written as is.
    registry_config = tmp_path / "registry-config.json"
    registry_config.write_bytes(rendered.registry_config)
    region_password, argocd = rendered.region_password, rendered.argocd

    publisher_password = "publisher-only-in-this-test"
    publisher_auth = base64.b64encode(f"{PUBLISHER}:{publisher_password}".encode()).decode()
    publisher_config = tmp_path / "publisher.json"
    publisher_config.write_text(
        json.dumps({"auths": {host: {"auth": publisher_auth} for host in HOSTS}})
    )
    image_digest = oci_registry.image_layout(tmp_path / "image", "1.0.0")
    chart_digest, chart_package = oci_registry.chart_layout(tmp_path / "chart", "app", "1.0.0")

    registry = PrivateRegistry(tmp_path / "registry", HOSTS)
    certs, config = str(registry.cert_dir), str(registry_config)
    image, chart = "platform/app:1.0.0", "charts/app:1.0.0"

    def pull(host: str, reference: str, into: str) -> list[str]:
        return skopeo_copy(
            f"docker://{host}/{reference}",
            f"oci:{tmp_path / into}:1.0.0",
            config,
            certs,
            push=False,
        )

    def argocd_login(host: str) -> list[str]:
        return [
            "skopeo",
            "inspect",
            "--raw",
            "--cert-dir",
            certs,
            "--creds",
            f"{argocd['username']}:{argocd['password']}",
            f"docker://{host}/{chart}",
        ]

    central, west = registry.run(
        [
            Phase(
                {"AWS": region_password[REGIONS[0]], PUBLISHER: publisher_password},
                [
                    skopeo_copy(
                        f"oci:{tmp_path / 'image'}:1.0.0",
                        f"docker://{first}/{image}",
                        str(publisher_config),
                        certs,
                        push=True,
                    ),
                    skopeo_copy(
                        f"oci:{tmp_path / 'chart'}:1.0.0",
                        f"docker://{first}/{chart}",
                        str(publisher_config),
                        certs,
                        push=True,
                    ),
                    pull(first, image, "pulled-image"),
                    pull(first, chart, "pulled-chart"),
                    argocd_login(first),
                    pull(other_region, image, "refused"),
                ],
            ),
            Phase(
                {"AWS": region_password[REGIONS[1]]},
                [
                    pull(other_region, image, "pulled-image-west"),
                    pull(first, image, "refused-central"),
                    argocd_login(first),
                ],
            ),
        ]
    )

    push_image, push_chart, pulled_image, pulled_chart, argocd_inspect, refused = central
    assert push_image.returncode == 0, push_image.stderr
    assert push_chart.returncode == 0, push_chart.stderr
    # The pull secret (Flux's, the kubelet's, Helm's registry config) pulls both, unchanged.
    assert pulled_image.returncode == 0, pulled_image.stderr
    assert pulled_chart.returncode == 0, pulled_chart.stderr
    manifest, _ = oci_registry.read_layout(tmp_path / "pulled-image")
    index = json.loads((tmp_path / "pulled-image" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image_digest
    manifest, blobs = oci_registry.read_layout(tmp_path / "pulled-chart")
    index = json.loads((tmp_path / "pulled-chart" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == chart_digest
    assert manifest["config"]["mediaType"] == HELM_CONFIG
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == HELM_CHART_LAYER
    assert blobs[layer["digest"]] == chart_package
    # Argo CD's username and password log in to the chart's host.
    assert argocd_inspect.returncode == 0, argocd_inspect.stderr
    assert json.loads(argocd_inspect.stdout)["layers"][0]["mediaType"] == HELM_CHART_LAYER
    # The other region's host carries the other region's token: this registry refuses it.
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr.lower(), refused.stderr

    pulled_west, refused_central, argocd_refused = west
    assert pulled_west.returncode == 0, pulled_west.stderr
    assert refused_central.returncode != 0
    assert "unauthorized" in refused_central.stderr.lower(), refused_central.stderr
    assert argocd_refused.returncode != 0

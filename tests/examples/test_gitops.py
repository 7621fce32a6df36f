"""examples/gitops, from the secret the real function writes to what Argo CD and Flux do with it.

The example's manifests are the ones Terraform writes (applied offline: the default, and a variant
with four registry hosts and Argo CD's native OCI type, tests/examples/conftest.py). Each
ExternalSecret is rendered by ESO's engine v2 itself (Go text/template + sprig) from the document
the function wrote against moto for two regions and two registry accounts. Then, following Argo CD's
and Flux's documented rules:

- Argo CD (Declarative Setup): a repository credential is a Secret in Argo CD's namespace labelled
  `argocd.argoproj.io/secret-type`; a `repo-creds` one serves each repository whose URL starts with
  its `url` (lower-cased, `.git` trimmed; the longest match wins); OCI Helm registries take `type:
  helm`, `enableOCI: "true"` and a URL without a scheme, native OCI sources `type: oci` and
  `oci://` URLs;
- Flux: an OCIRepository's `secretRef` is a kubernetes.io/dockerconfigjson Secret of its own
  namespace, whose entry for the URL's host logs in; a HelmRelease's `chartRef` names the source.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.examples.cluster import (
    DOCKERCONFIGJSON,
    DOCKERCONFIGJSON_KEY,
    Login,
    Secret,
    eso_secret,
    kubelet_logins,
    load_manifests,
)
from tests.examples.conftest import GITOPS_VARIANT
from tests.examples.eso_engine import TemplateError
from tests.examples.kubernetes_schemas import core_schema_errors, is_core
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR
from tools.terraform.harness import SHARED, AppliedExample

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def objects(example: AppliedExample, kind: str) -> list[dict[str, Any]]:
    return [
        obj
        for _, text in sorted(example.generated.items())
        for obj in yaml.safe_load_all(text)
        if obj is not None and obj["kind"] == kind
    ]


def the(example: AppliedExample, kind: str) -> dict[str, Any]:
    (obj,) = objects(example, kind)
    return obj


def argocd_external_secrets(example: AppliedExample) -> list[dict[str, Any]]:
    return [
        obj
        for obj in objects(example, "ExternalSecret")
        if obj["spec"]["target"]["template"].get("metadata", {}).get("labels", {})
    ]


def pull_secret(example: AppliedExample, document: dict[str, Any]) -> tuple[dict, Secret]:
    """The pull secret's ExternalSecret and the Secret ESO makes from it."""
    (external_secret,) = [
        obj
        for obj in objects(example, "ExternalSecret")
        if obj["spec"]["target"]["template"]["type"] == DOCKERCONFIGJSON
    ]
    return external_secret, eso_secret(external_secret["spec"], document)


@dataclass(frozen=True)
class Deployment:
    example: AppliedExample
    argocd_repository_type: str


@pytest.fixture(params=["default", "variant"])
def deployment(request, applied) -> Deployment:
    if request.param == "default":
        return Deployment(applied("gitops", 6), "helm")
    variant = request.getfixturevalue("gitops_variant")
    return Deployment(variant, GITOPS_VARIANT["argocd_repository_type"])


@pytest.fixture
def gitops(deployment) -> AppliedExample:
    return deployment.example


@pytest.fixture
def function_document(harness, gitops) -> tuple[dict[str, Any], dict[str, Login]]:
    """What the function writes for the example's registries (each host's region token), and the
    login of each host in it (as the kubelet reads the docker config)."""
    hosts = gitops.outputs["registry_hosts"]
    regions = dict.fromkeys(host.split(".")[3] for host in hosts)
    accounts = dict.fromkeys(host.split(".")[0] for host in hosts)
    arn = harness.create_secret("ecr-token-rotator")
    harness.configure(
        SECRET_ID=arn, ECR_REGIONS=",".join(regions), ECR_REGISTRY_IDS=",".join(accounts)
    )
    assert harness.invoke()["registry_hosts"] == hosts
    document = harness.document(arn)
    config = Secret(DOCKERCONFIGJSON, {DOCKERCONFIGJSON_KEY: document["dockerconfigjson"].encode()})
    return document, kubelet_logins(config)


# ---- Argo CD ------------------------------------------------------------------------------------


def test_the_variant_covers_four_hosts_and_two_tokens(gitops_variant):
    hosts = gitops_variant.outputs["registry_hosts"]
    assert len(hosts) == len(GITOPS_VARIANT["ecr_regions"]) * len(
        GITOPS_VARIANT["ecr_registry_ids"]
    )


def test_argo_cd_gets_one_credential_per_registry_host(
    deployment, gitops, function_document, eso_engine
):
    document, logins = function_document
    hosts = gitops.outputs["registry_hosts"]
    repository_type = deployment.argocd_repository_type
    argocd_namespace = "argocd"

    rendered = {}
    for external_secret in argocd_external_secrets(gitops):
        metadata, spec = external_secret["metadata"], external_secret["spec"]
        assert metadata["namespace"] == argocd_namespace  # Argo CD reads its own namespace only
        assert spec["target"]["name"] == metadata["name"]
        assert spec["target"]["creationPolicy"] == "Owner"
        secret = eso_secret(spec, document, eso_engine)
        fields = {key: value.decode() for key, value in secret.data.items()}
        rendered[fields["url"]] = (metadata["name"], secret, fields)

    expected_urls = [f"oci://{host}" if repository_type == "oci" else host for host in hosts]
    assert sorted(rendered) == sorted(expected_urls)
    passwords = set()
    for host, url in zip(hosts, expected_urls, strict=True):
        name, secret, fields = rendered[url]
        assert secret.type == "Opaque"
        assert secret.labels == {SECRET_TYPE_LABEL: "repo-creds"}
        expected = {
            "name": name,
            "url": url,
            "type": repository_type,
            "username": logins[host].username,
            "password": logins[host].password,
        }
        if repository_type == "helm":
            expected["enableOCI"] = "true"
        assert fields == expected, host
        assert fields["username"] == "AWS"
        passwords.add(fields["password"])
        assert core_schema_errors(as_manifest(name, argocd_namespace, secret)) == []
    # Each host its own region's token: two regions, two passwords.
    assert len(passwords) == len({host.split(".")[3] for host in hosts})


def as_manifest(name: str, namespace: str, secret: Secret) -> dict[str, Any]:
    """The Secret object ESO creates, as the API server would receive it."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": secret.labels},
        "type": secret.type,
        "data": {key: base64.b64encode(value).decode() for key, value in secret.data.items()},
    }


def test_a_host_missing_from_the_secret_fails_the_sync_with_its_name(applied, harness, eso_engine):
    # A secret written for another registry account: the credential's host is not in it. ESO
    # reports the error and keeps the Secret's last login rather than writing an empty password.
    arn = harness.create_secret("other")
    harness.configure(SECRET_ID=arn, ECR_REGISTRY_IDS="210987654321")
    harness.invoke()
    (external_secret,) = argocd_external_secrets(applied("gitops", 6))
    host = external_secret["spec"]["target"]["template"]["data"]["url"]

    with pytest.raises(TemplateError, match=f"has no entry for {host}"):
        eso_secret(external_secret["spec"], harness.document(arn), eso_engine)


def argocd_credential(repo_url: str, credentials: list[dict[str, str]]) -> dict[str, str] | None:
    """Argo CD's choice of credential template for a repository URL: the longest `url` that is a
    prefix of it, both lower-cased and without a `.git` suffix."""

    def normalized(url: str) -> str:
        return url.strip().lower().removesuffix(".git")

    matches = [c for c in credentials if normalized(repo_url).startswith(normalized(c["url"]))]
    return max(matches, key=lambda c: len(normalized(c["url"])), default=None)


def test_the_application_installs_the_chart_with_a_credential_of_its_host(
    gitops, function_document, eso_engine
):
    document, logins = function_document
    credentials = [
        {
            key: value.decode()
            for key, value in eso_secret(obj["spec"], document, eso_engine).data.items()
        }
        for obj in argocd_external_secrets(gitops)
    ]
    application = the(gitops, "Application")
    source = application["spec"]["source"]
    chart_reference = gitops.outputs["chart_reference"]  # oci://<host>/<repository>

    credential = argocd_credential(source["repoURL"], credentials)

    assert credential is not None, source["repoURL"]
    host = chart_reference.removeprefix("oci://").split("/", 1)[0]
    assert credential["password"] == logins[host].password
    if credential["type"] == "oci":  # native OCI source: the artifact itself, path "."
        assert source["repoURL"] == chart_reference
        assert source["path"] == "."
        assert "chart" not in source
    else:  # a Helm repository in an OCI registry: <host>/<path> without scheme, and the chart
        assert credential["enableOCI"] == "true"
        assert not source["repoURL"].startswith("oci://")
        assert f"oci://{source['repoURL']}/{source['chart']}" == chart_reference
    assert application["metadata"]["namespace"] == "argocd"


def test_the_charts_pods_get_the_pull_secret_of_their_namespace(gitops):
    pull_secret_name = pull_secret_target(gitops)
    application = the(gitops, "Application")
    values = application["spec"]["source"]["helm"]["valuesObject"]
    assert application["spec"]["destination"]["namespace"] == pull_secret_name[0]
    assert values["imagePullSecrets"] == [{"name": pull_secret_name[1]}]
    release = the(gitops, "HelmRelease")
    assert release["metadata"]["namespace"] == pull_secret_name[0]
    assert release["spec"]["values"]["imagePullSecrets"] == [{"name": pull_secret_name[1]}]


def pull_secret_target(example: AppliedExample) -> tuple[str, str]:
    (external_secret,) = [
        obj
        for obj in objects(example, "ExternalSecret")
        if obj["spec"]["target"]["template"]["type"] == DOCKERCONFIGJSON
    ]
    return external_secret["metadata"]["namespace"], external_secret["spec"]["target"]["name"]


def test_the_store_serves_the_namespaces_of_the_credentials(gitops):
    store = the(gitops, "ClusterSecretStore")
    allowed = {ns for condition in store["spec"]["conditions"] for ns in condition["namespaces"]}
    used = {obj["metadata"]["namespace"] for obj in objects(gitops, "ExternalSecret")}
    assert used == allowed == {"apps", "argocd"}


# ---- Flux ---------------------------------------------------------------------------------------


def test_flux_pulls_the_chart_with_the_pull_secret_of_its_namespace(gitops, function_document):
    document, logins = function_document
    external_secret, secret = pull_secret(gitops, document)
    repository = the(gitops, "OCIRepository")
    spec = repository["spec"]

    # secretRef: the dockerconfigjson Secret ESO writes, in the OCIRepository's namespace.
    assert spec["secretRef"] == {"name": external_secret["spec"]["target"]["name"]}
    assert repository["metadata"]["namespace"] == external_secret["metadata"]["namespace"]
    assert secret.type == DOCKERCONFIGJSON
    assert json.loads(secret.data[DOCKERCONFIGJSON_KEY]) == json.loads(document["dockerconfigjson"])
    # The URL's host has a login in it: the one of its region's token.
    assert spec["url"] == gitops.outputs["chart_reference"]
    host = spec["url"].removeprefix("oci://").split("/", 1)[0]
    assert kubelet_logins(secret)[host] == logins[host]
    # Generic provider: Flux reads the Secret and never calls AWS itself.
    assert spec.get("provider", "generic") == "generic"
    # A tag: no tag listing, which would need ecr:ListImages (the module's ecr_list_tags).
    assert set(spec["ref"]) == {"tag"}
    assert spec["layerSelector"] == {"mediaType": HELM_CHART_LAYER, "operation": "copy"}


def test_the_helm_release_installs_the_chart_of_the_oci_repository(gitops):
    repository = the(gitops, "OCIRepository")
    release = the(gitops, "HelmRelease")
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert repository["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    chart_ref = release["spec"]["chartRef"]
    assert chart_ref["kind"] == "OCIRepository"
    assert chart_ref["name"] == repository["metadata"]["name"]
    assert (
        chart_ref.get("namespace", release["metadata"]["namespace"])
        == (repository["metadata"]["namespace"])
    )
    assert "chart" not in release["spec"]  # one of chart or chartRef


# ---- the README's recipe for Helm and CI runners ------------------------------------------------


def test_the_readme_recipe_reads_the_pull_secret_into_one_registry_config_file():
    readme = (EXAMPLES_DIR / "gitops" / "README.md").read_text()
    section = readme[readme.index("## Helm CLI and CI runners") :]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    lines = [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]
    rendered = [
        obj for _, obj in load_manifests(EXAMPLES_DIR / "gitops" / "manifests" / "rendered")
    ]
    (pull,) = [
        obj
        for obj in rendered
        if obj["kind"] == "ExternalSecret"
        and obj["spec"]["target"]["template"]["type"] == DOCKERCONFIGJSON
    ]
    (repository,) = [obj for obj in rendered if obj["kind"] == "OCIRepository"]
    namespace, name = pull["metadata"]["namespace"], pull["spec"]["target"]["name"]

    assert "registry login" not in block
    assert any(
        f"kubectl -n {namespace} get secret {name}" in line
        and "jsonpath='{.data.\\.dockerconfigjson}'" in line
        and line.endswith("> registry-config.json)")
        for line in lines
    )
    tools = {"helm": "--registry-config", "skopeo": "--authfile", "oras": "--registry-config"}
    used = set()
    for line in lines:
        tool = line.split()[0]
        if tool in tools:
            assert f"{tools[tool]} registry-config.json" in line, line
            used.add(tool)
            reference = repository["spec"]["url"].removeprefix("oci://")
            assert reference in line, line  # the chart Flux and Argo CD install
    assert used == set(tools)


def test_the_variant_is_valid_against_the_crds_and_kubernetes_schemas(gitops_variant, tmp_path):
    # make validate-examples checks the committed (default) manifests; the native OCI shape of
    # the Application and its credentials exist only in the variant.
    validator = SHARED / "tools" / "validate_eso_manifests.py"
    if not validator.is_file():
        pytest.skip(f"{validator} is absent (the shared validators live beside the project)")
    for path, text in gitops_variant.generated.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    result = subprocess.run(
        [sys.executable, str(validator), "--strict", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 0 warning(s)" in result.stdout
    for _, obj in load_manifests(tmp_path):
        if is_core(obj):
            assert core_schema_errors(obj) == []
    application = the(gitops_variant, "Application")
    assert application["spec"]["source"]["repoURL"].startswith("oci://")

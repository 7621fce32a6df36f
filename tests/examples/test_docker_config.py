"""From the secret the real function writes to the login the kubelet uses, through the examples'
ExternalSecrets: the default one (the ready-made `dockerconfigjson` key) and the migration
variant (engine v2 template over registry/username/password)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.examples.cluster import (
    DOCKERCONFIGJSON,
    DOCKERCONFIGJSON_KEY,
    Login,
    Secret,
    api_server_rejection,
    eso_secret,
    kubelet_logins,
    load_manifests,
    login_for_image,
)
from tests.examples.conftest import HOSTS
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR
from tools.terraform.harness import example_names


def external_secret_specs() -> list[tuple[str, dict]]:
    """(label, ExternalSecret spec) of every ExternalSecret and ClusterExternalSecret rendered in
    the examples (the committed copies, which test_manifests checks are fresh) that writes a
    Secret (not a generic target)."""
    specs = []
    for name in example_names():
        for path, obj in load_manifests(EXAMPLES_DIR / name / "manifests" / "rendered"):
            label = f"{name}/{path.name}"
            if obj.get("kind") == "ExternalSecret":
                specs.append((label, obj["spec"]))
            elif obj.get("kind") == "ClusterExternalSecret":
                specs.append((label, obj["spec"]["externalSecretSpec"]))
    return [(label, spec) for label, spec in specs if not spec["target"].get("manifest")]


def reads(spec: dict, key: str) -> bool:
    return any(item["remoteRef"].get("property") == key for item in spec.get("data", []))


SPECS = external_secret_specs()
# The pull secrets (the Argo CD credentials of examples/gitops are Opaque Secrets of another shape:
# tests/examples/test_gitops.py): the default copies the function's ready-made docker config (and
# may annotate it); the migration variant builds it from registry/username/password.
PULL_SPECS = [
    (label, spec) for label, spec in SPECS if spec["target"]["template"]["type"] == DOCKERCONFIGJSON
]
DEFAULT_SPECS = [(label, spec) for label, spec in PULL_SPECS if reads(spec, "dockerconfigjson")]
TEMPLATED_SPECS = [(label, spec) for label, spec in PULL_SPECS if reads(spec, "password")]
EXPIRY_ANNOTATION = "ecr-token-rotator/expires-at"


def test_every_example_has_a_default_external_secret_and_complete_has_the_variant():
    assert {label.split("/")[0] for label, _ in DEFAULT_SPECS} == set(example_names())
    assert [label for label, _ in TEMPLATED_SPECS] == [
        "complete/21-external-secret-from-fields.yaml"
    ]
    assert len(DEFAULT_SPECS) + len(TEMPLATED_SPECS) == len(PULL_SPECS)


def templated(spec: dict) -> bool:
    """Does ESO render anything of this spec's target with its template engine?"""
    template = spec["target"].get("template") or {}
    metadata = template.get("metadata") or {}
    return bool(template.get("data") or metadata.get("labels") or metadata.get("annotations"))


def test_completes_pull_secrets_carry_the_credentials_expiry(published, eso_engine):
    document, _, _ = published
    annotated = [label for label, spec in DEFAULT_SPECS if label.startswith("complete/")]
    assert annotated == [
        "complete/20-external-secret.yaml",
        "complete/30-cluster-external-secret.yaml",
    ]
    for label, spec in DEFAULT_SPECS:
        if label in annotated:
            secret = eso_secret(spec, document, eso_engine)
            assert secret.annotations == {EXPIRY_ANNOTATION: document["expires_at"]}, label


@pytest.mark.parametrize(
    ("label", "spec"), DEFAULT_SPECS, ids=[label for label, _ in DEFAULT_SPECS]
)
def test_default_external_secret_gives_the_kubelet_a_login_for_every_host(
    label, spec, published, request
):
    document, hosts, issued = published
    assert hosts == HOSTS
    # complete's pull secrets annotate themselves with the expiry (a template): ESO's engine.
    engine = request.getfixturevalue("eso_engine") if templated(spec) else None

    secret = eso_secret(spec, document, engine)

    assert secret.type == DOCKERCONFIGJSON
    assert set(secret.data) == {DOCKERCONFIGJSON_KEY}
    assert api_server_rejection(secret) is None
    config = json.loads(secret.data[DOCKERCONFIGJSON_KEY])
    assert list(config) == ["auths"]
    assert sorted(config["auths"]) == sorted(HOSTS)
    assert all(set(entry) == {"auth"} for entry in config["auths"].values())
    logins = kubelet_logins(secret)
    by_region: dict[str, set[Login | None]] = {}
    for host in HOSTS:
        login = login_for_image(logins, f"{host}/platform/app:1.0.0")
        by_region.setdefault(host.split(".")[3], set()).add(login)
    # One region's token logs in to every registry of that region; each region has its own.
    assert all(len(region_logins) == 1 for region_logins in by_region.values()), label
    region_logins = [next(iter(logins)) for logins in by_region.values()]
    assert {login.password for login in region_logins} == issued
    assert {login.username for login in region_logins} == {"AWS"}


@pytest.mark.parametrize(
    ("label", "spec"), TEMPLATED_SPECS, ids=[label for label, _ in TEMPLATED_SPECS]
)
def test_migration_template_gives_the_same_login_for_the_first_host(
    label, spec, published, eso_engine
):
    document, _, _ = published
    default = eso_secret(DEFAULT_SPECS[0][1], document, eso_engine)

    secret = eso_secret(spec, document, eso_engine)

    assert secret.type == DOCKERCONFIGJSON
    assert api_server_rejection(secret) is None, label
    config = json.loads(secret.data[DOCKERCONFIGJSON_KEY])
    first = document["registry"]
    # Exactly the default config's entry for `registry`, field for field.
    assert config == {
        "auths": {first: json.loads(default.data[DOCKERCONFIGJSON_KEY])["auths"][first]}
    }
    assert kubelet_logins(secret) == {first: kubelet_logins(default)[first]}


def test_an_outer_b64enc_is_the_double_encoding_the_api_server_rejects(published, eso_engine):
    # What wrapping the whole template in `| b64enc` gives: the JSON, base64-encoded once more
    # (ESO base64-encodes Secret data itself). The API server wants JSON in .dockerconfigjson.
    document, _, _ = published
    _, spec = TEMPLATED_SPECS[0]
    good = eso_secret(spec, document, eso_engine).data[DOCKERCONFIGJSON_KEY]
    double = Secret(DOCKERCONFIGJSON, {DOCKERCONFIGJSON_KEY: base64.b64encode(good)})

    assert api_server_rejection(double) is not None
    assert api_server_rejection(Secret(DOCKERCONFIGJSON, {})) is not None

"""The complete example's cluster-side expiry: the ExternalSecret of 51-credential-expiry.yaml
reads `expires_at` exactly as the pull secret's ExternalSecret reads its key, and its template,
rendered by ESO's real engine (Go text/template with sprig: tests/examples/eso_engine) over the
`expires_at` the real function writes, becomes the PrometheusRule whose recording rule the alert
in 50-prometheus-rule.yaml reads: the expiry in Unix seconds, labelled with the pull secret."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml

from tests.examples.cluster import load_manifests
from tests.examples.eso_engine import TemplateError
from tools.terraform.harness import EXAMPLES

RENDERED = EXAMPLES / "complete" / "manifests" / "rendered"
EXPIRY_METRIC = "ecr_token_rotator_credential_expiry_timestamp_seconds"


def manifest(kind: str, name: str) -> dict:
    [found] = [
        obj
        for _, obj in load_manifests(RENDERED)
        if obj.get("kind") == kind and obj["metadata"]["name"] == name
    ]
    return found


def test_the_expiry_is_read_like_the_pull_secret():
    pull = manifest("ExternalSecret", "ecr-pull-secret")["spec"]
    expiry = manifest("ExternalSecret", "ecr-pull-secret-expiry")
    spec = expiry["spec"]

    assert (
        expiry["metadata"]["namespace"]
        == manifest("ExternalSecret", "ecr-pull-secret")["metadata"]["namespace"]
    )
    assert spec["target"]["manifest"] == {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
    }
    assert spec["secretStoreRef"] == pull["secretStoreRef"]
    assert spec["refreshInterval"] == pull["refreshInterval"]
    [item] = spec["data"]
    assert item in pull["data"]
    assert item["remoteRef"]["property"] == "expires_at"


def test_eso_renders_the_expiry_as_a_recording_rule_in_unix_seconds(harness, eso_engine):
    arn = harness.create_secret("platform/ecr-pull-credential")
    harness.configure(SECRET_ID=arn)
    harness.invoke()
    expires_at = harness.document(arn)["expires_at"]  # what the real function writes
    spec = manifest("ExternalSecret", "ecr-pull-secret-expiry")["spec"]
    [template_from] = spec["target"]["template"]["templateFrom"]
    assert template_from["target"] == "spec"  # ESO parses the output as YAML into .spec

    # The engine renders a literal as it renders a data template: one text/template execution.
    output = eso_engine.render(
        {"data": {"spec": template_from["literal"]}}, {"expires_at": expires_at}
    )
    rendered = output.data["spec"].decode("utf-8")

    [group] = yaml.safe_load(rendered)["groups"]
    [rule] = group["rules"]
    epoch = int(datetime.fromisoformat(expires_at).timestamp())
    pull = manifest("ExternalSecret", "ecr-pull-secret")
    assert rule == {
        "record": EXPIRY_METRIC,
        "expr": f"vector({epoch})",
        "labels": {"namespace": pull["metadata"]["namespace"], "secret": pull["metadata"]["name"]},
    }


def test_the_engine_fails_like_eso_on_a_missing_key(eso_engine):
    with pytest.raises(TemplateError, match="expires_at"):
        eso_engine.render({"data": {"spec": "{{ .expires_at }}"}}, {})

"""The examples' manifests agree with their Terraform and with each other.

Values come from the example's own evaluation (offline_apply: module inputs and outputs for the
example's default variables); the manifests are the committed rendered copies, which the first
test proves are what the templates render.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.examples.cluster import load_manifests
from tests.examples.offline_apply import Example, example_names
from tests.examples.render import stale

EXAMPLES = example_names()
TOKEN_LIFETIME_HOURS = 12
# The longest the credential in the cluster may be old with everything working: refresh period
# (+ rotation window) + ESO's refreshInterval. The rest of the 12 hours is the margin for a
# failed refresh, its retries and the time to react to the staleness alarm.
MAX_WORST_CASE_AGE_HOURS = 8
ESO_METRICS = {
    "externalsecret_sync_calls_total",
    "externalsecret_sync_calls_error",
    "externalsecret_status_condition",
}


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request) -> Example:
    return Example(request.param)


def objects(example: Example, kind: str | None = None) -> list[dict[str, Any]]:
    found = [obj for _, obj in load_manifests(example.path / "manifests" / "rendered")]
    return [obj for obj in found if kind is None or obj.get("kind") == kind]


def output(example: Example, name: str) -> Any:
    return example.scope["module"][example.module_call[0]][name]()


def test_there_are_the_four_examples():
    assert EXAMPLES == ["complete", "eks-irsa", "rotation-multi-region", "static-credentials"]


def test_rendered_copies_are_fresh(example):
    assert stale(example) == [], "run `make manifests` and commit examples/*/manifests/rendered"


def test_module_inputs_pass_the_module_validations_and_preconditions(example):
    assert example.module_errors() == []


def test_eso_objects_use_the_current_api_and_template_engine(example):
    for obj in objects(example):
        if obj["apiVersion"].startswith("external-secrets.io/"):
            assert obj["apiVersion"] == "external-secrets.io/v1", obj["metadata"]["name"]
        spec = obj.get("spec", {})
        spec = spec.get("externalSecretSpec", spec)
        template = spec.get("target", {}).get("template")
        if template is not None:
            assert template["engineVersion"] == "v2"


def test_external_secrets_read_the_module_secret_through_a_store_of_the_example(example):
    stores = {
        (obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace")): obj
        for obj in objects(example)
        if obj["kind"] in ("SecretStore", "ClusterSecretStore")
    }
    namespaces = {obj["metadata"]["name"]: obj for obj in objects(example, "Namespace")}
    secret_regions = {output(example, "region"), *output(example, "secret_replica_arns")}
    assert stores
    for obj in objects(example):
        if obj["kind"] not in ("ExternalSecret", "ClusterExternalSecret"):
            continue
        spec = obj["spec"].get("externalSecretSpec", obj["spec"])
        ref = spec["secretStoreRef"]
        namespace = obj["metadata"].get("namespace")
        store = stores[
            (ref["kind"], ref["name"], namespace if ref["kind"] == "SecretStore" else None)
        ]
        assert store["spec"]["provider"]["aws"]["region"] in secret_regions
        assert {item["remoteRef"]["key"] for item in spec["data"]} == {
            output(example, "secret_name")
        }
        if obj["kind"] == "ExternalSecret":
            labels = namespaces[namespace]["metadata"].get("labels", {})
        else:  # a namespace the ClusterExternalSecret selects
            namespace, labels = "team-a", obj["spec"]["namespaceSelectors"][0]["matchLabels"]
        assert store_admits(store, namespace, labels), (obj["metadata"]["name"], namespace)


def store_admits(store: dict[str, Any], namespace: str, labels: dict[str, str]) -> bool:
    """ESO: a ClusterSecretStore with conditions serves a namespace if any condition matches."""
    conditions = store["spec"].get("conditions")
    if store["kind"] == "SecretStore" or not conditions:
        return True
    return any(
        namespace in condition.get("namespaces", [])
        or ("namespaceSelector" in condition and selects(condition["namespaceSelector"], labels))
        for condition in conditions
    )


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        matched = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def pod_specs(example: Example) -> list[tuple[str, dict[str, Any]]]:
    specs = []
    for obj in objects(example):
        if obj["kind"] == "Pod":
            specs.append((obj["metadata"]["namespace"], obj["spec"]))
        elif obj["kind"] == "Deployment":
            specs.append((obj["metadata"]["namespace"], obj["spec"]["template"]["spec"]))
    return specs


def test_every_workload_pulls_with_the_pull_secret_from_a_covered_registry(example):
    pull_secrets = {
        (obj["metadata"]["namespace"], obj["spec"]["target"]["name"])
        for obj in objects(example, "ExternalSecret")
    }
    service_accounts = {
        (obj["metadata"]["namespace"], obj["metadata"]["name"]): obj
        for obj in objects(example, "ServiceAccount")
    }
    hosts = output(example, "registry_hosts")
    assert pod_specs(example)
    for namespace, spec in pod_specs(example):
        names = [ref["name"] for ref in spec.get("imagePullSecrets", [])]
        if "serviceAccountName" in spec:  # Kubernetes adds the ServiceAccount's to the pod
            account = service_accounts[(namespace, spec["serviceAccountName"])]
            names += [ref["name"] for ref in account.get("imagePullSecrets", [])]
        assert names, f"a pod in {namespace} has no imagePullSecrets"
        assert {(namespace, name) for name in names} <= pull_secrets
        for container in spec["containers"]:
            assert container["image"].split("/", 1)[0] in hosts, container["image"]


def test_the_store_authenticates_as_the_identity_the_module_trusts(example):
    inputs = example.module_inputs
    for store in objects(example):
        if store["kind"] not in ("SecretStore", "ClusterSecretStore"):
            continue
        auth = store["spec"]["provider"]["aws"].get("auth")
        if auth is None:  # default credential chain of the controller: EKS Pod Identity
            assert inputs.get("create_eso_role") is True
            assert inputs.get("eso_pod_identity") or inputs.get("eso_pod_identity_cluster_name")
        elif "jwt" in auth:  # IRSA with the named service account
            ref = auth["jwt"]["serviceAccountRef"]
            assert inputs.get("eso_oidc_provider_arn")
            assert (ref["namespace"], ref["name"]) == (
                inputs["eso_namespace"],
                inputs["eso_service_account"],
            )
            account = next(
                obj
                for obj in objects(example, "ServiceAccount")
                if (obj["metadata"]["namespace"], obj["metadata"]["name"])
                == (ref["namespace"], ref["name"])
            )
            annotation = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            assert annotation == output(example, "eso_role_arn")
        else:  # static keys: an IAM principal of the example holds the module's read policy
            assert set(auth) == {"secretRef"}
            policies = example.hcl.labelled("resource")
            assert any(
                "module.ecr_token_rotator.eso_read_policy_json" in str(body.get("policy"))
                for (kind, _), body in policies.items()
                if kind in ("aws_iam_group_policy", "aws_iam_user_policy", "aws_iam_role_policy")
            )


def go_duration_hours(text: str) -> float:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert text, "empty refreshInterval"
    assert match, text
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours + minutes / 60 + seconds / 3600


def refresh_period_hours(inputs: dict[str, Any]) -> float:
    """The longest gap between two refreshes the module's trigger allows."""
    if inputs.get("trigger_mode") == "rotation":
        expression = inputs.get("rotation_schedule_expression", "rate(6 hours)")
        window = 1  # Secrets Manager starts a rotation anywhere in a window of up to an hour
    else:
        expression = inputs.get("schedule_expression", "rate(6 hours)")
        window = 0
    number, unit = re.fullmatch(r"rate\((\d+) (hours?|minutes)\)", expression).groups()
    return int(number) / (60 if unit == "minutes" else 1) + window


def test_refresh_arithmetic_stays_well_inside_the_token_lifetime(example):
    period = refresh_period_hours(example.module_inputs)
    staleness = example.module_inputs.get("alarms", {}).get("staleness_window_hours", 8)
    intervals = [
        go_duration_hours(spec["refreshInterval"])
        for obj in objects(example)
        if obj["kind"] in ("ExternalSecret", "ClusterExternalSecret")
        for spec in [obj["spec"].get("externalSecretSpec", obj["spec"])]
    ]
    assert intervals
    for interval in intervals:
        assert period + interval <= MAX_WORST_CASE_AGE_HOURS < TOKEN_LIFETIME_HOURS
    assert period < staleness < TOKEN_LIFETIME_HOURS


def test_prometheus_rules_watch_the_pull_secret_with_esos_metrics():
    example = Example("complete")
    rules = objects(example, "PrometheusRule")
    pull_secret = objects(example, "ExternalSecret")[0]["metadata"]["name"]
    assert len(rules) == 1
    assert rules[0]["apiVersion"] == "monitoring.coreos.com/v1"
    alerts = [rule for group in rules[0]["spec"]["groups"] for rule in group["rules"]]
    assert {alert["alert"] for alert in alerts} == {
        "ECRPullSecretNotReady",
        "ECRPullSecretSyncErrors",
        "ECRPullSecretNotSyncing",
    }
    for alert in alerts:
        metrics = set(re.findall(r"\b(externalsecret_[a-z_]+)\{", alert["expr"]))
        assert metrics, alert["alert"]
        assert metrics <= ESO_METRICS, alert["alert"]
        selectors = re.findall(r"externalsecret_[a-z_]+\{([^}]*)\}", alert["expr"])
        assert all(f'name="{pull_secret}"' in selector for selector in selectors)
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"]
        assert alert["annotations"]["description"]
        assert re.fullmatch(r"\d+m", alert["for"])
    not_ready = next(alert for alert in alerts if alert["alert"] == "ECRPullSecretNotReady")
    # status="False" is 1 exactly when not ready, in ESO releases with one series or two.
    assert 'condition="Ready"' in not_ready["expr"]
    assert 'status="False"' in not_ready["expr"]
    assert not_ready["expr"].endswith("== 1")

"""The examples' manifests agree with what Terraform created and with each other.

Each example is applied by Terraform, offline (tests/examples/conftest.py, provider 6.x): the
manifests are the ones its `local_file`s wrote, the values come from its state (the module's
resources: the secret, the roles and their trust policies, the schedule, the alarm; of every
instance, where an example calls the module with for_each). Skipped where terraform or ../shared
is absent.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tools.terraform.harness import AppliedExample, example_names

EXAMPLES = example_names()
TOKEN_LIFETIME_HOURS = 12
# The longest the credential in the cluster may be old with everything working: refresh period
# (+ rotation window) + ESO's refreshInterval. The rest of the 12 hours is the margin for a
# failed refresh, its retries and the time to react to the expiry alarm.
MAX_WORST_CASE_AGE_HOURS = 8
ESO_METRICS = {
    "externalsecret_sync_calls_total",
    "externalsecret_sync_calls_error",
    "externalsecret_status_condition",
}
# Recorded by the PrometheusRule that complete's 51-credential-expiry.yaml has ESO write.
EXPIRY_METRIC = "ecr_token_rotator_credential_expiry_timestamp_seconds"
METRIC = re.compile(r"\b((?:externalsecret|ecr_token_rotator)_[a-z_]+)\{")


@pytest.fixture(params=EXAMPLES)
def example(request, applied) -> AppliedExample:
    return applied(request.param, 6)


def objects(example: AppliedExample, kind: str | None = None) -> list[dict[str, Any]]:
    found = [
        document
        for _, text in sorted(example.generated.items())
        for document in yaml.safe_load_all(text)
        if document is not None
    ]
    return [obj for obj in found if kind is None or obj.get("kind") == kind]


def one(example: AppliedExample, address: str) -> dict[str, Any]:
    """The state values of the module's (or the example's) one resource at this address."""
    (values,) = example.resources(address)
    return values


def module_secrets(example: AppliedExample) -> list[dict[str, Any]]:
    """The secret of each module instance (one, unless the example calls it with for_each)."""
    secrets = example.resources("module.ecr_token_rotator.aws_secretsmanager_secret.this")
    assert secrets
    return secrets


def secret_regions(example: AppliedExample) -> set[str]:
    return {
        region
        for secret in module_secrets(example)
        for region in (secret["arn"].split(":")[3], *(r["region"] for r in secret["replica"]))
    }


def trust(example: AppliedExample) -> list[dict[str, Any]]:
    role = one(example, "module.ecr_token_rotator.aws_iam_role.eso")
    return json.loads(role["assume_role_policy"])["Statement"]


def test_there_are_the_eight_examples():
    assert EXAMPLES == [
        "complete",
        "cross-account-reader",
        "eks-irsa",
        "gitops",
        "ipv6-dualstack",
        "per-team-isolation",
        "rotation-multi-region",
        "static-credentials",
    ]


def cross_account_readers(example: AppliedExample) -> set[str]:
    """The principals the secret's resource policy lets read it (readers in other accounts)."""
    policies = example.resources("module.ecr_token_rotator.aws_secretsmanager_secret_policy.this")
    return {
        principal
        for policy in policies
        for statement in json.loads(policy["policy"])["Statement"]
        for principal in _as_list(statement["Principal"]["AWS"])
    }


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def store_role(example: AppliedExample, store: dict[str, Any]) -> str | None:
    """The IAM role a SecretStore authenticates as, where it names one: the role annotated on
    its IRSA service account, or (no `auth`) the module's ESO role through EKS Pod Identity."""
    auth = store["spec"]["provider"]["aws"].get("auth")
    if auth is None:
        return one(example, "module.ecr_token_rotator.aws_iam_role.eso")["arn"]
    if "jwt" not in auth:
        return None
    ref = auth["jwt"]["serviceAccountRef"]
    (account,) = [
        obj
        for obj in objects(example, "ServiceAccount")
        if (obj["metadata"]["namespace"], obj["metadata"]["name"])
        == (service_account_namespace(store), ref["name"])
    ]
    return str(account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])


def service_account_namespace(store: dict[str, Any]) -> str:
    """Where ESO looks for a store's jwt service account: a namespaced SecretStore's own
    namespace (the CRD: the reference's namespace is ignored there), the named one for a
    ClusterSecretStore."""
    ref = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
    if store["kind"] == "SecretStore":
        return str(store["metadata"]["namespace"])
    return str(ref["namespace"])


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
    secrets = module_secrets(example)
    # A reader in another account finds the secret by its ARN only (a name is looked up in the
    # caller's own account); readers in the module's account may use either.
    cross_account = {store_role(example, store) for store in stores.values()} & (
        cross_account_readers(example)
    )
    keys = {secret["arn"] for secret in secrets}
    if not cross_account:
        keys |= {secret["name"] for secret in secrets}
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
        assert store["spec"]["provider"]["aws"]["region"] in secret_regions(example)
        assert {item["remoteRef"]["key"] for item in spec["data"]} <= keys
        if obj["kind"] == "ExternalSecret":
            # A namespace the example does not create (Argo CD's) exists beforehand, unlabelled.
            labels = namespaces.get(namespace, {}).get("metadata", {}).get("labels", {})
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


def pod_specs(example: AppliedExample) -> list[tuple[str, dict[str, Any]]]:
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
    hosts = example.outputs["registry_hosts"]
    # An example without pods installs a chart whose pods are the chart's (tests/examples/
    # test_gitops.py checks they are given the pull secret).
    assert pod_specs(example) or objects(example, "HelmRelease")
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
    read_policies = {
        values["json"]
        for values in example.resources(
            "module.ecr_token_rotator.data.aws_iam_policy_document.eso_read"
        )
    }
    for store in objects(example):
        if store["kind"] not in ("SecretStore", "ClusterSecretStore"):
            continue
        auth = store["spec"]["provider"]["aws"].get("auth")
        if auth is None:  # default credential chain of the controller: EKS Pod Identity
            (statement,) = [s for s in trust(example) if s["Sid"] == "EsoPodIdentity"]
            assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
            assert example.of_type("aws_eks_pod_identity_association")  # module's or example's
        elif "jwt" in auth:  # IRSA: the role annotated on the named service account
            namespace = service_account_namespace(store)
            name = auth["jwt"]["serviceAccountRef"]["name"]
            arn = store_role(example, store)
            (role,) = [values for values in example.of_type("aws_iam_role") if values["arn"] == arn]
            subjects = [
                value
                for statement in json.loads(role["assume_role_policy"])["Statement"]
                if "sts:AssumeRoleWithWebIdentity" in _as_list(statement["Action"])
                for variable, value in statement["Condition"]["StringEquals"].items()
                if variable.endswith(":sub")
            ]
            assert subjects == [f"system:serviceaccount:{namespace}:{name}"]
            # The module's ESO role, or a reader's own role holding the same read policy that
            # the secret's resource policy admits (a reader in another account).
            policies = [
                values["policy"]
                for values in example.of_type("aws_iam_role_policy")
                if values["role"] == role["name"]
            ]
            assert read_policies & set(policies)
            eso_roles = example.resources("module.ecr_token_rotator.aws_iam_role.eso")
            assert arn in [r["arn"] for r in eso_roles] or arn in cross_account_readers(example)
        else:  # static keys: an IAM principal of the example holds the module's read policy
            assert set(auth) == {"secretRef"}
            policies = [
                values["policy"]
                for kind in ("aws_iam_group_policy", "aws_iam_user_policy", "aws_iam_role_policy")
                for values in example.of_type(kind)
            ]
            assert read_policies & set(policies)


def go_duration_hours(text: str) -> float:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    assert text, "empty refreshInterval"
    assert match, text
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours + minutes / 60 + seconds / 3600


def refresh_period_hours(example: AppliedExample) -> float:
    """The longest gap between two refreshes of the trigger the module created."""
    rotations = example.resources(
        "module.ecr_token_rotator.aws_secretsmanager_secret_rotation.this"
    )
    if rotations:
        expressions = [
            rotation["rotation_rules"][0]["schedule_expression"] for rotation in rotations
        ]
        window = 1  # Secrets Manager starts a rotation anywhere in a window of up to an hour
    else:
        # Either schedule engine: an EventBridge Scheduler schedule (flexible window off, so it
        # runs at the scheduled time) or an EventBridge rule.
        schedules = example.resources("module.ecr_token_rotator.aws_scheduler_schedule.this")
        assert all(s["flexible_time_window"][0]["mode"] == "OFF" for s in schedules)
        rules = example.resources("module.ecr_token_rotator.aws_cloudwatch_event_rule.this")
        expressions = [trigger["schedule_expression"] for trigger in [*schedules, *rules]]
        window = 0
    assert expressions
    hours = []
    for expression in expressions:
        number, unit = re.fullmatch(r"rate\((\d+) (hours?|minutes)\)", expression).groups()
        hours.append(int(number) / (60 if unit == "minutes" else 1))
    return max(hours) + window


def test_refresh_arithmetic_stays_well_inside_the_token_lifetime(example):
    period = refresh_period_hours(example)
    # one alarm per module instance (per-team-isolation calls the module with for_each)
    alarms = example.resources("module.ecr_token_rotator.aws_cloudwatch_metric_alarm.expiry")
    assert alarms
    intervals = [
        go_duration_hours(spec["refreshInterval"])
        for obj in objects(example)
        if obj["kind"] in ("ExternalSecret", "ClusterExternalSecret")
        for spec in [obj["spec"].get("externalSecretSpec", obj["spec"])]
    ]
    assert intervals
    for interval in intervals:
        assert period + interval <= MAX_WORST_CASE_AGE_HOURS < TOKEN_LIFETIME_HOURS
    # the window holds a run; a run finding less than the threshold left alarms; a fresh one not
    for alarm in alarms:
        window = alarm["period"] * alarm["evaluation_periods"] / 3600
        threshold = alarm["threshold"] / 3600
        assert period < window < threshold < TOKEN_LIFETIME_HOURS


def test_prometheus_rules_watch_the_pull_secret_with_esos_metrics(applied):
    example = applied("complete", 6)
    rules = objects(example, "PrometheusRule")
    pull_secret = objects(example, "ExternalSecret")[0]["metadata"]["name"]
    assert len(rules) == 1
    assert rules[0]["apiVersion"] == "monitoring.coreos.com/v1"
    alerts = [rule for group in rules[0]["spec"]["groups"] for rule in group["rules"]]
    assert {alert["alert"] for alert in alerts} == {
        "ECRPullCredentialExpiresSoon",
        "ECRPullCredentialExpiryUnknown",
        "ECRPullSecretNotReady",
        "ECRPullSecretSyncErrors",
        "ECRPullSecretNotSyncing",
    }
    for alert in alerts:
        metrics = set(re.findall(METRIC, alert["expr"]))
        assert metrics, alert["alert"]
        assert metrics <= {*ESO_METRICS, EXPIRY_METRIC}, alert["alert"]
        selectors = re.findall(r"externalsecret_[a-z_]+\{([^}]*)\}", alert["expr"])
        assert all(f'name="{pull_secret}"' in selector for selector in selectors)
        selectors = re.findall(rf"{EXPIRY_METRIC}\{{([^}}]*)\}}", alert["expr"])
        assert all(f'secret="{pull_secret}"' in selector for selector in selectors)
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"]
        assert alert["annotations"]["description"]
        assert re.fullmatch(r"\d+m", alert["for"])
    not_ready = next(alert for alert in alerts if alert["alert"] == "ECRPullSecretNotReady")
    # status="False" is 1 exactly when not ready, in ESO releases with one series or two.
    assert 'condition="Ready"' in not_ready["expr"]
    assert 'status="False"' in not_ready["expr"]
    assert not_ready["expr"].endswith("== 1")

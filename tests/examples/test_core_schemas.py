"""The examples' core objects (Namespace, ServiceAccount, Deployment, Pod, ...) against Kubernetes'
own schemas (tests/examples/kubernetes_schemas.py); custom resources are checked against their
CRDs by `make validate-examples`. The committed rendered copies are checked (test_manifests holds
them to what Terraform writes)."""

from __future__ import annotations

import copy

import pytest

from tests.examples.cluster import load_manifests
from tests.examples.kubernetes_schemas import core_schema_errors, is_core
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR
from tools.terraform.harness import example_names

CORE_OBJECTS = [
    (f"{name}/{path.relative_to(EXAMPLES_DIR / name / 'manifests' / 'rendered')}", obj)
    for name in example_names()
    for path, obj in load_manifests(EXAMPLES_DIR / name / "manifests" / "rendered")
    if is_core(obj)
]


@pytest.mark.parametrize(("where", "obj"), CORE_OBJECTS, ids=[where for where, _ in CORE_OBJECTS])
def test_core_objects_are_valid_for_the_api_server(where, obj):
    assert core_schema_errors(obj) == [], where


def test_the_core_objects_include_workloads():
    kinds = {obj["kind"] for _, obj in CORE_OBJECTS}
    assert {"Namespace", "ServiceAccount", "Deployment", "Pod"} <= kinds


def test_the_schema_refuses_what_the_api_server_refuses():
    deployment = next(
        obj
        for _, obj in CORE_OBJECTS
        if obj["kind"] == "Deployment" and "imagePullSecrets" in obj["spec"]["template"]["spec"]
    )
    misspelled = copy.deepcopy(deployment)
    spec = misspelled["spec"]["template"]["spec"]
    spec["imagePullSecret"] = spec.pop("imagePullSecrets")  # pruned silently without strict
    assert core_schema_errors(misspelled)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "one"
    assert core_schema_errors(wrong_type)

"""Kubernetes' own schemas for core objects (Secret, Namespace, ServiceAccount, Deployment, Pod),
which no CRD covers: PyPI's `kubernetes-validate` carries the OpenAPI schemas of each Kubernetes
release. Strict: a field the schema does not know is an error (the API server prunes it or, with
kubectl's default field validation, refuses the object). Where the package is absent, the calling
test skips with the reason."""

from __future__ import annotations

from typing import Any

import pytest

# The objects no CRD defines: every other kind is checked against its CRD by
# ../shared/tools/validate_eso_manifests.py (make validate-examples).
CORE_API_VERSIONS = ("v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1")


def is_core(obj: dict[str, Any]) -> bool:
    return obj.get("apiVersion") in CORE_API_VERSIONS


def core_schema_errors(obj: dict[str, Any]) -> list[str]:
    """Why the API server's schema of the newest Kubernetes release the package knows refuses
    `obj` (empty when it accepts it)."""
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate is not installed (pip install -r requirements-dev.txt)",
    )
    try:
        kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
    except kubernetes_validate.ValidationError as e:
        where = ".".join(str(part) for part in e.path)
        return [f"{obj['kind']} {obj['metadata'].get('name')}: {where}: {e.message}"]
    return []

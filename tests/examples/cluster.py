"""What the cluster does with the examples' manifests, for the parts the pull secret depends on.

- `eso_secret`: the Secret ESO writes for an ExternalSecret spec and the secret document it reads
  from Secrets Manager (data[].remoteRef.property looked up in the JSON document; the target
  template's type; template data, labels and annotations rendered by ESO's engine v2 itself (Go
  text/template with sprig, tests/examples/eso_engine), merge policy Replace or Merge; without
  template data the fetched data is the Secret's data);
- `api_server_rejection`: the API server's validation of a kubernetes.io/dockerconfigjson Secret
  (the .dockerconfigjson key must exist and hold a JSON object);
- `kubelet_logins`: how the kubelet reads that Secret: `auths`, each entry's `auth` decoded from
  base64 and split on the first colon into username and password (it takes precedence over the
  entry's username/password fields); `login_for_image` picks the entry whose host is the image's.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.examples.eso_engine import Engine

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"


def load_manifests(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every object of every *.yaml under `directory`: (file, object)."""
    objects = []
    for path in sorted(directory.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                objects.append((path, document))
    return objects


@dataclass(frozen=True)
class Secret:
    type: str | None
    data: dict[str, bytes]
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def eso_secret(
    spec: Mapping[str, Any], document: Mapping[str, Any], engine: Engine | None = None
) -> Secret:
    """The Secret ESO writes for an ExternalSecret `spec` from the secret's JSON `document`
    (ESO's ApplyTemplate: the template's type; the fetched data kept when there is no data
    template or mergePolicy is Merge; data templates, then label and annotation templates,
    rendered by `engine`, ESO's engine v2)."""
    if spec.get("dataFrom"):
        raise NotImplementedError("dataFrom is not used by the examples")
    fetched: dict[str, bytes] = {}
    for item in spec.get("data", []):
        ref = item["remoteRef"]
        value = document[ref["property"]]  # ESO reads a top-level property of the JSON value
        if not isinstance(value, str):
            raise TypeError(f"{ref['property']} is not a string in the document")
        fetched[item["secretKey"]] = value.encode("utf-8")
    template = spec.get("target", {}).get("template")
    if template is None:
        return Secret(type=None, data=fetched)
    if template.get("engineVersion", "v2") != "v2" or template.get("templateFrom"):
        raise NotImplementedError("the examples use engine v2 and no templateFrom")
    metadata = template.get("metadata") or {}
    templates = {
        "data": template.get("data") or {},
        "labels": metadata.get("labels") or {},
        "annotations": metadata.get("annotations") or {},
    }
    kept = fetched if template.get("mergePolicy") == "Merge" or not templates["data"] else {}
    if not any(templates.values()):
        return Secret(type=template.get("type"), data=kept)
    if engine is None:
        raise TypeError("this ExternalSecret has templates: pass ESO's engine (eso_engine)")
    values = {key: value.decode("utf-8") for key, value in fetched.items()}
    rendered = engine.render(templates, values)
    return Secret(
        type=template.get("type"),
        data={**kept, **rendered.data},
        labels=rendered.labels,
        annotations=rendered.annotations,
    )


def api_server_rejection(secret: Secret) -> str | None:
    """Why the API server refuses this Secret, or None when it accepts it."""
    if secret.type != DOCKERCONFIGJSON:
        return None
    if DOCKERCONFIGJSON_KEY not in secret.data:
        return f"data[{DOCKERCONFIGJSON_KEY}]: Required value"
    try:
        parsed = json.loads(secret.data[DOCKERCONFIGJSON_KEY])
    except ValueError as e:
        return f"data[{DOCKERCONFIGJSON_KEY}]: Invalid value: {e}"
    if not isinstance(parsed, dict):
        return f"data[{DOCKERCONFIGJSON_KEY}]: Invalid value: not a JSON object"
    return None


@dataclass(frozen=True)
class Login:
    username: str
    password: str


def kubelet_logins(secret: Secret) -> dict[str, Login]:
    """Registry host -> the login the kubelet uses for it."""
    config = json.loads(secret.data[DOCKERCONFIGJSON_KEY])
    logins = {}
    for host, entry in config["auths"].items():
        username, password = entry.get("username", ""), entry.get("password", "")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as e:
                raise ValueError(f"{host}: auth is not base64 of user:password") from e
            username, colon, password = decoded.partition(":")
            if not colon:
                raise ValueError(f"{host}: auth does not decode to user:password")
        logins[host.removeprefix("https://").rstrip("/")] = Login(username, password)
    return logins


def login_for_image(logins: Mapping[str, Login], image: str) -> Login | None:
    return logins.get(image.split("/", 1)[0])

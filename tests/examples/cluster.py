"""What the cluster does with the examples' manifests, for the parts the pull secret depends on.

- `eso_secret`: the Secret ESO writes for an ExternalSecret spec and the secret document it reads
  from Secrets Manager (data[].remoteRef.property looked up in the JSON document; the target
  template's type; template data rendered with engine v2, merge policy Replace or Merge; without
  template data the fetched data is the Secret's data; the template's metadata.annotations
  rendered with engine v2 over the fetched data, as ESO's ApplyTemplate does);
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

from tests.examples import gotemplate

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
    annotations: dict[str, str] = field(default_factory=dict)


def eso_secret(spec: Mapping[str, Any], document: Mapping[str, Any]) -> Secret:
    """The Secret ESO writes for an ExternalSecret `spec` from the secret's JSON `document`."""
    if spec.get("dataFrom"):
        raise NotImplementedError("dataFrom is not used by the examples")
    if spec.get("target", {}).get("manifest"):
        raise NotImplementedError("a generic target writes another kind than Secret")
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
        raise NotImplementedError("the examples' pull secrets use engine v2 and no templateFrom")
    values = {key: value.decode("utf-8") for key, value in fetched.items()}
    annotations = {
        key: gotemplate.render(text, values)
        for key, text in (template.get("metadata", {}).get("annotations") or {}).items()
    }
    template_data = template.get("data") or {}
    if not template_data:  # ESO: no template data -> the fetched data as is
        return Secret(type=template.get("type"), data=fetched, annotations=annotations)
    rendered = {
        key: gotemplate.render(text, values).encode("utf-8") for key, text in template_data.items()
    }
    merged = {**fetched, **rendered} if template.get("mergePolicy") == "Merge" else rendered
    return Secret(type=template.get("type"), data=merged, annotations=annotations)


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

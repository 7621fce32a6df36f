"""The secret document (pure: no AWS calls).

The secret holds a JSON object. The function owns five keys and keeps every other key exactly as
it was, so teams can store their own fields beside the credential:

- `registry`, `username`, `password`: the first registry host of the first region and its login,
  the layout existing ExternalSecret templates already use;
- `expires_at`: RFC 3339 UTC time of the earliest token expiry;
- `dockerconfigjson`: a string holding `{"auths": {host: {username, password, auth}}}` for every
  host, which ESO can copy as-is into a `kubernetes.io/dockerconfigjson` Secret.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .credentials import RegistryCredential, format_timestamp
from .errors import SecretError

OWNED_KEYS = ("registry", "username", "password", "expires_at", "dockerconfigjson")


@dataclass(frozen=True)
class RegistryEntry:
    """One docker config host and the region credential that logs in to it."""

    host: str
    credential: RegistryCredential


def registry_entries(
    credentials: Sequence[RegistryCredential], registry_ids: Sequence[str]
) -> list[RegistryEntry]:
    """Every (region x registry) host, regions outer: a region's token serves all its registries.

    Without explicit registry IDs each region lists its own registry (the token's account).
    """
    return [
        RegistryEntry(host=credential.host_for(registry_id), credential=credential)
        for credential in credentials
        for registry_id in (registry_ids or (credential.registry_id,))
    ]


def docker_auth(username: str, password: str) -> str:
    """The docker config `auth` field: base64 of `username:password`."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def render_dockerconfigjson(entries: Sequence[RegistryEntry]) -> str:
    auths = {
        entry.host: {
            "username": entry.credential.username,
            "password": entry.credential.password,
            "auth": docker_auth(entry.credential.username, entry.credential.password),
        }
        for entry in entries
    }
    return json.dumps({"auths": auths}, separators=(",", ":"))


def build_document(existing: Mapping[str, Any], entries: Sequence[RegistryEntry]) -> dict[str, Any]:
    """The new document: the existing one with the owned keys replaced (key order kept)."""
    if not entries:
        raise ValueError("at least one registry entry is required")
    first = entries[0].credential
    document = dict(existing)
    document.update(
        registry=entries[0].host,
        username=first.username,
        password=first.password,
        expires_at=format_timestamp(min(entry.credential.expires_at for entry in entries)),
        dockerconfigjson=render_dockerconfigjson(entries),
    )
    return document


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_document(secret_string: str, where: str) -> dict[str, Any]:
    """Parse a stored value into a JSON object; `where` names secret and version in errors."""
    try:
        value = json.loads(secret_string, parse_constant=_reject_constant)
    except ValueError as e:  # JSONDecodeError is a ValueError; its text holds no input
        raise SecretError(
            f"{where} is not valid JSON ({e}); fix or replace the value, the function only "
            "updates a JSON object"
        ) from e
    if not isinstance(value, dict):
        raise SecretError(
            f"{where} is JSON but not an object (it is a {type(value).__name__}); "
            "the function only updates a JSON object"
        )
    return value


def serialize_document(document: Mapping[str, Any]) -> str:
    return json.dumps(document, allow_nan=False)


@dataclass(frozen=True)
class PublishedCredential:
    """What a stored document offers kubelet: hosts with their `auth`, and the expiry."""

    auths: dict[str, str]  # host -> base64(username:password)
    expires_at: datetime


def read_published_credential(document: Mapping[str, Any], where: str) -> PublishedCredential:
    """Check a stored document is complete and consistent, as kubelet and ESO will read it."""
    missing = [key for key in OWNED_KEYS if not isinstance(document.get(key), str)]
    if missing:
        raise SecretError(f"{where} lacks string field(s) {', '.join(missing)}")
    try:
        expires_at = datetime.fromisoformat(document["expires_at"])
        auths_raw = json.loads(document["dockerconfigjson"])["auths"]
        auths = {host: entry["auth"] for host, entry in auths_raw.items()}
        for host, entry in auths_raw.items():
            decoded = base64.b64decode(entry["auth"], validate=True).decode()
            if decoded != f"{entry['username']}:{entry['password']}":
                raise SecretError(f"{where}: the auth of {host} does not match its login")
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # binascii.Error: ValueError
        raise SecretError(
            f"{where} has a malformed expires_at or dockerconfigjson ({type(e).__name__})"
        ) from e
    if expires_at.tzinfo is None:
        raise SecretError(f"{where}: expires_at has no timezone")
    if document["registry"] not in auths:
        raise SecretError(f"{where}: registry {document['registry']} is not in dockerconfigjson")
    return PublishedCredential(auths=auths, expires_at=expires_at)

"""The secret document (pure: no AWS calls).

The secret holds a JSON object. The function owns five keys and keeps every other key exactly as
it was, so teams can store their own fields beside the credential:

- `registry`, `username`, `password`: the first registry host of the first region and its login,
  the layout existing ExternalSecret templates already use;
- `expires_at`: RFC 3339 UTC time of the earliest token expiry;
- `dockerconfigjson`: a string holding `{"auths": {host: {"auth": ...}}}` for every host, which ESO
  can copy as-is into a `kubernetes.io/dockerconfigjson` Secret. The hosts are every (region x
  registry account x endpoint type), each with its region's token, then ECR Public's hosts with
  ECR Public's token (endpoints.py).

Each host entry holds `auth` (base64 of `username:password`) only: kubelet's DockerConfigEntry,
containerd's ParseAuth and `docker login` all read the login from it, and a password repeated
beside it would nearly double every entry. That keeps the value under Secrets Manager's limit of
65,536 characters: real ECR passwords are 2,700-3,200+ characters, and 12 hosts with
3,600-character passwords still fit (MAX_REGISTRY_HOSTS, the bound the module documents and
validates; config.py checks it before anything is fetched). The size of every new value is checked
before it is written.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from .credentials import RegistryCredential, format_timestamp
from .endpoints import HostPlan
from .errors import SecretTooLargeError, UnusableValueError

OWNED_KEYS = ("registry", "username", "password", "expires_at", "dockerconfigjson")
# Secrets Manager's limit for SecretString. The function writes ASCII only (json.dumps escapes the
# rest), so characters and bytes are the same count.
MAX_SECRET_STRING_CHARACTERS = 65_536
# Registry hosts (regions x registry accounts x endpoint types, plus ECR Public's) the module
# allows: 12 hosts with passwords of 3,600 characters (real ones are 2,700-3,200+) and their `auth`
# fit in one value, with room left for other keys.
MAX_REGISTRY_HOSTS = 12


class RegistryEntry(NamedTuple):
    """One docker config host and the region credential that logs in to it."""

    host: str
    credential: RegistryCredential


def registry_entries(
    credentials: Sequence[RegistryCredential], registry_ids: Sequence[str], hosts: HostPlan
) -> list[RegistryEntry]:
    """Every (region x registry x endpoint type) host, regions outer: a region's token serves all
    its registries on every endpoint; ECR Public's token serves ECR Public's hosts.

    Without explicit registry IDs each region lists its own registry (the token's account).
    """
    entries: list[RegistryEntry] = []
    for credential in credentials:
        if credential.registry_id is None:
            entries += [RegistryEntry(host, credential) for host in hosts.public_hosts]
            continue
        for registry_id in registry_ids or (credential.registry_id,):
            entries += [
                RegistryEntry(host, credential)
                for host in hosts.private_hosts(credential.region, registry_id)
            ]
    return entries


def docker_auth(username: str, password: str) -> str:
    """The docker config `auth` field: base64 of `username:password`."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class Credential(NamedTuple):
    """The function's five keys for one set of registry logins, and what they mean.

    `keys` holds the values of OWNED_KEYS, `auths` each host's `auth`: secret material, so neither
    appears in repr or str.
    """

    keys: Mapping[str, str]
    auths: Mapping[str, str]  # host -> base64(username:password)
    expires_at: datetime

    @property
    def registry_hosts(self) -> tuple[str, ...]:
        return tuple(self.auths)

    def __repr__(self) -> str:
        return f"Credential(registry_hosts={self.registry_hosts!r}, expires_at={self.expires_at!r})"


def credential_from_entries(entries: Sequence[RegistryEntry]) -> Credential:
    if not entries:
        raise ValueError("at least one registry entry is required")
    auths = {
        entry.host: docker_auth(entry.credential.username, entry.credential.password)
        for entry in entries
    }
    first = entries[0].credential
    expires_at = min(entry.credential.expires_at for entry in entries)
    keys = {
        "registry": entries[0].host,
        "username": first.username,
        "password": first.password,
        "expires_at": format_timestamp(expires_at),
        "dockerconfigjson": json.dumps(
            {"auths": {host: {"auth": auth} for host, auth in auths.items()}},
            separators=(",", ":"),
        ),
    }
    return Credential(keys=keys, auths=auths, expires_at=expires_at)


def merge_document(existing: Mapping[str, Any], credential: Credential) -> dict[str, Any]:
    """`existing` with the owned keys replaced by the credential's (key order kept)."""
    document = dict(existing)
    document.update(credential.keys)
    return document


def foreign_keys(document: Mapping[str, Any]) -> dict[str, Any]:
    """The keys other tools keep in the secret."""
    return {key: value for key, value in document.items() if key not in OWNED_KEYS}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_document(secret_string: str, where: str) -> dict[str, Any]:
    """Parse a stored value into a JSON object; `where` names secret and version in errors."""
    try:
        value = json.loads(secret_string, parse_constant=_reject_constant)
    except ValueError as e:  # JSONDecodeError is a ValueError; its text holds no input
        raise UnusableValueError(
            f"{where} is not valid JSON ({e}); fix or replace the value, the function only "
            "updates a JSON object"
        ) from e
    if not isinstance(value, dict):
        raise UnusableValueError(
            f"{where} is JSON but not an object (it is a {type(value).__name__}); "
            "the function only updates a JSON object"
        )
    return value


def serialize_document(document: Mapping[str, Any]) -> str:
    return json.dumps(document, allow_nan=False)


def check_size(serialized: str, credential: Credential, secret: str) -> None:
    """Refuse a value Secrets Manager would refuse, before anything is written."""
    if len(serialized) <= MAX_SECRET_STRING_CHARACTERS:
        return
    hosts = len(credential.auths)
    owned = len(serialize_document(credential.keys))
    raise SecretTooLargeError(
        f"the new value of {secret} would be {len(serialized):,} characters, over Secrets "
        f"Manager's limit of {MAX_SECRET_STRING_CHARACTERS:,} for a secret value, so nothing was "
        f"written: it holds {hosts} registry host(s) (regions x registry accounts x endpoint "
        f"types, plus ECR Public's; the module supports at most {MAX_REGISTRY_HOSTS}) in {owned:,} "
        "characters, and other keys take the rest. Use fewer regions, registry accounts or "
        "endpoint types (or a second secret), or move other keys out of this secret"
    )


def _login(auth: object, where: str, host: str) -> tuple[str, str]:
    if not isinstance(auth, str):
        raise UnusableValueError(f"{where}: the entry of {host} in dockerconfigjson has no auth")
    try:
        decoded = base64.b64decode(auth, validate=True).decode("utf-8")
    except ValueError as e:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise UnusableValueError(
            f"{where}: the auth of {host} is not base64 of user:password"
        ) from e
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password:
        raise UnusableValueError(f"{where}: the auth of {host} does not decode to user:password")
    return username, password


def read_credential(document: Mapping[str, Any], where: str) -> Credential:
    """Check a document's owned keys as kubelet and ESO will read them, and return them."""
    missing = [key for key in OWNED_KEYS if not isinstance(document.get(key), str)]
    if missing:
        raise UnusableValueError(f"{where} lacks string field(s) {', '.join(missing)}")
    keys = {key: str(document[key]) for key in OWNED_KEYS}
    try:
        expires_at = datetime.fromisoformat(keys["expires_at"])
        entries = json.loads(keys["dockerconfigjson"])["auths"]
    except (ValueError, KeyError, TypeError) as e:
        raise UnusableValueError(
            f"{where} has a malformed expires_at or dockerconfigjson ({type(e).__name__})"
        ) from e
    if not isinstance(entries, dict) or not entries:
        raise UnusableValueError(f"{where}: dockerconfigjson has no auths")
    if expires_at.tzinfo is None:
        raise UnusableValueError(f"{where}: expires_at has no timezone")
    auths: dict[str, str] = {}
    for host, entry in entries.items():
        if not isinstance(entry, dict):
            raise UnusableValueError(
                f"{where}: the entry of {host} in dockerconfigjson is not an object"
            )
        login = _login(entry.get("auth"), where, host)
        # Documents of older versions also hold username and password per host: they must agree.
        if ("username" in entry or "password" in entry) and (
            entry.get("username"),
            entry.get("password"),
        ) != login:
            raise UnusableValueError(f"{where}: the auth of {host} does not match its login")
        auths[host] = str(entry["auth"])
    if keys["registry"] not in auths:
        raise UnusableValueError(f"{where}: registry {keys['registry']} is not in dockerconfigjson")
    if (keys["username"], keys["password"]) != _login(auths[keys["registry"]], where, "registry"):
        raise UnusableValueError(
            f"{where}: username and password are not the login of its registry"
        )
    return Credential(keys=keys, auths=auths, expires_at=expires_at)

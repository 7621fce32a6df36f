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

Every other member is written back exactly as it was read, byte for byte: a `Document` keeps each
member's JSON text as stored (`parse_document` walks the top-level object with the standard
library's own decoder), so another tool's non-ASCII text is not inflated into `\\uXXXX` escapes,
its numbers keep their spelling and its spacing inside a value stays as it was.

Each host entry holds `auth` (base64 of `username:password`) only: kubelet's DockerConfigEntry,
containerd's ParseAuth and `docker login` all read the login from it, and a password repeated
beside it would nearly double every entry. That keeps the value under Secrets Manager's limit of
65,536 bytes: real ECR passwords are 2,700-3,200+ characters, and 12 hosts with 3,600-character
passwords still fit (MAX_REGISTRY_HOSTS, the bound the module documents and validates; config.py
checks it before anything is fetched). The size of every new value is checked, in UTF-8 bytes as
Secrets Manager counts it, before it is written; a value that would not fit is refused naming what
takes the room.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from .credentials import RegistryCredential, format_timestamp
from .endpoints import HostPlan
from .errors import SecretTooLargeError, UnusableValueError

OWNED_KEYS = ("registry", "username", "password", "expires_at", "dockerconfigjson")
# Secrets Manager's limit for a secret value: "Length of a secret: 65,536 bytes" (its quotas), the
# SecretString's UTF-8 encoding. The function's own keys are ASCII; other tools' members are kept
# as they were written, non-ASCII text included, so the limit is checked in bytes.
MAX_SECRET_VALUE_BYTES = 65_536
# The largest other keys a size error names, with their sizes, each name cut to this length.
LARGEST_KEYS_NAMED = 3
KEY_NAME_SHOWN = 60
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


class Document(NamedTuple):
    """A secret's JSON object: each member's value, and its text exactly as stored.

    `texts` maps each key to its member (`"key": value`) as written, in the stored order, so a
    merge writes other tools' members back byte for byte. Values hold secret material: neither
    appears in repr or str.
    """

    values: dict[str, Any]
    texts: dict[str, str]

    def __repr__(self) -> str:
        return f"Document(keys={list(self.values)!r})"


EMPTY_DOCUMENT = Document({}, {})
# json.dumps of a str (ensure_ascii, as json.dumps's default), without its per-call set-up.
_encode_string = json.encoder.encode_basestring_ascii


def _member_text(key: str, value: object) -> str:
    if isinstance(value, str):  # the owned keys' values: what json.dumps does with a str
        return f"{_encode_string(key)}: {_encode_string(value)}"
    return f"{json.dumps(key)}: {json.dumps(value)}"


def merge_document(existing: Document, credential: Credential) -> Document:
    """`existing` with the owned keys replaced by the credential's (key order kept; every other
    member kept as it was written)."""
    values = dict(existing.values)
    texts = dict(existing.texts)
    for key, value in credential.keys.items():
        values[key] = value
        texts[key] = _member_text(key, value)
    return Document(values, texts)


def foreign_keys(document: Document) -> dict[str, Any]:
    """The keys other tools keep in the secret."""
    return {key: value for key, value in document.values.items() if key not in OWNED_KEYS}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


# What json.loads skips between tokens, and its decoder (the C scanner), NaN and Infinity refused.
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_WHITESPACE_CHARACTERS = frozenset(" \t\n\r")
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _skip(text: str, index: int) -> int:
    """Past the whitespace at `index`."""
    if text[index : index + 1] not in _WHITESPACE_CHARACTERS:  # none: the usual case
        return index
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _members(text: str) -> Document:
    """Walk a JSON object's members with the standard decoder, keeping each member's own text.

    Accepts exactly the objects json.loads accepts (a repeated key keeps its first place and its
    last value, as there); raises ValueError for anything else, other JSON included.
    """
    index = _skip(text, 0)
    if not text.startswith("{", index):
        raise ValueError("not an object")
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}
    index = _skip(text, index + 1)
    closed = text.startswith("}", index)
    while not closed:
        start = index
        if not text.startswith('"', index):
            raise ValueError("an object key is not a string")
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if not text.startswith(":", index):
            raise ValueError("a key is not followed by ':'")
        value, index = _DECODER.raw_decode(text, _skip(text, index + 1))
        values[key] = value
        texts[key] = text[start:index]
        index = _skip(text, index)
        closed = text.startswith("}", index)
        if not closed:
            if not text.startswith(",", index):
                raise ValueError("members are not separated by ','")
            index = _skip(text, index + 1)
    if _skip(text, index + 1) != len(text):
        raise ValueError("extra data after the object")
    return Document(values, texts)


def parse_document(secret_string: str, where: str) -> Document:
    """Parse a stored value into a JSON object; `where` names secret and version in errors."""
    try:
        return _members(secret_string)
    except ValueError:
        pass  # not an object, or not JSON: say which, in json.loads's words (they quote no input)
    try:
        value = json.loads(secret_string, parse_constant=_reject_constant)
    except ValueError as e:  # JSONDecodeError is a ValueError
        raise UnusableValueError(
            f"{where} is not valid JSON ({e}); fix or replace the value, the function only "
            "updates a JSON object"
        ) from e
    raise UnusableValueError(
        f"{where} is JSON but not an object (it is a {type(value).__name__}); "
        "the function only updates a JSON object"
    )


def serialize_document(document: Document) -> str:
    return "{" + ", ".join(document.texts.values()) + "}"


def value_bytes(text: str) -> int:
    """The size Secrets Manager counts: UTF-8 bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


def _key_name(key: str) -> str:
    name = json.dumps(key, ensure_ascii=False)
    return name if len(name) <= KEY_NAME_SHOWN else f'{name[: KEY_NAME_SHOWN - 4]}..."'


def check_size(document: Document, serialized: str, credential: Credential, secret: str) -> None:
    """Refuse a value Secrets Manager would refuse, before anything is written, naming what takes
    the room: the credential's keys (and its host count) or other keys (the largest named)."""
    size = value_bytes(serialized)
    if size <= MAX_SECRET_VALUE_BYTES:
        return
    hosts = len(credential.auths)
    owned = value_bytes(serialize_document(merge_document(EMPTY_DOCUMENT, credential)))
    others = {
        key: value_bytes(text) for key, text in document.texts.items() if key not in OWNED_KEYS
    }
    largest = sorted(others.items(), key=lambda item: item[1], reverse=True)[:LARGEST_KEYS_NAMED]
    named = ", ".join(f"{_key_name(key)} ({bytes_:,} bytes)" for key, bytes_ in largest)
    credential_part = (
        f"the function's five keys take {owned:,} bytes for {hosts} registry host(s) (regions x "
        "registry accounts x endpoint types, plus ECR Public's; the module supports at most "
        f"{MAX_REGISTRY_HOSTS})"
    )
    if owned > MAX_SECRET_VALUE_BYTES:
        cause = (
            f"{credential_part}, more than the limit by themselves. Use fewer regions, registry "
            "accounts or endpoint types, or a second secret"
        )
    else:
        cause = (
            f"other keys take {size - owned:,} bytes, the largest: {named}; {credential_part}. "
            "Move other keys out of this secret (or list fewer registry hosts)"
        )
    raise SecretTooLargeError(
        f"the new value of {secret} would be {size:,} bytes (UTF-8), over Secrets Manager's limit "
        f"of {MAX_SECRET_VALUE_BYTES:,} bytes for a secret value, so nothing was written: {cause}"
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

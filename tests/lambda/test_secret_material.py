"""Every object that holds secret material hides it from repr() and str(): a traceback, a log line
with `%r`, or a debugger shows the object, not the password or `auth` inside it.

Every record class of the package (NamedTuple) is listed here, as holding secret material (with an
instance to check) or not: a new class must be placed in one list or the other.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime, timedelta

import pytest

import ecr_token_rotator
from ecr_token_rotator.credentials import RegistryCredential
from ecr_token_rotator.document import (
    credential_from_entries,
    merge_document,
    parse_document,
    registry_entries,
)
from ecr_token_rotator.probe import RegistryAnswer
from ecr_token_rotator.publish import Prepared, SecretState
from ecr_token_rotator.secret_store import StoredDocument
from tests.support.host_plans import host_plan

PASSWORD = "password-of-a-realistic-length-0123456789abcdef"
AUTH = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
HOST = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"


def region_credential() -> RegistryCredential:
    return RegistryCredential(
        region="eu-central-1",
        registry_id="123456789012",
        username="AWS",
        password=PASSWORD,
        expires_at=datetime.now(UTC) + timedelta(hours=12),
    )


def holders() -> dict[str, object]:
    entries = registry_entries([region_credential()], [], host_plan(["eu-central-1"]))
    credential = credential_from_entries(entries)
    document = merge_document(parse_document('{"team": "platform"}', "test"), credential)
    return {
        "RegistryCredential": region_credential(),
        "RegistryEntry": entries[0],
        "Credential": credential,
        "Document": document,
        "StoredDocument": StoredDocument(arn="arn", version_id="v1", document=document),
        "SecretState": SecretState(
            StoredDocument(arn="arn", version_id="v1", document=document),
            StoredDocument(arn="arn", version_id="v2", document=document),
        ),
        "Prepared": Prepared(version_id="v1", document=document),
        # a token service's answer: a registry token issued for the `auth`
        "RegistryAnswer": RegistryAnswer(200, {}, f'{{"token": "{AUTH}"}}'.encode()),
    }


# Records that never hold a password, token or `auth`.
WITHOUT_SECRET_MATERIAL = {
    "CallPolicy",
    "HostPlan",
    "ImageRef",
    "PendingLabels",
    "Publication",
    "RefreshRequest",
    "RotationEvent",
    "RunResult",
    "Settings",
    "SettingNames",
    "StepContext",
    "_Outcome",  # holds the event and settings; documents are read in the steps
    "WrittenVersion",
}


def package_records() -> set[str]:
    names = set()
    for module_info in pkgutil.iter_modules(ecr_token_rotator.__path__):
        if module_info.name == "__main__":
            continue
        module = importlib.import_module(f"ecr_token_rotator.{module_info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, tuple)
                and hasattr(value, "_fields")
                and value.__module__ == module.__name__
            ):
                names.add(name)
    return names


def test_every_record_is_placed() -> None:
    records = package_records()
    assert set(holders()) <= records  # the scan finds them
    unplaced = records - set(holders()) - WITHOUT_SECRET_MATERIAL
    assert unplaced == set(), "say whether these hold secret material"


@pytest.mark.parametrize("name", sorted(holders()))
def test_repr_and_str_hide_the_secret_material(name: str) -> None:
    holder = holders()[name]
    for text in (repr(holder), str(holder), f"{holder!r} {holder}", repr([holder])):
        assert PASSWORD not in text
        assert AUTH not in text
        assert AUTH.rstrip("=") not in text
    assert type(holder).__name__ in repr(holder)  # it still says what it is

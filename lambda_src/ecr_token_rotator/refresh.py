"""Scheduled or manual refresh: read the secret, fetch tokens, probe, write one new version.

API calls per run: one GetSecretValue, one GetAuthorizationToken per region, one PutSecretValue.
Nothing is written unless every region's token was obtained and every probe image pulled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import ecr, secret_store
from .config import Config, ImageRef
from .credentials import format_timestamp
from .document import build_document, read_published_credential, registry_entries
from .probe import RegistryTransport, probe_images
from .result import RunResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewDocument:
    document: dict[str, Any]
    registry_hosts: tuple[str, ...]
    expires_at: datetime


def compose_document(config: Config, existing: dict[str, Any], now: datetime) -> NewDocument:
    """Fetch every region's token and merge the credential into `existing` (not yet written)."""
    entries = registry_entries(ecr.fetch_credentials(config.regions, now), config.registry_ids)
    return NewDocument(
        document=build_document(existing, entries),
        registry_hosts=tuple(entry.host for entry in entries),
        expires_at=min(entry.credential.expires_at for entry in entries),
    )


def verify_document(
    document: dict[str, Any],
    where: str,
    images: tuple[ImageRef, ...],
    transport: RegistryTransport,
) -> None:
    """Check the document as kubelet will read it, then pull-probe it when images are set."""
    published = read_published_credential(document, where)
    if images:
        probe_images(images, published.auths, transport)


def refresh_secret(
    config: Config, transport: RegistryTransport, now: datetime | None = None
) -> RunResult:
    now = now or datetime.now(UTC)
    region = config.secret_region
    current = secret_store.read_document(config.secret_id, region)
    logger.info(
        "secret read",
        extra={
            "event": "secret_read",
            "secret_id": config.secret_id,
            "current_version_id": current.version_id,
            "first_version": current.version_id is None,
        },
    )
    new = compose_document(config, current.document, now)
    where = f"new value for {config.secret_id}"
    verify_document(new.document, where, config.probe_images, transport)
    secret_arn, version_id = secret_store.write_document(
        current.arn or config.secret_id, region, new.document
    )
    logger.info(
        "secret written",
        extra={
            "event": "secret_written",
            "secret_arn": secret_arn,
            "version_id": version_id,
            "registry_hosts": list(new.registry_hosts),
            "expires_at": format_timestamp(new.expires_at),
        },
    )
    return RunResult(
        mode="schedule",
        secret_arn=secret_arn,
        version_id=version_id,
        expires_at=new.expires_at,
        registry_hosts=new.registry_hosts,
        published=True,
    )

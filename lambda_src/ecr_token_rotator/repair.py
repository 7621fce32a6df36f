"""Remove a stale AWSPENDING label so that Secrets Manager accepts new rotations again.

When a rotation is abandoned after createSecret, AWSPENDING stays on a version that is not
AWSCURRENT, and every later RotateSecret fails ("a previous rotation isn't complete") without
calling the function. `repair` removes only that AWSPENDING label: it never moves or removes
AWSCURRENT, and it leaves a label alone that is younger than a Lambda run can last, because that
rotation may still be in progress (unless forced).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from . import secret_store
from .deadline import Deadline
from .errors import RotationStateError
from .messages import duration
from .secret_store import CURRENT, PENDING

logger = logging.getLogger(__name__)

# The longest a Lambda invocation can run: a younger AWSPENDING may belong to a live rotation.
ROTATION_IN_PROGRESS_WINDOW = timedelta(minutes=15)


class PendingLabels(NamedTuple):
    stale: list[str]  # version ids whose AWSPENDING can be removed
    recent: list[str]  # version ids whose AWSPENDING may belong to a running rotation


def classify_pending(
    versions: Iterable[Mapping[str, Any]], now: datetime, window: timedelta
) -> PendingLabels:
    """Sort the AWSPENDING labels that are not on the AWSCURRENT version by age."""
    stale: list[str] = []
    recent: list[str] = []
    for version in versions:
        stages = version.get("VersionStages", [])
        if PENDING not in stages or CURRENT in stages:
            continue  # AWSPENDING together with AWSCURRENT is how a finished rotation ends
        created = version.get("CreatedDate")
        if isinstance(created, datetime) and now - created < window:
            recent.append(version["VersionId"])
        else:
            stale.append(version["VersionId"])
    return PendingLabels(stale=stale, recent=recent)


def repair_pending(
    secret_id: str,
    region: str,
    deadline: Deadline,
    *,
    dry_run: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Remove the stale AWSPENDING labels (and, with `force`, recent ones too).

    A dry run removes nothing and refuses nothing: it reports what a run with the same `force`
    would remove, and the recent labels that only `force` would.
    """
    labels = classify_pending(
        secret_store.list_versions(secret_id, region, deadline),
        now or datetime.now(UTC),
        ROTATION_IN_PROGRESS_WINDOW,
    )
    to_remove = labels.stale + (labels.recent if force else [])
    left_alone = [] if force else labels.recent
    if dry_run:
        return {
            "secret_id": secret_id,
            "dry_run": True,
            "stale_pending_version_ids": to_remove,
            "recent_pending_version_ids": left_alone,
            "removed": False,
        }
    if left_alone:
        raise RotationStateError(
            f"AWSPENDING on version(s) {', '.join(left_alone)} of {secret_id} is younger than "
            f"{duration(ROTATION_IN_PROGRESS_WINDOW)}, so a rotation may still be running; retry "
            "later, or pass --force if you are sure it is not"
        )
    for version_id in to_remove:
        secret_store.move_label(secret_id, region, PENDING, deadline, remove_from=version_id)
        logger.warning(
            "stale AWSPENDING removed",
            extra={"event": "pending_removed", "secret_id": secret_id, "version_id": version_id},
        )
    return {
        "secret_id": secret_id,
        "stale_pending_version_ids": to_remove,
        "removed": bool(to_remove),
    }

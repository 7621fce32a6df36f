"""The AWS side dies between the function's calls.

The function runs in this process against a `KillableMotoServer` over loopback HTTP. The server is
stopped (connections refused, as after a crash) at a point of the run, then started again on the
same port; moto's state lives in this process, so the test can then look at what the secret holds:
AWSCURRENT is either exactly what it was, or one new complete version, never anything in between.
A rerun afterwards succeeds, publishing the version the failed run wrote and never published
rather than writing another.

Publishing is a compare-and-swap (publish.py): PutSecretValue writes the new version under the
function's own label, then UpdateSecretVersionStage moves AWSCURRENT to it. A death between the two
leaves that version unpublished (the next write takes its label away); a death while moving
AWSCURRENT either left it where it was or moved it. The server may also die after it has processed
a request but before it answers: the change has happened and the client never hears of it.
Staying down, the function reports that it could not reach Secrets Manager (an honest "don't
know": the next run publishes again). Restarted at once, botocore's own retry reaches it: a
PutSecretValue with the same `ClientRequestToken` is answered idempotently (the existing version,
no second one); a repeated move is refused (AWSCURRENT is no longer on RemoveFromVersionId), and
the function, reading AWSCURRENT again, finds its own version there: published.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ecr_token_rotator.errors import RotatorError, SecretError
from ecr_token_rotator.publish import WRITE_LABEL
from tests.conftest import REGION
from tests.fault.checks import (
    OTHER_TOOLS_KEYS,
    assert_complete,
    before_call,
    logins,
    unchanged_or_fully_updated,
    version_ids,
)
from tests.fault.conftest import FaultLab
from tests.support.failures import DEFAULT_POLICY, SEED_DOCUMENT
from tests.support.killable_server import KillableMotoServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@dataclass(frozen=True)
class Death:
    name: str
    arrange: Callable[[KillableMotoServer], None]
    error: type[RotatorError] | None  # None: the run succeeds
    message: tuple[str, ...]
    outcome: str  # what AWSCURRENT holds afterwards: "unchanged" or "updated"
    backoff_sleeps: int  # botocore's retries of the call that met the dead server


def _stop_before(service: str, operation: str) -> Callable[[KillableMotoServer], None]:
    def arrange(server: KillableMotoServer) -> None:
        before_call(service, REGION, operation, server.stop)

    return arrange


DEATHS = (
    Death(
        "stopped after the read and the tokens, before PutSecretValue",
        _stop_before("secretsmanager", "PutSecretValue"),
        SecretError,
        ("cannot reach Secrets Manager for PutSecretValue",),
        "unchanged",
        DEFAULT_POLICY.attempts - 1,
    ),
    Death(
        "stopped after PutSecretValue answered, before AWSCURRENT moved",
        _stop_before("secretsmanager", "UpdateSecretVersionStage"),
        SecretError,
        ("cannot reach Secrets Manager for UpdateSecretVersionStage",),
        "unchanged",
        DEFAULT_POLICY.attempts - 1,
    ),
    Death(
        "died after processing PutSecretValue, before answering",
        lambda server: server.die_after("PutSecretValue"),
        SecretError,
        ("cannot reach Secrets Manager for PutSecretValue",),
        "unchanged",
        DEFAULT_POLICY.attempts - 1,
    ),
    Death(
        "died after processing PutSecretValue, restarted before botocore's retry",
        lambda server: server.die_after("PutSecretValue", restart=True),
        None,
        (),
        "updated",
        1,
    ),
    Death(
        "died after moving AWSCURRENT, before answering",
        lambda server: server.die_after("UpdateSecretVersionStage"),
        SecretError,
        ("cannot reach Secrets Manager for UpdateSecretVersionStage",),
        "updated",
        DEFAULT_POLICY.attempts - 1,
    ),
    Death(
        "died after moving AWSCURRENT, restarted before botocore's retry",
        lambda server: server.die_after("UpdateSecretVersionStage", restart=True),
        None,
        (),
        "updated",
        1,
    ),
)


@pytest.mark.parametrize("death", DEATHS, ids=lambda d: d.name)
def test_secret_is_unchanged_or_fully_updated_and_a_rerun_succeeds(
    lab: FaultLab,
    death: Death,
) -> None:
    arn = lab.create_secret(value=SEED_DOCUMENT)
    lab.configure(SECRET_ID=arn)
    before = lab.snapshot(arn)
    versions_before = version_ids(lab, arn)
    death.arrange(lab.server)

    with lab.exposure.watching():
        if death.error is None:
            result = lab.invoke()
        else:
            with pytest.raises(death.error) as raised:
                lab.invoke()
            for words in death.message:
                assert words in str(raised.value)

    assert len(lab.retry_sleeps) == death.backoff_sleeps  # botocore retried, then gave up (or not)
    if not lab.server.running:
        lab.server.start()  # same port, same moto state
    outcome = unchanged_or_fully_updated(lab, arn, before, versions_before)
    assert outcome == death.outcome
    if death.error is None:
        assert lab.snapshot(arn).current_version_id == result["version_id"]
    left = version_ids(lab, arn) - versions_before
    if outcome == "unchanged" and left:
        lab.age_unpublished_version(arn)  # the rerun: Lambda's retry, a minute later

    with lab.exposure.watching():
        rerun = lab.invoke()

    after = lab.snapshot(arn)
    assert after.current_version_id == rerun["version_id"]
    document = lab.document(arn)
    assert_complete(document, lab.issued.passwords)
    if outcome == "unchanged" and left:
        # The failed run's version landed and was never published: the rerun publishes it
        # instead of writing another (its tokens are minutes old at most).
        assert version_ids(lab, arn) - versions_before == left == {rerun["version_id"]}
        assert document["password"] == lab.issued.passwords[0]
    else:
        assert document["password"] == lab.issued.passwords[-1]
    assert {key: document[key] for key in OTHER_TOOLS_KEYS} == OTHER_TOOLS_KEYS


def test_a_write_that_landed_unanswered_holds_the_runs_own_document(lab: FaultLab) -> None:
    """The version written before the death is the run's whole document, not a fragment, and it
    is not AWSCURRENT: only the function's own label is on it."""
    arn = lab.create_secret(value=SEED_DOCUMENT)
    lab.configure(SECRET_ID=arn, ECR_REGIONS="eu-central-1,us-east-1")
    before = lab.snapshot(arn)
    lab.server.die_after("PutSecretValue")

    with lab.exposure.watching(), pytest.raises(SecretError):
        lab.invoke()

    lab.server.start()
    assert lab.snapshot(arn).current_value == before.current_value
    document = lab.document(arn, VersionStage=WRITE_LABEL)
    hosts = logins(document)
    assert sorted(hosts) == [
        "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    ]
    # Both regions' tokens of this run (and only they) are in the document.
    assert sorted(password for _, password in hosts.values()) == sorted(lab.issued.passwords)
    assert_complete(document, lab.issued.passwords)
    assert json.loads(json.dumps(document))["team"] == SEED_DOCUMENT["team"]

"""Every failure ends the run with a specific error and leaves the secret exactly as it was."""

from __future__ import annotations

import pytest

from ecr_token_rotator.publish import WRITE_LABEL
from tests.conftest import Harness
from tests.support.failures import FAILURES, SEED_DOCUMENT, Failure


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_failure_names_the_problem_and_changes_nothing(harness: Harness, failure: Failure) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    extra_check = failure.setup(harness, arn)
    before = harness.snapshot(arn)

    with pytest.raises(failure.error) as raised:
        harness.invoke()

    for words in failure.message:
        assert words in str(raised.value)
    after = harness.snapshot(arn)
    assert (after.current_version_id, after.current_value) == (
        before.current_version_id,
        before.current_value,
    )
    for version, stages in after.version_stages.items():
        if version not in before.version_stages:  # written, never published
            assert stages == [WRITE_LABEL]
    if extra_check:
        extra_check()


def test_after_a_failure_the_next_run_succeeds(harness: Harness) -> None:
    arn = harness.create_secret(value=SEED_DOCUMENT)
    harness.configure(SECRET_ID=arn, PROBE_IMAGES=f"{SEED_DOCUMENT['registry']}/team/app:1.0")
    harness.stub.state.statuses["team/app"] = 403
    with pytest.raises(Exception, match="HTTP 403"):
        harness.invoke()

    del harness.stub.state.statuses["team/app"]  # the role was granted pull rights
    result = harness.invoke()

    assert harness.snapshot(arn).current_version_id == result["version_id"]
    assert harness.document(arn)["team"] == "platform"

"""Every failure ends the run with a specific error and leaves the secret exactly as it was."""

from __future__ import annotations

import pytest

from ecr_token_rotator.publish import WRITE_LABEL
from tests.conftest import Harness
from tests.support.failures import FAILURES, SEED_DOCUMENT, Failure
from tests.support.faults import ERROR_PAGE


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


@pytest.mark.parametrize(
    "failure",
    [failure for failure in FAILURES if "HTML page" in failure.name],
    ids=lambda f: f.name,
)
def test_an_html_answer_is_quoted_as_its_status_and_a_short_excerpt(
    harness: Harness, failure: Failure
) -> None:
    """A page of several KB from a proxy in the way: the message keeps the status and the start of
    the page's text, without tags, entities, styles or scripts."""
    arn = harness.create_secret(value=SEED_DOCUMENT)
    failure.setup(harness, arn)

    with pytest.raises(failure.error) as raised:
        harness.invoke()

    message = str(raised.value)
    page_text = "500 Internal Server Error: Internal Server Error The proxy could not reach"
    assert f"HTTP 500: {page_text} " in message
    assert "upstream server & gave up." in message
    for markup in ("<", ">", "&amp;", "font-family", "console.log", "DOCTYPE"):
        assert markup not in message, markup
    assert message.endswith(" ...")
    assert len(message) < len(ERROR_PAGE) / 10

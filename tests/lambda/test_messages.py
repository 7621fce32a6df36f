"""What a person reads: durations in words, and an answer that is not AWS's cut to an excerpt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecr_token_rotator.messages import (
    MARKUP_EXCERPT_CHARACTERS,
    TEXT_EXCERPT_CHARACTERS,
    duration,
    excerpt,
)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=12), "12 hours"),
        (timedelta(minutes=90), "1 hour 30 minutes"),
        (timedelta(seconds=61), "1 minute 1 second"),
        (timedelta(days=1, seconds=5), "1 day 5 seconds"),
        (timedelta(seconds=0.4), "0 seconds"),
    ],
)
def test_durations_read_as_words(delta: timedelta, words: str) -> None:
    assert duration(delta) == words


def test_aws_messages_are_kept_as_they_are() -> None:
    kms = (
        "User: arn:aws:sts::123456789012:assumed-role/ecr-token-rotator/ecr-token-rotator is not "
        "authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-central-1:123456789012:"
        "key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the "
        "kms:Decrypt action"
    )
    assert excerpt(kms) == kms
    assert excerpt("Secrets Manager can't find the specified secret.") == (
        "Secrets Manager can't find the specified secret."
    )
    assert excerpt("") == ""


def test_long_text_is_cut_at_a_word() -> None:
    cut = excerpt("word " * 500)
    assert cut.endswith("word ...")
    assert len(cut) <= TEXT_EXCERPT_CHARACTERS + 4


def test_a_page_becomes_its_text_without_markup() -> None:
    page = (
        "\n<html>\r\n<head><title>502 Bad Gateway</title><style>h1 {color: red}</style></head>\n"
        "<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n"
        "<!-- a comment --></body>\n</html>\n"
    )
    assert excerpt(page) == "502 Bad Gateway nginx"


def test_a_page_gets_its_title_when_the_text_lacks_it() -> None:
    page = "<?xml version='1.0'?><html><head><title>Oops</title></head><body>&lt;busy&gt;</body>"
    assert excerpt(page) == "Oops: <busy>"


def test_a_long_page_is_cut_shorter_than_text() -> None:
    page = "<html><body>" + "<p>Please try again later.</p>" * 100 + "</body></html>"
    cut = excerpt(page)
    assert cut.startswith("Please try again later. Please")
    assert cut.endswith(" ...")
    assert len(cut) <= MARKUP_EXCERPT_CHARACTERS + 4

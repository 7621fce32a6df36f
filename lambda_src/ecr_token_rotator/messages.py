"""How values read where a person reads them (errors, logs, the CLI's help): durations in words,
and a short excerpt of an answer that was not meant for us.

Pure functions, standard library only.
"""

from __future__ import annotations

import re
from datetime import timedelta

# An answer that is not AWS's (an HTML error page from a proxy, a load balancer or a local test
# server) is cut to this many characters of its text; AWS's own messages (a KMS denial quotes two
# ARNs) fit in the longer bound.
MARKUP_EXCERPT_CHARACTERS = 160
TEXT_EXCERPT_CHARACTERS = 400
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_TAG = re.compile(r"<[A-Za-z!/?][^>]*>")
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.DOTALL | re.IGNORECASE)


def duration(delta: timedelta) -> str:
    """`15 minutes`, `1 hour`, `1 hour 30 minutes`, `90 seconds` -> `1 minute 30 seconds`
    (whole seconds; what Python's `str(timedelta)` would write as `0:15:00`)."""
    left = max(int(delta.total_seconds()), 0)
    parts = []
    for unit, seconds in _UNITS:
        count, left = divmod(left, seconds)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"


def excerpt(text: str) -> str:
    """`text` made fit for one line of an error message: an HTML or XML page becomes its title and
    visible text without tags (a whole error page would bury the message); whitespace is
    collapsed, and what is longer than its bound is cut at a word, marked with `...`."""
    limit = TEXT_EXCERPT_CHARACTERS
    if text.lstrip().startswith("<"):  # a page; AWS's messages are sentences
        import html  # noqa: PLC0415 - its entity table only where a page needs it

        title = _TITLE.search(text)
        body = _TAG.sub(" ", _INVISIBLE.sub(" ", text))
        if title and " ".join(title.group(1).split()) not in " ".join(body.split()):
            body = f"{title.group(1)}: {body}"
        text = html.unescape(body)
        limit = MARKUP_EXCERPT_CHARACTERS
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    return words[:limit].rsplit(" ", 1)[0] + " ..."

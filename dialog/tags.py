"""Operators' free tags on a conversation ("vip", "damaged-item"): one normal form, so that
"VIP " and "vip" are one tag and a filter finds them all."""

from __future__ import annotations

import re

from dialog.desk_values import DeskError

MAX_TAG_CHARS = 32
MAX_TAGS = 10  # per conversation: a tag is a label to filter by, not a note

_SPACES = re.compile(r"[\s_]+")
_ALLOWED = re.compile(r"^[\w-]+$")  # letters of any script, digits, "-"


def normalise_tag(text: str) -> str:
    """Lower case, inner spaces as "-"; DeskError (a reason a person can read) if nothing is
    left, it is too long, or it holds anything but letters, digits and "-"."""
    tag = _SPACES.sub("-", text.strip().lower()).strip("-")
    if not tag:
        raise DeskError("a tag needs a letter or digit")
    if len(tag) > MAX_TAG_CHARS:
        raise DeskError(f"a tag is at most {MAX_TAG_CHARS} characters")
    if not _ALLOWED.match(tag):
        raise DeskError("a tag holds only letters, digits and '-'")
    return tag

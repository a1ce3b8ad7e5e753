"""Header values read with a bound on their length.

The standard library decodes a header (encoded words, addresses) with a parser that slows
down more than linearly on long values: a Subject of 800 KB took over 30 s, 50,000
References 5 s. A person's Subject or From is short, so only the first MAX_HEADER_CHARS are
decoded; of the Message-ID headers MAX_ID_HEADER_CHARS, a few hundred ids. (They are decoded
too: the standard library's own generator writes a long id as encoded words.)
"""

from __future__ import annotations

import re
from email.message import Message

MAX_HEADER_CHARS = 2000
MAX_ID_HEADER_CHARS = 20_000
_FOLDING = re.compile(r"\r?\n")


def header_text(message: Message | None, name: str, limit: int = MAX_HEADER_CHARS) -> str:
    """The first `name` header decoded (at most `limit` characters of it read); "" when it is
    absent or cannot be read."""
    raw = raw_header(message, name)
    if raw is None or message is None:
        return ""
    try:
        return str(message.policy.header_fetch_parse(name, raw[:limit]))
    except Exception:  # a header the policy cannot parse counts as absent
        return ""


def raw_header(message: Message | None, name: str) -> str | None:
    """The first `name` header as it came, unfolded, undecoded; None when absent."""
    if message is None:
        return None
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return _FOLDING.sub("", str(value))
    return None

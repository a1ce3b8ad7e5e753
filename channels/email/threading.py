"""Mail threads as conversations: Message-ID / In-Reply-To / References -> a conversation key.

One thread with one correspondent is one conversation. Its chat id is the thread's root
Message-ID (the first id in References, else In-Reply-To, else the mail's own Message-ID),
tagged with a short hash of the correspondent's address: someone else who learns a thread's
Message-IDs (a CC, a forward) and writes into it gets a conversation of their own, instead of
taking over the customer's, with its verified orders and its reply address. The tag of a
sender whose From is not authenticated (authentication.py) differs from the address's own
("u" before it): anyone may write that From, so such mail never continues the conversation
of the authenticated address, whose customer is known to the bot.

Replies keep threading with any client: every References header the bot writes starts with the
root, and every Message-ID the bot writes carries the conversation's chat id
(`<ob.{outbox id}.{time hash}.r{base32 chat id}@{domain}>`), so a client that keeps only
In-Reply-To still lands in the same conversation. A thread the bot starts (a proactive
message) has the bot's first Message-ID as its root.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_REFERENCES = 20  # References kept in a reply: the root and the latest 19
MAX_ID_CHARS = 170  # longer ids are hashed, to fit the database's id columns
MAX_ENCODED_CHAT_ID = 100  # longer chat ids are not carried in the bot's Message-IDs
_MARK = "ob"
_ID = re.compile(r"<([^<>\s]{1,998})>")


@dataclass(frozen=True)
class Thread:
    chat_id: str  # the conversation's key
    root: str | None  # the thread's root Message-ID (header form "<...>"), when known
    references: list[str] = field(default_factory=list)  # for the reply: root ... this mail
    last: str | None = None  # this mail's Message-ID, answered with In-Reply-To


def message_ids(value: str | None) -> list[str]:
    """The Message-IDs of a header value, "<...>" each, in order, without repeats."""
    if not value:
        return []
    found = [f"<{bare}>" for bare in _ID.findall(value)]
    if not found:  # a broken client without angle brackets
        found = [f"<{token}>" for token in value.split() if "@" in token and len(token) < 998]
    return list(dict.fromkeys(found))


def storable(value: str) -> str:
    """An id short enough for the database (inbox dedupe key, chat id)."""
    if len(value) <= MAX_ID_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:48]


def correspondent_tag(address: str, *, authenticated: bool = True) -> str:
    tag = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:12]
    return tag if authenticated else "u" + tag


def chat_id_for(root: str, address: str, *, authenticated: bool = True) -> str:
    """The conversation of the thread with this root, with this correspondent."""
    tag = correspondent_tag(address, authenticated=authenticated)
    return f"{storable(root.strip().strip('<>'))}~{tag}"


def thread_of(
    *,
    message_id: str | None,
    in_reply_to: list[str],
    references: list[str],
    sender: str,
    domain: str,
    fallback_id: str,
    authenticated: bool = True,
) -> Thread:
    """The conversation this mail belongs to; fallback_id stands in for a missing Message-ID.
    authenticated: whether the mail's From is authenticated (else a conversation apart)."""
    known = set(references)
    chain = [*references, *(i for i in in_reply_to if i not in known)]
    root = chain[0] if chain else message_id
    tag = correspondent_tag(sender, authenticated=authenticated)
    chat_id = _chat_id_from_bot_ids([*in_reply_to, *reversed(references)], tag, domain)
    if chat_id is None:
        chat_id = chat_id_for(root or fallback_id, sender, authenticated=authenticated)
    else:  # the bot's id names the conversation, and so its root (unless that was hashed)
        bare_root = chat_id.rpartition("~")[0]
        if bare_root and not bare_root.startswith("sha256:"):
            root = f"<{bare_root}>"
    refs = [*chain, message_id] if message_id and message_id not in chain else chain
    if root is not None and refs and refs[0] != root:
        refs = [root, *(r for r in refs if r != root)]
    return Thread(chat_id=chat_id, root=root, references=trim_references(refs), last=message_id)


def trim_references(references: list[str]) -> list[str]:
    """The root and the latest ids, as RFC 5322 suggests for long threads."""
    if len(references) <= MAX_REFERENCES:
        return list(references)
    return [references[0], *references[-(MAX_REFERENCES - 1):]]


def bot_message_id(chat_id: str, domain: str, outbox_id: int, at: str) -> str:
    """The Message-ID of one bot mail: the same on every retry of that mail, and carrying the
    conversation's chat id when it is short enough."""
    try:  # the time as written and as read back from the database (with or without zone)
        moment = f"{datetime.fromisoformat(at):%Y%m%d%H%M%S%f}"
    except ValueError:
        moment = at
    stamp = hashlib.sha256(moment.encode()).hexdigest()[:10]
    parts = [_MARK, str(outbox_id), stamp]
    if len(chat_id) <= MAX_ENCODED_CHAT_ID:
        encoded = base64.b32encode(chat_id.encode()).decode().rstrip("=").lower()
        parts.append("r" + encoded)
    return f"<{'.'.join(parts)}@{domain}>"


def chat_id_in_bot_id(message_id: str, domain: str) -> str | None:
    """The chat id a bot Message-ID carries; None for anyone else's id."""
    bare = message_id.strip().strip("<>")
    local, _, id_domain = bare.rpartition("@")
    if id_domain.lower() != domain.lower():
        return None
    parts = local.split(".")
    if len(parts) != 4 or parts[0] != _MARK or not parts[3].startswith("r"):
        return None
    encoded = parts[3][1:].upper()
    try:
        return base64.b32decode(encoded + "=" * (-len(encoded) % 8)).decode()
    except (binascii.Error, ValueError):
        return None


def _chat_id_from_bot_ids(candidates: list[str], tag: str, domain: str) -> str | None:
    """The newest bot Message-ID in the thread names the conversation, if it is this
    correspondent's (a stranger's reply to it starts their own)."""
    for candidate in candidates:
        chat_id = chat_id_in_bot_id(candidate, domain)
        if chat_id is not None:
            return chat_id if chat_id.endswith("~" + tag) else None
    return None

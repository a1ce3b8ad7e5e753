"""Button payloads in Telegram's 64 bytes of callback_data.

A payload that fits goes out as it is. A longer one ("confirm:start:" and an order number of
the 64 characters the shop API allows) would come back cut, so its button carries a stand-in
instead: a mark and a digest of the payload. A press on a stand-in is turned back into the
payload of the button the bot offered in that conversation (its transcript), so a stand-in
can only ever stand for a payload the bot itself sent there.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from dialog.messages import Button

MAX_CALLBACK_DATA = 64  # bytes
STAND_IN_MARK = "~"  # no flow payload starts with it
_DIGEST_BYTES = 16


def callback_data(payload: str) -> str:
    """What a button carries for `payload`: the payload, or its stand-in when too long."""
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA and not payload.startswith(
        STAND_IN_MARK
    ):
        return payload
    digest = hashlib.sha256(payload.encode("utf-8")).digest()[:_DIGEST_BYTES]
    return STAND_IN_MARK + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def is_stand_in(data: str | None) -> bool:
    return data is not None and data.startswith(STAND_IN_MARK)


def original_payload(data: str, offered: Iterable[Button]) -> str | None:
    """The payload the stand-in `data` stands for among the buttons offered (newest first),
    or None when none of them has it."""
    for button in offered:
        if callback_data(button.payload) == data:
            return button.payload
    return None

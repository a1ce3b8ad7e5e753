"""Outbound -> Block Kit: plain text sections (never Slack markup), one button per choice.

Customer data (names, order details, an operator's words) must show literally: a text with
"<!channel>" must not notify a channel, "<https://x|y>" must not become a disguised link.
So every text object is plain_text, and &, < and > are escaped as Slack asks for all text
(https://docs.slack.dev/messaging/formatting-message-text#escaping).
"""

from __future__ import annotations

import re
from typing import Any

from dialog.messages import Outbound

ACTION_PREFIX = "ob_"  # our buttons' action_id: ob_<index>, unique within a message
SECTION_LIMIT = 3000  # characters in one section's text object
BUTTON_TITLE_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MAX_BUTTONS = 25  # elements in one actions block
CHOSEN_MARK = "✓"

Block = dict[str, Any]


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def message_text(outbound: Outbound) -> str:
    """What the customer reads, unescaped: an operator's message names its author."""
    if outbound.sender == "operator" and outbound.author:
        return f"{outbound.author}: {outbound.text}"
    return outbound.text


def render(outbound: Outbound) -> tuple[str, list[Block]]:
    """(fallback text for notifications, blocks) of one reply, both escaped."""
    text = message_text(outbound)
    blocks: list[Block] = [_section(piece) for piece in _pieces(text) if piece.strip()]
    if outbound.buttons:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{ACTION_PREFIX}{index}",
                        "text": _plain(button.title[:BUTTON_TITLE_LIMIT]),
                        "value": button.payload[:BUTTON_VALUE_LIMIT],
                    }
                    for index, button in enumerate(outbound.buttons[:MAX_BUTTONS])
                ],
            }
        )
    return escape(text), blocks


def chosen(original_blocks: list[Block], title: str) -> list[Block]:
    """The pressed message without its buttons, and the choice made under its text."""
    kept = [block for block in original_blocks if block.get("type") == "section"]
    return [*kept, {"type": "context", "elements": [_plain(f"{CHOSEN_MARK} {title}")]}]


def _section(text: str) -> Block:
    return {"type": "section", "text": _plain(text)}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": escape(text), "emoji": True}


_LINES = re.compile(r"[^\n]*\n|[^\n]+")


def _pieces(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """The text cut at line ends into pieces whose escaped form fits one section."""
    pieces: list[str] = []
    current, size = "", 0
    for line in _LINES.findall(text):
        cost = len(escape(line))
        if current and size + cost > limit:
            pieces.append(current)
            current, size = "", 0
        while cost > limit:  # one line longer than a section: cut it where it fits
            head, line = _cut(line, limit)
            pieces.append(head)
            cost = len(escape(line))
        current, size = current + line, size + cost
    if current:
        pieces.append(current)
    return pieces


def _cut(line: str, limit: int) -> tuple[str, str]:
    size = 0
    for index, char in enumerate(line):
        size += len(escape(char))
        if size > limit:
            return line[:index], line[index:]
    return line, ""

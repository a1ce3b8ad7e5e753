"""Outbound -> Block Kit: plain text sections (never Slack markup), one button per choice;
and the operators channel's posts: an escalation's summary with its buttons, and the lines of
its thread.

Customer data (names, order details, an operator's words) must show literally: a text with
"<!channel>" must not notify a channel, "<https://x|y>" must not become a disguised link.
So every text object is plain_text, and &, < and > are escaped as Slack asks for all text
(https://docs.slack.dev/messaging/formatting-message-text#escaping).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dialog.messages import Button, Outbound

ACTION_PREFIX = "ob_"  # our buttons' action_id: ob_<index>, unique within a message
# The operators' buttons on an escalation post: action_id ops_<action>, value
# "<conversation id>:<handoff id>" (a press on an older escalation's post changes nothing).
OPERATOR_ACTION_PREFIX = "ops_"
OPERATOR_ACTIONS = {"claim": "Claim", "hand_back": "Hand back", "resolve": "Resolve"}
CONTEXT_LIMIT = 2000  # characters in one context element
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


CHANNEL_NAMES = {"webchat": "web chat", "telegram": "Telegram", "slack": "Slack",
                 "email": "email"}
REASONS = {
    "customer_asked": "asked for a person",
    "not_understood": "the bot did not understand them",
    "verification_failed": "could not prove that an order is theirs",
    "out_of_stock": "an item of their order is out of stock",
    "credit_check_refused": "the credit check refused cash on delivery",
    "refund_failed": "a refund failed",
    "confirmation_unanswered": "did not confirm a new order",
    "payment_overdue": "a payment is overdue",
    "operator_joined": "an operator joined the conversation",
}


@dataclass(frozen=True)
class EscalationPost:
    """What operators read about an escalation (plain text; escaped when rendered)."""

    conversation_id: int
    handoff_id: int
    customer: str  # name and email, as far as known
    channel: str
    language: str
    reason: str
    last_messages: tuple[str, ...]
    status: str  # "Waiting for an operator", "Claimed by Anna (console)" ...
    open: bool  # still with the operators: the buttons are shown


def escalation_post(post: EscalationPost) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of an escalation's post in the operators channel."""
    channel = CHANNEL_NAMES.get(post.channel, post.channel)
    reason = REASONS.get(post.reason, post.reason.replace("_", " "))
    about = (f"Customer: {post.customer}\nChannel: {channel} · Language: {post.language}\n"
             f"Reason: {reason}")
    blocks: list[Block] = [_section(f"A customer needs a person (conversation "
                                    f"{post.conversation_id})"), _section(about)]
    if post.last_messages:
        said = "Last messages from the customer:\n" + "\n".join(
            f"» {message}" for message in post.last_messages)
        blocks += [_section(piece) for piece in _pieces(said) if piece.strip()]
    blocks.append(_context(post.status))
    if post.open:
        value = f"{post.conversation_id}:{post.handoff_id}"
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"{OPERATOR_ACTION_PREFIX}{action}",
             "text": _plain(title), "value": value}
            for action, title in OPERATOR_ACTIONS.items()
        ]})
    text = f"Needs a person: {post.customer} ({channel}, {reason}) - {post.status}"
    return escape(text), blocks


def thread_line(speaker: str, text: str, buttons: Sequence[Button] = ()) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of one line of the conversation, shown in its thread."""
    said = f"{speaker}: {text}"
    blocks: list[Block] = [_section(piece) for piece in _pieces(said) if piece.strip()]
    if buttons:
        offered = "Buttons: " + " ".join(f"[{button.title}]" for button in buttons)
        blocks.append(_context(offered))
    return escape(said), blocks


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_plain(_cut(text, CONTEXT_LIMIT)[0])]}


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

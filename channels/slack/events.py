"""Slack payloads -> Inbound: direct messages (Events API) and button presses (block_actions).

Parsing only: no network, no Bolt. The channel decides what to do with the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from channels.slack.blocks import ACTION_PREFIX, Block, unescape
from dialog.messages import ConversationKey, Inbound

CHANNEL = "slack"
# What the dialog reads of one message, as in the other channels (Slack itself allows 40,000
# characters; the language model slows down sharply on very long texts).
MAX_TEXT = 4000


@dataclass(frozen=True)
class ButtonPress:
    """A press on one of our buttons, and the message it was on (to replace its buttons)."""

    inbound: Inbound
    channel: str
    message_ts: str
    title: str
    message_text: str
    message_blocks: list[Block]


def direct_message(body: dict[str, Any], bot_user_id: str | None) -> Inbound | None:
    """A customer's new direct message to the bot; None for anything else.

    Edits, deletions, joins and other subtypes, bot messages (ours included) and messages
    in channels are not the customer writing to us.
    """
    event = body.get("event")
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return None
    if "subtype" in event or event.get("bot_id"):
        return None
    user, channel, text = event.get("user"), event.get("channel"), event.get("text")
    if not (_is_id(user) and _is_id(channel) and _is_id(event_id) and isinstance(text, str)):
        return None
    if user == bot_user_id:
        return None
    text = plain_text(text).strip()[:MAX_TEXT]
    if not text:
        return None
    return Inbound(
        key=ConversationKey(CHANNEL, channel),
        text=text,
        message_id=event_id,
        sender=user,
        context={"channel": channel},
    )


def button_press(body: dict[str, Any]) -> ButtonPress | None:
    """A press on one of our buttons; the message id makes a second press a replay."""
    actions = body.get("actions")
    container, user = _object(body.get("container")), _object(body.get("user"))
    if body.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = actions[0]
    if not isinstance(action, dict) or not str(action.get("action_id", "")).startswith(
        ACTION_PREFIX
    ):
        return None
    channel, ts, user_id = container.get("channel_id"), container.get("message_ts"), user.get("id")
    value = action.get("value")
    if not (_is_id(channel) and _is_id(ts) and _is_id(user_id) and isinstance(value, str)):
        return None
    message = _object(body.get("message"))
    blocks = message.get("blocks")
    title = _object(action.get("text")).get("text")
    return ButtonPress(
        inbound=Inbound(
            key=ConversationKey(CHANNEL, channel),
            action=value,
            message_id=f"act:{channel}:{ts}",
            sender=user_id,
            context={"channel": channel},
        ),
        channel=channel,
        message_ts=ts,
        title=unescape(title) if isinstance(title, str) else value,
        message_text=message.get("text") if isinstance(message.get("text"), str) else "",
        message_blocks=[b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list)
        else [],
    )


_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str) -> str:
    """What the customer typed: Slack's links, mentions and escapes turned back into text.

    Slack sends an email address as <mailto:a@b.example|a@b.example>, a URL as <https://...>,
    a mention as <@U123> or <!here>, and &, <, > as entities.
    """

    def readable(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if label:
            return label
        if target.startswith("mailto:"):
            return target[len("mailto:"):]
        if target.startswith("!"):
            return "@" + target[1:].split("^", 1)[0]
        return target

    return unescape(_MARKUP.sub(readable, text))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200

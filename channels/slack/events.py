"""Slack payloads -> Inbound: direct messages (Events API) and button presses (block_actions);
and, in the operators channel, operators' thread replies and presses on escalation posts.

Parsing only: no network, no Bolt. The channel decides what to do with the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from channels.slack.blocks import (
    ACTION_PREFIX,
    OPERATOR_ACTION_PREFIX,
    OPERATOR_ACTIONS,
    Block,
    unescape,
)
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
        message_text=text if isinstance(text := message.get("text"), str) else "",
        message_blocks=[b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list)
        else [],
    )


@dataclass(frozen=True)
class ThreadReply:
    """An operator's message in the thread of a post in the operators channel."""

    channel: str
    thread_ts: str  # the post it answers
    ts: str
    user: str
    text: str


@dataclass(frozen=True)
class OperatorPress:
    """An operator pressed Claim, Hand back or Resolve on an escalation post."""

    action: str  # claim | hand_back | resolve
    conversation_id: int
    handoff_id: int
    channel: str
    message_ts: str
    user: str


def thread_reply(
    body: dict[str, Any], bot_user_id: str | None, operators_channel: str
) -> ThreadReply | None:
    """A person's new reply in a thread of the operators channel; None for anything else
    (the channel's own messages, edits, and every bot message - our mirrored lines included)."""
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, dict):
        return None
    if event.get("type") != "message" or event.get("channel") != operators_channel:
        return None
    if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
        return None
    user, ts, thread_ts, text = (event.get(k) for k in ("user", "ts", "thread_ts", "text"))
    if not (_is_id(user) and _is_id(ts) and _is_id(thread_ts) and isinstance(text, str)):
        return None
    if ts == thread_ts or user == bot_user_id:
        return None
    text = plain_text(text).strip()[:MAX_TEXT]
    if not text:
        return None
    return ThreadReply(operators_channel, thread_ts, ts, user, text)


def operator_press(body: dict[str, Any]) -> OperatorPress | None:
    actions = body.get("actions")
    container, user = _object(body.get("container")), _object(body.get("user"))
    if body.get("type") != "block_actions" or not isinstance(actions, list) or not actions:
        return None
    action = _object(actions[0])
    action_id = str(action.get("action_id", ""))
    if not action_id.startswith(OPERATOR_ACTION_PREFIX):
        return None
    name = action_id[len(OPERATOR_ACTION_PREFIX):]
    conversation, _, handoff = str(action.get("value", "")).partition(":")
    channel, ts, user_id = container.get("channel_id"), container.get("message_ts"), user.get("id")
    if name not in OPERATOR_ACTIONS or not (conversation.isdigit() and handoff.isdigit()):
        return None
    if not (_is_id(channel) and _is_id(ts) and _is_id(user_id)):
        return None
    return OperatorPress(name, int(conversation), int(handoff), channel, ts, user_id)


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


def _is_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 200

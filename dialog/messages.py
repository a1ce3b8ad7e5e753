"""The normalised messages every channel speaks: the dialog owns them, channels import them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One conversation: a channel and the channel's own chat id (web chat: conversation id)."""

    channel: str
    chat_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """A customer's message or button press, as the channel received it."""

    key: ConversationKey
    text: str = ""
    action: str | None = None  # a button payload, when the customer pressed a button
    message_id: str | None = None  # the platform's own id, for dropping duplicates
    language: str | None = None  # a hint from the channel (widget setting, Telegram locale)
    customer_id: int | None = None  # set when the channel has verified who this is
    inbox_id: int | None = None  # the durable inbox row this message was recorded in
    sender: str | None = None  # the platform's id of the writer (user id, email address)
    # How the channel answers in this conversation (email: recipient, subject, references);
    # kept with the conversation and handed back on every delivery. None: keep the last one.
    context: dict[str, Any] | None = None
    # The client's network address (web chat): failed proofs are counted per address too.
    client: str | None = None
    # The sender's email address, when its channel declares that senders are addresses
    # (Capabilities.senders_are_email); the dialog fills it in, channels leave it None.
    sender_email: str | None = None
    # Ids of attachments (dialog/attachments.py) stored under this conversation's key before
    # the message: a photo or PDF it carries. The text may then be empty.
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outbound:
    """One reply to deliver: text, optional buttons, and who speaks (bot or operator)."""

    key: ConversationKey
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    sender: str = "bot"  # "bot" | "operator"
    author: str | None = None  # an operator's display name
    # Structure a rich client may draw instead of parts of the text (web chat: an order card,
    # document buttons): {"card": {...}, "documents": [{"title", "url"}]}. Optional; the text
    # says all of it, so email, Telegram and Slack ignore it (docs/channels/webchat.md).
    rich: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbox row to deliver: the reply, its transcript id (shown to clients) and time."""

    outbox_id: int
    message_id: int
    outbound: Outbound
    at: str  # ISO 8601, UTC
    context: dict[str, Any] = field(default_factory=dict)  # the conversation's reply context
    # What a sender needs besides the reply, so that no channel reads the transcript to send:
    language: str = "en"  # the conversation's language (labels, subjects around the reply)
    opens_conversation: bool = False  # the first message of a conversation the bot began
    # Recorded when no earlier reply of its conversation was still to be sent: with several
    # processes, its send need not read whether one is (dialog/outbox.py).
    first_in_line: bool = False


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel declares when it is registered, so that the dialog and the order core
    ask about a capability instead of a channel's name."""

    # The platform's sender id is an email address it vouches for (mail: From, aligned):
    # a customer with that address is this sender, and a bounce marks the address.
    senders_are_email: bool = False


class DeliveryFailed(Exception):
    """A channel could not deliver; retry_after (seconds) when the platform said when."""

    def __init__(self, reason: str, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent

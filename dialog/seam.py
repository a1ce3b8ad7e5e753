"""The seam between channels and the dialog: all a channel may ask of it.

A channel turns platform events into `Inbound` and deliveries into platform calls; for
everything else it holds a `Conversations` (customers) and, for an operators' side, a `Desk`.
Channels import these protocols and dialog's value types, never the DialogManager or the
OperatorDesk themselves (their implementations: dialog/conversations.py, dialog/desk.py).
"""

from __future__ import annotations

from typing import Protocol

from coordination.base import Subscription
from dialog.attachment_values import AttachmentRef
from dialog.attachments import Download
from dialog.desk_values import Listener, OperatorRef, QueueItem, TranscriptLine
from dialog.messages import Button, ConversationKey, Inbound
from dialog.state import HistoryEntry
from dialog.texts import Texts


class Conversations(Protocol):
    """Customers' conversations as a channel sees them."""

    @property
    def texts(self) -> Texts:
        """Words a channel adds around replies (labels, subjects, its own refusals), in the
        customer's language."""

    async def accept(self, inbound: Inbound) -> bool:
        """Record durably (deduplicated by the platform's message id), then answer in the
        background: a webhook answers 2xx once this returns. False: seen before."""

    async def accept_answered(self, inbound: Inbound) -> None:
        """accept(), with the turn run before returning and the message recorded in the
        turn's own transaction (one transaction, not two): a webhook that may wait for the
        turn answers 2xx once this returns. A replay is answered no more; a turn that fails
        leaves the message recorded, to be answered after the next start; raises only when
        the message could not be recorded."""

    async def answer(self, inbound: Inbound) -> None:
        """Record and answer in one transaction, before returning (a channel that holds its
        customer's connection: the web chat). A platform id seen before is answered no more;
        raises if the turn failed (then nothing of it was kept)."""

    async def history(
        self, key: ConversationKey, limit: int = 200
    ) -> tuple[str, list[HistoryEntry]]:
        """The conversation's language and its last `limit` entries, oldest first (the web
        chat shows them; email learns whether a thread has begun)."""

    async def last_buttons(self, key: ConversationKey) -> list[Button]:
        """What the bot offered last (email maps a reply like "2" onto it): one row read."""

    # Web chat sessions: a secret token bound to one conversation.

    async def open_session(
        self, channel: str, chat_id: str, language: str | None,
        verified_email: str | None = None, customer_name: str | None = None,
        link_token: str | None = None,
    ) -> tuple[str, ConversationKey] | None:
        """A token for a new conversation (or the verified customer's last one); None for an
        unknown link token."""

    async def resume_session(self, token: str) -> tuple[str, ConversationKey] | None:
        """A new token for the live one's conversation (which stops working)."""

    async def resolve_token(self, token: str) -> ConversationKey | None:
        """The conversation of a live token; None for unknown, expired or replaced ones."""

    async def mark_undeliverable(self, channel: str, address: str) -> bool:
        """The platform said an address bounces; False if no customer has it."""


class CustomerFiles(Protocol):
    """Customers' photos and PDFs as a channel handles them (dialog/attachments.py)."""

    max_bytes: int

    async def keep(self, key: ConversationKey, name: str, data: bytes) -> AttachmentRef:
        """Check and store a file sent in this conversation; raises AttachmentRefused
        (dialog/attachment_values.py) saying why not. Its id then goes with the message
        (Inbound.attachments)."""

    async def for_customer(self, key: ConversationKey, attachment_id: str) -> Download | None:
        """The file, if it was sent in this conversation; None for any other."""


class Desk(Protocol):
    """The operators' desk as an operators' channel (Slack) sees it; the console holds the
    OperatorDesk itself."""

    async def queue(self, state: str = "escalated") -> list[QueueItem]: ...

    async def get(self, conversation_id: int) -> QueueItem:
        """Raises NotFound (dialog.desk_values)."""

    async def subscribe(self, listener: Listener) -> Subscription:
        """Every desk event of every process (see dialog/desk.py for their shape)."""

    async def claim(self, conversation_id: int, operator: OperatorRef) -> QueueItem: ...

    async def customer_typing(self, key: ConversationKey) -> None:
        """The customer is typing: the consoles show it while a person has the chat."""

    async def say(
        self, conversation_id: int, operator: OperatorRef, text: str
    ) -> TranscriptLine: ...

    async def hand_back(
        self, conversation_id: int, operator: OperatorRef, *, force: bool = False
    ) -> QueueItem: ...

    async def resolve(
        self, conversation_id: int, operator: OperatorRef, *, force: bool = False
    ) -> QueueItem: ...


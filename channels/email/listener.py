"""The SMTP side (aiosmtpd handler): who may be written to, and what a received mail becomes.

RCPT: only the shop's address (550 5.1.1 otherwise). DATA: parse, then either record the
mail in the inbox (250 only after it is durably recorded, 451 when it could not be: the
sending server tries again), or accept and drop what must not be answered (auto-replies,
bulk, bounces: a bounce marks the failed address undeliverable), or refuse what cannot be
read at all (554). The size limit (552) is enforced by aiosmtpd itself (data_size_limit).
"""

from __future__ import annotations

import logging
from typing import Any

from channels.email.automatic import BOUNCE
from channels.email.options import MAX_ANSWER_CHARS, chosen_button
from channels.email.parsing import ParsedMail, UnreadableMail, parse_mail
from channels.email.threading import Thread, storable, thread_of
from dialog.inbox import Inbox
from dialog.manager import DialogManager
from dialog.messages import ConversationKey, Inbound

log = logging.getLogger(__name__)

CHANNEL = "email"
OK = "250 2.0.0 OK: queued"
NOT_OURS = "550 5.1.1 Recipient unknown: this server takes mail for one address only"
NO_SENDER = "550 5.1.7 The message has no sender address to answer"
TRY_LATER = "451 4.3.0 The message could not be recorded now; please try again later"


class MailHandler:
    def __init__(self, address: str, inbox: Inbox, manager: DialogManager) -> None:
        self._address = address.lower()
        self._domain = self._address.rpartition("@")[2]
        self._inbox = inbox
        self._manager = manager

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.strip().strip("<>").lower() != self._address:
            return NOT_OURS
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        try:
            mail = parse_mail(raw, envelope.mail_from, self._domain)
        except UnreadableMail as error:
            log.info("email: unreadable mail refused: %s", error)
            return f"554 5.6.0 {error}"
        try:
            return await self._take(mail)
        except Exception:
            log.exception("email: a received mail could not be recorded")
            return TRY_LATER

    async def _take(self, mail: ParsedMail) -> str:
        if mail.automatic is not None:
            await self._note_automatic(mail)
            return OK
        if mail.sender is None:
            return NO_SENDER
        if mail.sender == self._address:  # our own mail came back: never talk to ourselves
            log.info("email: mail from the bot's own address dropped")
            return OK
        inbound = await self.inbound(mail)
        if not await self._inbox.accept(inbound):  # ids can hold addresses: not logged
            log.info("email: a message seen before was not answered again")
        return OK

    async def inbound(self, mail: ParsedMail) -> Inbound:
        assert mail.sender is not None
        thread = thread_of(
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            sender=mail.sender,
            domain=self._domain,
            fallback_id=mail.fingerprint,
        )
        key = ConversationKey(CHANNEL, thread.chat_id)
        return Inbound(
            key=key,
            text=mail.text,
            action=await self._chosen_action(key, mail.text),
            message_id=storable(mail.message_id or mail.fingerprint),
            sender=mail.sender,
            context=reply_context(mail, thread),
        )

    async def _chosen_action(self, key: ConversationKey, text: str) -> str | None:
        """A reply like "2" picks the second option the bot offered last in this thread."""
        if not text or len(text) > MAX_ANSWER_CHARS:
            return None
        button = chosen_button(text, await self._manager.last_buttons(key))
        return button.payload if button is not None else None

    async def _note_automatic(self, mail: ParsedMail) -> None:
        log.info("email: %s not answered", mail.automatic)
        if mail.automatic != BOUNCE or not mail.failed_recipients:
            return
        for address in mail.failed_recipients:
            if await self._manager.mark_undeliverable(CHANNEL, address):
                log.info("email: a customer's address bounced; marked undeliverable")


def reply_context(mail: ParsedMail, thread: Thread) -> dict[str, Any]:
    """How to answer in this thread (kept with the conversation, handed to every delivery)."""
    return {
        "to": mail.sender,
        "name": mail.sender_name,
        "subject": mail.subject,
        "root": thread.root,
        "references": thread.references,
        "last": thread.last,
    }

"""The SMTP side (aiosmtpd handler): who may be written to, and what a received mail becomes.

A human mail with no text of its own (only the quoted history, a signature) never reaches
the dialog: `on_no_new_text` answers it with a short question instead.

RCPT: only the shop's address (550 5.1.1 otherwise). DATA: parse, then either record the
mail in the inbox (250 only after it is durably recorded, 451 when it could not be: the
sending server tries again), or accept and drop what must not be answered (auto-replies,
bulk, bounces: a bounce marks the failed address undeliverable), or refuse what cannot be
read at all (554). The size limit (552) is enforced by aiosmtpd itself (data_size_limit).

Parsing runs in a worker process (parse_workers.py): a mail not read within the time limit
is refused (552 5.3.4: it would take as long again), and while every worker stays busy the
sender is told to try later (451).

Who wrote: the From address is the customer's identity only when the shop's mail server
authenticated it (authentication.py). Any other sender is a stranger, as a web visitor is:
the Inbound carries no sender (so the dialog asks for the order's proof), the conversation is
one of its own (threading.py), the answer does not repeat the mail's subject or the sender's
name (the From may be a victim's: the answer goes to it), and a new thread counts against the
[limits] for unauthenticated mail; past them it is accepted and not answered. Not 4xx: the
shop's mail server in front of the bot would queue a flood and bring it back for days, keeping
the limits full for real customers; not 5xx: it would bounce to forged senders.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from channels.email.automatic import BOUNCE, OWN_MAIL
from channels.email.options import MAX_ANSWER_CHARS, chosen_button
from channels.email.parse_workers import (
    ParseTimedOut,
    ParseWorkerFailed,
    ParseWorkers,
    ParseWorkersBusy,
)
from channels.email.parsing import ParsedMail, UnreadableMail
from channels.email.threading import Thread, storable, thread_of
from channels.limits import PublicLimits
from dialog.attachment_values import AttachmentRefused
from dialog.messages import ConversationKey, Inbound
from dialog.metrics import Metrics, NoMetrics
from dialog.seam import Conversations, CustomerFiles

log = logging.getLogger(__name__)

CHANNEL = "email"
OK = "250 2.0.0 OK: queued"
NOT_OURS = "550 5.1.1 Recipient unknown: this server takes mail for one address only"
NO_SENDER = "550 5.1.7 The message has no sender address to answer"
TRY_LATER = "451 4.3.0 The message could not be recorded now; please try again later"
BUSY = "451 4.3.2 Too many messages are being read now; please try again later"
TOO_SLOW = "552 5.3.4 The message took too long to read; please send a shorter one"


class MailHandler:
    def __init__(
        self, address: str, conversations: Conversations, *, parser: ParseWorkers,
        authserv_id: str = "", limits: PublicLimits | None = None,
        metrics: Metrics | None = None,
        on_no_new_text: Callable[[ParsedMail, Thread], None] | None = None,
        files: CustomerFiles | None = None,
    ) -> None:
        self._address = address.lower()
        self._files = files
        self._on_no_new_text = on_no_new_text
        self._domain = self._address.rpartition("@")[2]
        self._conversations = conversations
        self._parser = parser
        self._authserv_id = authserv_id
        self._limits = limits
        self._metrics = metrics or NoMetrics()

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
            mail = await self._parser.parse(raw, envelope.mail_from, self._domain,
                                            self._authserv_id)
        except UnreadableMail as error:
            log.info("email: unreadable mail refused: %s", error)
            return f"554 5.6.0 {error}"
        except ParseTimedOut:
            log.warning("email: a mail of %d bytes not read within the time limit; refused",
                        len(raw))
            return TOO_SLOW
        except (ParseWorkersBusy, ParseWorkerFailed) as error:
            log.warning("email: a mail could not be read now (%s); the sender will retry",
                        type(error).__name__)
            return BUSY
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
            log.info("email: mail not answered: own_mail (From of the bot's own address)")
            self._metrics.email_refused(OWN_MAIL)
            return OK
        thread = self._thread(mail)
        key = ConversationKey(CHANNEL, thread.chat_id)
        if not mail.authenticated and not await self._stranger_admitted(key, mail.sender):
            return OK
        attached = await self._kept_files(key, mail)
        if not mail.text and not attached:
            # Only quotes, a signature or nothing: the dialog would take the silence for an
            # answer ("no"?). The channel asks instead whether they meant to write something.
            log.info("email: a mail with no text of its own; asked what the customer meant")
            self._metrics.unanswered(CHANNEL, "no_new_text")
            if self._on_no_new_text is not None:
                self._on_no_new_text(mail, thread)
            return OK
        inbound = replace(await self.inbound(mail, thread), attachments=attached)
        if not await self._conversations.accept(inbound):  # ids can hold addresses: not logged
            log.info("email: a message seen before was not answered again")
        return OK

    async def _kept_files(self, key: ConversationKey, mail: ParsedMail) -> tuple[str, ...]:
        """The ids of the mail's photos and PDFs that passed the checks; a refused one is
        left out (logged, and its refusal counted), the rest of the mail still answered."""
        files = self._files
        kept: list[str] = []
        for file in mail.files if files is not None else ():
            assert files is not None
            try:
                kept.append((await files.keep(key, file.name, file.data)).id)
            except AttachmentRefused as refused:
                log.warning("email: attachment refused: %s", refused.refusal.value)
                self._metrics.refused(f"attachment_{refused.refusal.value}")
        return tuple(kept)

    async def inbound(self, mail: ParsedMail, thread: Thread | None = None) -> Inbound:
        thread = thread or self._thread(mail)
        key = ConversationKey(CHANNEL, thread.chat_id)
        return Inbound(
            key=key,
            text=mail.text,
            action=await self._chosen_action(key, mail.text),
            message_id=storable(mail.message_id or mail.fingerprint),
            # An identity only when authenticated: the dialog then finds the customer by it.
            sender=mail.sender if mail.authenticated else None,
            context=reply_context(mail, thread),
        )

    def _thread(self, mail: ParsedMail) -> Thread:
        assert mail.sender is not None
        return thread_of(
            message_id=mail.message_id,
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            sender=mail.sender,
            domain=self._domain,
            fallback_id=mail.fingerprint,
            authenticated=mail.authenticated,
        )

    async def _stranger_admitted(self, key: ConversationKey, address: str) -> bool:
        """A new thread of an unauthenticated sender within the limits (see the module's
        text); a reply in a conversation that has begun is counted per conversation."""
        if self._limits is None or (await self._conversations.history(key, limit=1))[1]:
            return True
        if await self._limits.unverified_mail_thread_admitted(address):
            return True
        log.info("email: a new thread of an unauthenticated sender past the rate limit; "
                 "accepted, not answered")
        self._metrics.unanswered(CHANNEL, "rate_limited")
        return False

    async def _chosen_action(self, key: ConversationKey, text: str) -> str | None:
        """A reply like "2" picks the second option the bot offered last in this thread."""
        if not text or len(text) > MAX_ANSWER_CHARS:
            return None
        button = chosen_button(text, await self._conversations.last_buttons(key))
        return button.payload if button is not None else None

    async def _note_automatic(self, mail: ParsedMail) -> None:
        """Logged with its kind and the sign that showed it (never an address or a subject),
        counted by kind."""
        assert mail.automatic is not None
        log.info("email: mail not answered: %s (%s)", mail.automatic, mail.automatic_reason)
        self._metrics.email_refused(mail.automatic)
        if mail.automatic != BOUNCE or not mail.failed_recipients:
            return
        for address in mail.failed_recipients:
            if await self._conversations.mark_undeliverable(CHANNEL, address):
                log.info("email: a customer's address bounced; marked undeliverable")


def reply_context(mail: ParsedMail, thread: Thread) -> dict[str, Any]:
    """How to answer in this thread (kept with the conversation, handed to every delivery).
    To an unauthenticated sender nothing of the mail's own words goes back: its From may be
    someone else's, who would get the shop's mail with the forger's subject and name in it."""
    return {
        "to": mail.sender,
        "name": mail.sender_name if mail.authenticated else "",
        "subject": mail.subject if mail.authenticated else "",
        "root": thread.root,
        "references": thread.references,
        "last": thread.last,
        "authenticated": mail.authenticated,
    }

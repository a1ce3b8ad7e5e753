"""The email channel: customers write to the shop's order address and get threaded answers.

In: an SMTP listener (aiosmtpd) on the app's own event loop, meant to sit behind the shop's
mail server (which forwards the order address to it). Out: the shop's relay (aiosmtplib).
See docs/channels/email.md for setting it up and channels/email/threading.py for how threads
map to conversations.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import UTC, datetime
from email.utils import make_msgid, parseaddr
from typing import Any

from aiosmtpd.smtp import SMTP
from fastapi import APIRouter

from channels.email.automatic import AutomaticRules
from channels.email.composing import MailParts, UnsendableReply, compose
from channels.email.listener import CHANNEL, MailHandler, reply_context
from channels.email.parse_workers import ParseWorkers
from channels.email.parsing import ParsedMail
from channels.email.sending import RelaySender
from channels.email.threading import Thread, bot_message_id, chat_id_for
from channels.limits import PublicLimits
from config import EmailSettings, SettingsError
from dialog.messages import Capabilities, ConversationKey, Delivery, DeliveryFailed, Outbound
from dialog.metrics import Metrics
from dialog.proactive import Contact
from dialog.seam import Conversations, CustomerFiles

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # bigger mail is refused with 552 (photos fit, videos not)
QUESTION_WAIT_SECONDS = 10.0  # at stop, for "did you mean to write something?" mails


class EmailChannel:
    name = "email"
    capabilities = Capabilities(senders_are_email=True)  # From, aligned (authentication.py)

    def __init__(
        self,
        settings: EmailSettings,
        conversations: Conversations,
        *,
        base_url: str,
        shop_name: str,
        limits: PublicLimits | None = None,
        metrics: Metrics | None = None,
        files: CustomerFiles | None = None,
    ) -> None:
        _check(settings)
        self._settings = settings
        self._conversations = conversations
        self._shop_name = shop_name
        self.address = settings.address.strip().lower()
        self.domain = self.address.rpartition("@")[2]
        self.parser = ParseWorkers(
            workers=settings.parse_workers, seconds=settings.parse_timeout_seconds,
            rules=AutomaticRules.from_settings(settings.automatic_subjects,
                                               settings.automatic_headers))
        self.handler = MailHandler(self.address, conversations, parser=self.parser,
                                   authserv_id=settings.authserv_id, limits=limits,
                                   metrics=metrics, on_no_new_text=self._ask_what_was_meant,
                                   files=files)
        self._relay = RelaySender(settings)
        self._questions: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def router(self) -> APIRouter | None:
        return None  # mail comes in over SMTP, not HTTP

    async def start(self) -> None:
        # aiosmtpd logs every sender and recipient address at INFO: keep them out of our logs.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        host, port = self._settings.listen_host, self._settings.listen_port
        await self.parser.start()
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(self._session, host, port)
        except OSError as error:
            raise SettingsError(
                f"email.listen_port: cannot listen on {host}:{port} ({error.strerror or error})"
            ) from None
        log.info("email: SMTP listener on %s:%s", host, port)

    async def stop(self) -> None:
        await self.parser.close()
        if self._questions:  # a question on its way to the relay: let it go (bounded there)
            await asyncio.wait(set(self._questions), timeout=QUESTION_WAIT_SECONDS)
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):  # open SMTP sessions end too (3.11 leaves them)
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None

    async def send(self, delivery: Delivery) -> None:
        language, texts, context = delivery.language, self._conversations.texts, delivery.context
        # The first mail of a thread the bot began carries the root's id.
        opens_thread = (delivery.opens_conversation and bool(context.get("proactive"))
                        and not context.get("last"))
        root = context.get("root")
        message_id = (
            root if opens_thread and isinstance(root, str)
            else bot_message_id(delivery.outbound.key.chat_id, self.domain, delivery.outbox_id,
                                delivery.at)
        )
        parts = MailParts(
            address=self.address,
            shop_name=self._shop_name,
            message_id=message_id,
            options_hint=texts.get(language, "email_options_hint"),
            default_subject=texts.get(language, "email_subject", shop=self._shop_name),
            stranger_subject=texts.get(language, "email_subject_unverified",
                                       shop=self._shop_name),
        )
        try:
            message = compose(delivery, parts)
        except UnsendableReply as error:
            raise DeliveryFailed(str(error), permanent=True) from None
        await self._relay.send(message, self.address, str(context["to"]))

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """A new thread to the customer's address; the first mail's Message-ID is its root."""
        if not contact.email:
            return None
        root = make_msgid(domain=self.domain)
        return chat_id_for(root, contact.email), {
            "to": contact.email.lower(),
            "name": contact.name,
            "subject": self._conversations.texts.get(
                contact.language, "email_subject", shop=self._shop_name
            ),
            "root": root,
            "references": [],
            "last": None,
            "proactive": True,
        }

    def _ask_what_was_meant(self, mail: ParsedMail, thread: Thread) -> None:
        """Answer a mail with no text of its own, after the SMTP answer (off its path)."""
        task = asyncio.create_task(self._send_question(mail, thread))
        self._questions.add(task)
        task.add_done_callback(self._questions.discard)

    async def _send_question(self, mail: ParsedMail, thread: Thread) -> None:
        """Straight to the relay, not through the outbox: no conversation is started for a
        mail that said nothing, and a lost question costs the customer one more mail."""
        key = ConversationKey(CHANNEL, thread.chat_id)
        language = mail.language or "en"
        try:
            known, entries = await self._conversations.history(key, limit=1)
            if entries:
                language = known
            texts = self._conversations.texts
            delivery = Delivery(0, 0, Outbound(key, texts.get(language, "email_no_new_text")),
                                datetime.now(UTC).isoformat(), reply_context(mail, thread))
            message = compose(delivery, MailParts(
                address=self.address, shop_name=self._shop_name,
                message_id=make_msgid(domain=self.domain), options_hint="",
                default_subject=texts.get(language, "email_subject", shop=self._shop_name),
                stranger_subject=texts.get(language, "email_subject_unverified",
                                           shop=self._shop_name),
            ))
            await self._relay.send(message, self.address, str(mail.sender))
        except (DeliveryFailed, UnsendableReply) as error:
            log.warning("email: the question about a mail with no text was not sent: %s", error)
        except Exception:
            log.exception("email: the question about a mail with no text was not sent")

    def _session(self) -> SMTP:
        session = SMTP(
            self.handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            hostname=self.domain,  # the default asks DNS for our name on every connection
            ident="orderbot",
        )
        self._sessions.add(session)
        return session


def _check(settings: EmailSettings) -> None:
    _name, address = parseaddr(settings.address)
    local, _, domain = address.rpartition("@")
    if not local or not domain or address != settings.address.strip() or " " in address:
        raise SettingsError("email.address: expected the shop's order address, like "
                            "orders@shop.example")
    for key, port in (("listen_port", settings.listen_port), ("relay_port", settings.relay_port)):
        if not 1 <= port <= 65535:
            raise SettingsError(f"email.{key}: {port} is not a TCP port")
    if not settings.relay_host:
        raise SettingsError("email.relay_host: required (the mail server that sends for the shop)")
    if bool(settings.relay_username) != bool(settings.relay_password):
        raise SettingsError("email.relay_username and email.relay_password go together")

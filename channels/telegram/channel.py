"""The Telegram channel: customers write to the shop's bot in a private chat (aiogram 3).

Updates come in through our own webhook (POST /telegram/webhook, secret checked) or, in
polling mode, through getUpdates; both paths record the update in the inbox and only then
acknowledge it. A customer's message to the webhook is recorded in its turn's own
transaction and acknowledged once that commits (Telegram waits for the 200 anyway; one
transaction instead of two); polling and button presses record first and answer in the
background. aiogram's Dispatcher is not used. Replies go out through the outbox, which calls
send().
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import Update
from aiogram.utils.token import TokenValidationError, validate_token
from fastapi import APIRouter

from channels.telegram.payloads import is_stand_in, original_payload
from channels.telegram.polling import ALLOWED_UPDATES, UpdatePoller
from channels.telegram.presses import PressAnswerer, RecentPresses
from channels.telegram.sending import TelegramSender
from channels.telegram.updates import ButtonPress, Incoming, incoming
from channels.telegram.webhook import WEBHOOK_PATH, make_router
from config import SettingsError, TelegramSettings
from dialog.attachment_values import AttachmentRefused, Refusal
from dialog.messages import Capabilities, Delivery, Inbound
from dialog.proactive import Contact
from dialog.seam import Conversations, CustomerFiles

log = logging.getLogger(__name__)

SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts
MAX_CONNECT_BACKOFF = 60.0


class TelegramChannel:
    name = "telegram"
    capabilities = Capabilities()

    def __init__(
        self,
        settings: TelegramSettings,
        conversations: Conversations,
        *,
        base_url: str,
        shop_name: str,
        files: CustomerFiles | None = None,
    ) -> None:
        _check(settings)
        self._settings = settings
        self._conversations = conversations
        self._files = files
        self.webhook_url = base_url.rstrip("/") + WEBHOOK_PATH
        self.bot = Bot(
            settings.token,
            session=AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base)),
        )
        self.sender = TelegramSender(self.bot)
        self._presses = PressAnswerer(self.bot)
        self._recent_presses = RecentPresses()
        self.username: str | None = None  # the bot's @username, known after start()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def polling(self) -> bool:
        return self._settings.mode == "polling"

    def router(self) -> APIRouter | None:
        """The webhook endpoint; none in polling mode (nothing to expose then)."""
        if self.polling:
            return None
        return make_router(self._settings.webhook_secret, self.receive_answered)

    async def start(self) -> None:
        """getMe, then setWebhook (or deleteWebhook and polling). A token or webhook URL that
        Telegram refuses stops the start; an unreachable Telegram is retried in the background.
        """
        try:
            await self._connect()
        except _Unreachable as error:
            log.warning("telegram: Bot API not reachable (%s); retrying in the background",
                        error)
            self._spawn(self._connect_later())
            return
        if self.polling:
            self._spawn(UpdatePoller(self.bot, self.receive).run())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bot.session.close()

    async def send(self, delivery: Delivery) -> None:
        outbound = delivery.outbound
        text = outbound.text
        if outbound.sender == "operator":
            text = f"{self._operator_label(delivery)}: {text}"
        await self.sender.deliver(delivery.outbox_id, outbound.key.chat_id, text,
                                  outbound.buttons)

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """Only a customer who wrote to the bot can be written to (their private chat id is
        their user id); Telegram bots cannot start a chat with a phone number or email."""
        user = contact.identities.get(self.name)
        return (user, {}) if user else None

    async def receive(self, update: Update) -> None:
        """Record what the update says (a replay records nothing), then answer a press."""
        await self._receive(update, answered=False)

    async def receive_answered(self, update: Update) -> None:
        """receive(), a message answered before this returns, in its record's transaction."""
        await self._receive(update, answered=True)

    async def _receive(self, update: Update, *, answered: bool) -> None:
        event = incoming(update)
        if event is None:
            if update.callback_query is not None:  # a press we do not handle: stop its spinner
                self._spawn(self._presses.answer(update.callback_query.id))
            return
        if event.press is not None:
            return await self._receive_press(event.inbound, event.press)
        if event.files:
            inbound = await self._with_files(event)
            if inbound is None:
                return
            event = replace(event, inbound=inbound)
        if answered:
            await self._conversations.accept_answered(event.inbound)
        elif not await self._conversations.accept(event.inbound):
            log.info("telegram: %s seen before, not answered again", event.inbound.message_id)

    async def _with_files(self, event: Incoming) -> Inbound | None:
        """The message with its photo or document kept (the customer is told of a refused
        one); None when nothing is left to record. A file Telegram cannot hand over raises:
        the update is then not acknowledged, and comes again."""
        inbound, files = event.inbound, self._files
        kept: list[str] = []
        for file in event.files if files is not None else ():
            assert files is not None
            try:
                if file.size is not None and file.size > files.max_bytes:
                    raise AttachmentRefused(Refusal.TOO_LARGE)
                try:
                    fetched = await self.bot.download(file.file_id)
                except TelegramBadRequest:  # Telegram will never hand this file over
                    raise AttachmentRefused(Refusal.BROKEN) from None
                data = fetched.read() if fetched is not None else b""
                kept.append((await files.keep(inbound.key, file.name, data)).id)
            except AttachmentRefused as refused:
                log.warning("telegram: attachment refused: %s", refused.refusal.value)
                self._spawn(self._tell_refused(inbound, refused.refusal, files.max_bytes))
        if not kept and not inbound.text and inbound.action is None:
            return None
        return replace(inbound, attachments=tuple(kept))

    async def _tell_refused(self, inbound: Inbound, refusal: Refusal, max_bytes: int) -> None:
        text = self._conversations.texts.get(
            inbound.language or "en", f"attachment_refused_{refusal.value}",
            limit_mb=max_bytes // (1024 * 1024))
        try:
            await self.bot.send_message(int(inbound.key.chat_id), text)
        except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError):
            log.warning("telegram: could not tell a customer their file was refused")

    async def _receive_press(self, inbound: Inbound, press: ButtonPress) -> None:
        """Every press is answered, also when it cannot be recorded (Telegram then sends it
        again); a press Telegram delivers twice is answered once."""
        if not await self._recent_presses.first_delivery(press.query_id):
            log.info("telegram: press %s delivered again, answered before", inbound.message_id)
            return
        accepted: bool | None = None
        try:
            if is_stand_in(inbound.action):
                inbound = replace(inbound, action=await self._original_payload(inbound))
            accepted = await self._conversations.accept(inbound)
        finally:
            self._recent_presses.done(press.query_id, accepted)
            notice = None
            if accepted is False:  # another press on the same message came first
                log.info("telegram: %s seen before, not answered again", inbound.message_id)
                notice = self._conversations.texts.get(press.language or "en",
                                                 "telegram_already_chosen")
            self._spawn(self._presses.acknowledge(press, accepted, notice))

    async def _original_payload(self, inbound: Inbound) -> str:
        """The payload a stand-in button stood for, from the buttons the bot showed in this
        chat; the stand-in itself (answered as not understood) if none of them had it."""
        assert inbound.action is not None
        _language, entries = await self._conversations.history(inbound.key)
        offered = [button for entry in reversed(entries) if entry.sender != "customer"
                   for button in entry.buttons]
        payload = original_payload(inbound.action, offered)
        if payload is None:
            log.info("telegram: %s pressed a button not offered in its chat", inbound.message_id)
        return payload or inbound.action

    # Setup

    async def _connect(self) -> None:
        """Raises SettingsError for what Telegram refuses, _Unreachable for the rest."""
        try:
            me = await self.bot.get_me()
            self.username = me.username
            if self.polling:
                await self.bot.delete_webhook()
            else:
                await self.bot.set_webhook(
                    url=self.webhook_url,
                    secret_token=self._settings.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
        except (TelegramUnauthorizedError, TelegramNotFound):
            raise SettingsError("telegram.token: Telegram did not accept the bot token") from None
        except TelegramBadRequest as error:  # setWebhook: "An HTTPS URL must be provided"...
            raise SettingsError(
                f"http.public_url: Telegram refused the webhook URL {self.webhook_url}: "
                f"{error.message}"
            ) from None
        except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError) as error:
            raise _Unreachable(type(error).__name__) from None
        log.info("telegram: connected as @%s (%s)", self.username, self._settings.mode)

    async def _connect_later(self) -> None:
        backoff = 1.0
        while True:
            await asyncio.sleep(backoff)
            try:
                await self._connect()
            except _Unreachable:
                backoff = min(backoff * 2, MAX_CONNECT_BACKOFF)
                continue
            except SettingsError as error:
                log.error("telegram: %s", error)
                return
            break
        if self.polling:
            await UpdatePoller(self.bot, self.receive).run()

    # Sending

    def _operator_label(self, delivery: Delivery) -> str:
        texts, author = self._conversations.texts, delivery.outbound.author
        if author:
            return texts.get(delivery.language, "telegram_operator_named", name=author)
        return texts.get(delivery.language, "telegram_operator")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Unreachable(Exception):
    """The Bot API could not be asked (network, server error): try again later."""


def _check(settings: TelegramSettings) -> None:
    if not settings.token:
        raise SettingsError("telegram.token: required when telegram.enabled is true "
                            "(the token @BotFather gave the bot)")
    try:
        validate_token(settings.token)
    except TokenValidationError:
        raise SettingsError("telegram.token: expected the token @BotFather gave the bot, "
                            "like 123456789:AAE...") from None
    if not settings.api_base.startswith(("http://", "https://")):
        raise SettingsError("telegram.api_base: expected an http:// or https:// URL")
    if settings.mode == "webhook" and not SECRET_PATTERN.fullmatch(settings.webhook_secret):
        raise SettingsError(
            "telegram.webhook_secret: required in webhook mode, 1-256 characters of A-Z, a-z, "
            "0-9, _ and - (Telegram sends it with every update; forged updates lack it)"
        )

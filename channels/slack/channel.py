"""The Slack channel: customers write to the bot in direct messages and press its buttons;
with [slack] operators_channel set, operators take escalations there (operators.py).

Slack posts Events API and interactivity payloads to POST /slack/events. checks.py refuses
what is too large (413), not signed within 5 minutes (401) or not a Slack payload (400); Bolt
(AsyncApp) then answers url_verification and routes the payload to our listeners. A
listener records the message in the inbox and only then acknowledges; the turn runs after the
acknowledgement, from the record.

process_before_response=True: Bolt answers Slack only after the listener returned. With False
Bolt would answer 200 first and run the listener afterwards, so a message whose recording
failed (database down, process stopped) would be lost, since Slack does not resend what it saw
acknowledged. Recording takes milliseconds, well inside Slack's 3 seconds; a failure answers
500 and Slack retries (X-Slack-Retry-Num), and the retry of a recorded event is a replay.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from slack_bolt.adapter.starlette.async_handler import (
    to_async_bolt_request,
    to_starlette_response,
)
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from channels.slack.blocks import ACTION_PREFIX, OPERATOR_ACTION_PREFIX, chosen, render
from channels.slack.checks import MAX_BODY_BYTES, malformed, signed
from channels.slack.events import ButtonPress, button_press, direct_message
from channels.slack.operators import OperatorsBridge
from channels.slack.profiles import UserProfiles
from channels.slack.sending import ChannelPacer, SlackPoster, with_retries
from channels.slack.threads import SlackThreads
from config import SettingsError, SlackSettings
from dialog.messages import Capabilities, Delivery, DeliveryFailed
from dialog.proactive import Contact
from dialog.seam import Conversations, Desk
from http_guards.bodies import read_body
from storage.database import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackChannel:
    name = "slack"
    capabilities = Capabilities()

    def __init__(
        self,
        settings: SlackSettings,
        conversations: Conversations,
        *,
        base_url: str,
        shop_name: str,
        desk: Desk | None = None,
        database: Database | None = None,
    ) -> None:
        _check(settings)
        self._conversations = conversations
        self._signing_secret = settings.signing_secret
        self.client = AsyncWebClient(
            token=settings.bot_token,
            base_url=settings.api_base.rstrip("/") + "/",  # slack_sdk joins base_url + method
            retry_handlers=[],  # the outbox retries (see sending.py)
        )
        self._app = AsyncApp(
            signing_secret=settings.signing_secret,
            client=self.client,
            process_before_response=True,
        )
        self._profiles = UserProfiles(self.client)
        self._poster = SlackPoster(self.client)
        self.pacer = ChannelPacer()
        self._tasks: set[asyncio.Task[None]] = set()
        self.operators: OperatorsBridge | None = None
        if settings.operators_channel and desk is not None and database is not None:
            self.operators = OperatorsBridge(
                channel=settings.operators_channel, desk=desk, threads=SlackThreads(database),
                poster=self._poster, profiles=self._profiles, pace=self._pace,
            )
        self._listen()

    async def start(self) -> None:
        self._spawn(self._check_token())
        if self.operators is not None:
            await self.operators.start()

    async def stop(self) -> None:
        if self.operators is not None:
            await self.operators.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _pace(self, channel: str) -> None:
        await self.pacer.wait(channel)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["slack"])

        @router.post(EVENTS_PATH, include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            return await self._receive(request)

        return router

    async def _receive(self, request: Request) -> Response:
        """Checks in this order: size, signature (nothing unsigned is parsed), shape."""
        body = await read_body(request, MAX_BODY_BYTES)
        if body is None:
            return PlainTextResponse("request body too large", status_code=413)
        if not signed(self._signing_secret, request.headers, body):
            return PlainTextResponse("invalid signature or stale timestamp", status_code=401)
        problem = malformed(body, request.headers.get("content-type"))
        if problem is not None:
            return PlainTextResponse(f"malformed request body: {problem}", status_code=400)
        try:
            answer = await self._app.async_dispatch(to_async_bolt_request(request, body))
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            # A payload shaped unlike Slack's that Bolt could not read (never logged).
            log.warning("slack payload refused: %s", type(error).__name__)
            return PlainTextResponse("malformed request body", status_code=400)
        return to_starlette_response(answer)

    async def send(self, delivery: Delivery) -> None:
        channel = delivery.context.get("channel") or delivery.outbound.key.chat_id
        text, blocks = render(delivery.outbound)
        await self.pacer.wait(channel)
        await self._poster.post(channel, text, blocks)

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """A direct message to a customer whose Slack user id we know."""
        user = contact.identities.get(self.name)
        if not user:
            return None
        try:
            channel = await self._poster.open_direct(user)
        except DeliveryFailed as failure:
            log.warning("slack: no direct message with customer %s: %s",
                        contact.customer_id, failure)
            return None
        return channel, {"channel": channel}

    # Listeners: the first one that matches runs (Bolt), so the catch-alls come last and keep
    # Slack from seeing a 404 for events and actions we do not use.

    def _listen(self) -> None:
        app = self._app

        @app.event("message")
        async def on_message(body: dict[str, Any], context: AsyncBoltContext) -> None:
            await self._on_message(body, context.bot_user_id)

        @app.action(re.compile(f"^{ACTION_PREFIX}"))
        async def on_button(body: dict[str, Any], ack: AsyncAck) -> None:
            await self._on_button(body, ack)

        @app.action(re.compile(f"^{OPERATOR_ACTION_PREFIX}"))
        async def on_operator_button(body: dict[str, Any], ack: AsyncAck) -> None:
            if self.operators is not None:
                await self.operators.on_press(body)
            await ack()

        @app.event(re.compile(".*"))
        async def on_other_event() -> None:
            return None

        @app.action(re.compile(".*"))
        async def on_other_action(ack: AsyncAck) -> None:
            await ack()

        @app.error
        async def on_error(error: Exception) -> None:
            # Bolt answers Slack 500 (so Slack sends an event again). Its own handler would
            # log the error's text, which can quote the customer's message (a database error
            # shows the statement's parameters): the type is enough to go on.
            log.error("slack request failed, answered 500: %s", type(error).__name__)

    async def _on_message(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        inbound = direct_message(body, bot_user_id)
        if inbound is None:
            if self.operators is not None:
                await self.operators.on_message(body, bot_user_id)
            return
        assert inbound.sender is not None
        profile = await self._profiles.get(inbound.sender)
        if not await self._conversations.accept(replace(inbound, language=profile.language)):
            log.info("slack event %s seen before, not answered again", inbound.message_id)

    async def _on_button(self, body: dict[str, Any], ack: AsyncAck) -> None:
        press = button_press(body)
        if press is None:
            await ack()
            return
        assert press.inbound.sender is not None
        language = self._profiles.cached(press.inbound.sender).language
        accepted = await self._conversations.accept(replace(press.inbound, language=language))
        await ack()
        if accepted:
            self._spawn(self._show_choice(press))
        else:
            log.info("slack: a second press on message %s ignored", press.message_ts)

    async def _show_choice(self, press: ButtonPress) -> None:
        """Replace the pressed message's buttons with the choice, so nobody presses twice.

        Retried like a reply (Retry-After honoured), a few times: the press itself is already
        recorded, so a second press on buttons left in place changes nothing either way.
        """
        blocks = chosen(press.message_blocks, press.title)
        try:
            await with_retries(lambda: self._poster.update(
                press.channel, press.message_ts, press.message_text, blocks))
        except DeliveryFailed as failure:
            log.warning("slack: buttons of message %s not replaced: %s",
                        press.message_ts, failure)

    async def _check_token(self) -> None:
        """Say early, in the log, whether Slack accepts the bot token."""
        try:
            identity = await self._poster.identity()
        except DeliveryFailed as failure:
            log.warning("slack: the bot token was not accepted (%s): check slack.bot_token "
                        "and slack.api_base", failure)
            return
        log.info("slack: connected to team %s as bot user %s",
                 identity.get("team_id"), identity.get("user_id"))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _check(settings: SlackSettings) -> None:
    for key in ("bot_token", "signing_secret", "api_base"):
        if not getattr(settings, key):
            raise SettingsError(f"slack.{key}: required when slack.enabled is true")

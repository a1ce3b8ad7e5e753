"""The web chat channel: a session endpoint, a WebSocket per open widget, and widget.js.

Replies travel over pub/sub (topic "webchat:<conversation id>") so that they reach the
customer's WebSocket whichever bot process holds it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import (
    APIRouter,
    Header,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from channels.limits import PublicLimits
from channels.webchat.attachments import attachments_router
from channels.webchat.frames import frame_id, read_frame
from channels.webchat.identity import identity_refusal
from channels.webchat.live import (
    TYPING_AFTER_SECONDS,
    CustomerTyping,
    operator_typing_frames,
    presence_frames,
    typing_while,
)
from config import WebchatSettings
from coordination.base import PubSub
from dialog.availability import TeamAvailability
from dialog.desk import PRESENCE_TOPIC, TYPING_TOPIC
from dialog.messages import Capabilities, ConversationKey, Delivery, Inbound
from dialog.proactive import Contact
from dialog.seam import Conversations, CustomerFiles
from dialog.state import HistoryEntry
from dialog.transcript_mail import TranscriptMail, TranscriptMailed

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CLOSE_BAD_TOKEN = 4401  # unknown, expired or replaced: the widget starts a new session
CLOSE_BAD_ORIGIN = 4403
CLOSE_TOO_MANY = 4429  # more open sockets on one conversation than allowed
TRANSCRIPT_EVERY_SECONDS = 60  # "Email me this conversation" at most this often per chat
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": the WebSocket's 503


class _CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    name: Annotated[str, Field(max_length=200)] | None = None


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: _CustomerIn | None = None
    signature: Annotated[str, Field(max_length=128)] | None = None
    timestamp: Annotated[int, Field(ge=0, le=10**11)] | None = None  # unix seconds, signed
    language: Literal["en", "pl", "ru"] | None = None
    link: Annotated[str, Field(max_length=64)] | None = None
    resume: Annotated[str, Field(max_length=100)] | None = None  # a token to replace


class TranscriptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(min_length=1, max_length=100)]


class WebchatChannel:
    name = "webchat"
    capabilities = Capabilities()

    def __init__(
        self, conversations: Conversations, pubsub: PubSub, settings: WebchatSettings,
        base_url: str, limits: PublicLimits | None = None, clock: Callable[[], float] = time.time,
        files: CustomerFiles | None = None,
        team: TeamAvailability | None = None, transcripts: TranscriptMail | None = None,
        customer_typing: Callable[[ConversationKey], Awaitable[None]] | None = None,
    ) -> None:
        self._conversations = conversations
        self._team = team
        self._transcripts = transcripts
        # When each conversation's transcript was last mailed (this process): a token holder
        # cannot fill the customer's mailbox.
        self._mailed: dict[str, float] = {}
        # "The customer is typing", told to the desk (docs/channels/webchat.md).
        self._customer_typing = CustomerTyping(customer_typing)
        self._files = files
        self._clock = clock
        # The inbox's id of a message sent without the client's own: unique across processes
        # and restarts (a random prefix) without reading the system's randomness per message.
        self._own_prefix = f"{secrets.token_hex(12)}-"
        self._own_count = itertools.count()
        if settings.identity_legacy:
            log.warning("[webchat] identity_legacy is on: signatures of the email alone are "
                        "accepted and never expire (deprecated; sign email:timestamp)")
        # Open sockets per conversation in this process: one token opened in 300 tabs (or by
        # a script) must not hold 300 subscriptions.
        self._sockets: Counter[str] = Counter()
        self._limits = limits
        self._pubsub = pubsub
        self._settings = settings
        own = urlsplit(base_url)
        self._origins = {f"{own.scheme}://{own.netloc}"} | {
            origin.rstrip("/") for origin in settings.allowed_origins
        }

    @property
    def allowed_origins(self) -> list[str]:
        return sorted(self._origins)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def open_conversation(self, contact: Contact) -> tuple[str, dict[str, Any]] | None:
        """Anyone can be reached here: the message waits until they open the widget."""
        return secrets.token_hex(16), {}

    async def send(self, delivery: Delivery) -> None:
        outbound = delivery.outbound
        frame = {
            "type": "message",
            "id": delivery.message_id,
            "from": outbound.sender,
            "text": outbound.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in outbound.buttons],
            "at": delivery.at,
        }
        if outbound.author:
            frame["author"] = outbound.author
        if outbound.rich:
            frame.update(_rich(outbound.rich))
        await self._pubsub.publish(f"webchat:{outbound.key.chat_id}", json.dumps(frame))

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers always send Origin; a client without one is not a browser page."""
        return origin is None or "*" in self._origins or origin.rstrip("/") in self._origins

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/webchat", tags=["webchat"])
        if self._files is not None:
            router.include_router(attachments_router(
                self._conversations, self._files, self._limits, self.origin_allowed))

        @router.get("/widget.js", include_in_schema=False)
        async def widget() -> FileResponse:
            return FileResponse(
                STATIC / "widget.js",
                media_type="text/javascript",
                headers={"Cache-Control": "public, max-age=300"},
            )

        @router.get("/chat", include_in_schema=False)
        async def chat_page() -> FileResponse:
            """A page with nothing but the chat: where an order's chat link leads."""
            return FileResponse(STATIC / "chat.html", media_type="text/html")

        @router.get("/team")
        async def team(
            language: Literal["en", "pl", "ru"] = "en",
            origin: Annotated[str | None, Header()] = None,
        ) -> dict[str, Any]:
            """The welcome screen's availability line: asked before any session exists, so
            that a page view stores nothing."""
            if not self.origin_allowed(origin):
                raise HTTPException(403, "the chat is not enabled for this site")
            if self._team is None:
                return {"available": None, "back_at": None, "text": ""}
            now = self._team.now(language)
            return {"available": now.available,
                    "back_at": now.back_at.isoformat() if now.back_at else None,
                    "text": now.text}

        @router.post("/transcript", status_code=202)
        async def mail_transcript(
            body: TranscriptIn, origin: Annotated[str | None, Header()] = None
        ) -> dict[str, str]:
            """"Email me this conversation", to the address of the customer it is tied to."""
            if not self.origin_allowed(origin):
                raise HTTPException(403, "the chat is not enabled for this site")
            key = await self._conversations.resolve_token(body.token)
            if key is None:
                raise HTTPException(404, "this chat session has ended")
            if self._transcripts is None:
                raise HTTPException(409, "conversations cannot be emailed from this shop")
            last = self._mailed.get(key.chat_id)
            if last is not None and self._clock() - last < TRANSCRIPT_EVERY_SECONDS:
                raise HTTPException(429, "this conversation was emailed a moment ago")
            mailed = await self._transcripts.send(key)
            if mailed is TranscriptMailed.NO_ADDRESS:
                raise HTTPException(409, "we do not know your email address in this chat")
            if mailed is TranscriptMailed.NO_EMAIL:
                raise HTTPException(409, "conversations cannot be emailed from this shop")
            self._mailed[key.chat_id] = self._clock()
            return {"status": "sent"}

        @router.post("/session")
        async def open_session(
            body: SessionIn, request: Request, origin: Annotated[str | None, Header()] = None
        ) -> dict[str, str]:
            if not self.origin_allowed(origin):
                raise HTTPException(403, "the chat is not enabled for this site")
            if self._limits is not None:
                await self._limits.session_opened(request)
            if body.resume is not None:
                return await self._resume(body)
            email = None
            if body.customer is not None and body.signature is not None:
                refused = identity_refusal(
                    self._settings.identity_secret, body.customer.email, body.signature,
                    body.timestamp, max_age_seconds=self._settings.identity_max_age_seconds,
                    legacy=self._settings.identity_legacy, now=self._clock(),
                )
                if refused is not None:
                    raise HTTPException(403, refused)
                email = body.customer.email
            elif body.customer is not None or body.signature is not None:
                raise HTTPException(422, "customer and signature go together")
            opened = await self._conversations.open_session(
                self.name,
                secrets.token_hex(16),
                body.language,
                verified_email=email,
                customer_name=body.customer.name if body.customer else None,
                link_token=body.link,
            )
            if opened is None:
                raise HTTPException(404, "this chat link is not valid")
            token, key = opened
            return {"token": token, "conversation_id": key.chat_id}

        @router.websocket("/ws")
        async def chat(
            websocket: WebSocket, token: Annotated[str, Query(max_length=100)] = "",
            live: bool = False,
        ) -> None:
            # live=true: the client shows the live frames (typing, an operator joining), as
            # the widget does; a client that does not ask gets none, as before they existed.
            await self._serve(websocket, token, live)

        return router

    async def _resume(self, body: SessionIn) -> dict[str, str]:
        """The widget's stored token swapped for a new one: the same conversation."""
        if body.customer or body.signature or body.timestamp is not None or body.link:
            raise HTTPException(422, "resume goes alone: no customer, signature or link")
        assert body.resume is not None
        resumed = await self._conversations.resume_session(body.resume)
        if resumed is None:
            raise HTTPException(404, "this chat session has ended")
        token, key = resumed
        return {"token": token, "conversation_id": key.chat_id}

    async def _serve(self, websocket: WebSocket, token: str, live: bool = False) -> None:
        await websocket.accept()
        if not self.origin_allowed(websocket.headers.get("origin")):
            await websocket.close(CLOSE_BAD_ORIGIN, "origin not allowed")
            return
        try:
            key = await self._conversations.resolve_token(token) if token else None
        except Exception as error:  # the database away: the widget reconnects later
            log.warning("web chat socket refused, token not checked: %s", type(error).__name__)
            await websocket.close(CLOSE_TRY_AGAIN, "try again later")
            return
        if key is None:
            await websocket.close(CLOSE_BAD_TOKEN, "unknown session")
            return
        if self._sockets[key.chat_id] >= self._settings.max_sockets_per_conversation:
            await websocket.close(CLOSE_TOO_MANY, "too many open chats")
            return
        self._sockets[key.chat_id] += 1
        try:
            await self._converse(websocket, key, live)
        finally:
            self._sockets[key.chat_id] -= 1
            if self._sockets[key.chat_id] <= 0:
                del self._sockets[key.chat_id]

    async def _converse(
        self, websocket: WebSocket, key: ConversationKey, live: bool = False
    ) -> None:
        sending = asyncio.Lock()
        client = websocket.client.host if websocket.client else None  # proofs counted per address

        async def push(data: str) -> None:
            async with sending:
                await websocket.send_text(data)

        async def refuse(reason: str, client_id: str | int | None) -> None:
            """An error frame, with the id of the refused message: the widget stops resending
            it (nothing of it was kept; the customer may send it again)."""
            frame: dict[str, Any] = {"type": "error", "reason": reason}
            if client_id is not None:
                frame["id"] = client_id
            await push(json.dumps(frame))

        subscription = await self._pubsub.subscribe(f"webchat:{key.chat_id}", push)
        live_frames = [
            await self._pubsub.subscribe(TYPING_TOPIC.format(key=key),
                                         operator_typing_frames(push)),
            await self._pubsub.subscribe(PRESENCE_TOPIC.format(key=key),
                                         presence_frames(push)),
        ] if live else []
        try:
            texts = self._conversations.texts
            language = await self._send_history(key, push)
            while True:
                raw = await websocket.receive_text()
                parsed, error = self._parse(key, raw, language, client)
                if error is not None:
                    await refuse(error, frame_id(raw))
                    continue
                if parsed is None:  # the customer is typing: the desk is told, nothing kept
                    await self._customer_typing.publish(key)
                    continue
                inbound, client_id = parsed
                if self._limits is not None and not await self._limits.message_admitted(key):
                    await refuse(texts.get(language, "error_too_many"), client_id)
                    continue
                try:
                    # Recorded in the inbox and answered in the turn's one transaction; a
                    # turn that takes a while (a courier's API) shows "typing" meanwhile.
                    answered = self._conversations.answer(inbound)
                    if live:
                        await typing_while(answered, push, TYPING_AFTER_SECONDS)
                    else:
                        await answered
                except Exception:
                    # The turn's transaction was rolled back: nothing of the message was kept.
                    # Say so and keep the socket open, so that the customer can send it again.
                    log.exception("web chat turn failed; the customer is asked to resend")
                    await refuse(texts.get(language, "error_not_processed"), client_id)
                    continue
                if client_id is not None:
                    await push(json.dumps({"type": "ack", "id": client_id}))
        except WebSocketDisconnect:
            pass
        finally:
            await subscription.close()
            for live_subscription in live_frames:
                await live_subscription.close()

    async def _send_history(
        self, key: ConversationKey, push: Callable[[str], Awaitable[None]]
    ) -> str:
        """The history frame, and the conversation's language. A function of its own so that
        the entries (up to 200) are not held by the socket's frame while it waits for the
        customer, which is most of its life."""
        language, history = await self._conversations.history(key)
        await push(json.dumps({"type": "history", "messages": [_entry(e) for e in history]}))
        return language

    def _parse(
        self, key: ConversationKey, raw: str, language: str, client: str | None = None
    ) -> tuple[tuple[Inbound, str | int | None] | None, str | None]:
        """The customer's frame as an Inbound with the client's id of it, or the reason it is
        refused (in their language); neither for a "typing" frame."""
        texts, limit = self._conversations.texts, self._settings.max_message_chars
        frame = read_frame(raw)
        if frame is None:
            return None, texts.get(language, "error_bad_request")
        # The inbox's platform id: the client's id (a resend is a duplicate), else a new one.
        if frame.type == "typing":
            return None, None
        own = (f"{key.chat_id}:{frame.id}" if frame.id is not None
               else f"{self._own_prefix}{next(self._own_count)}")
        if frame.type == "action":
            if not frame.payload:
                return None, texts.get(language, "error_bad_request")
            return (Inbound(key=key, action=frame.payload, client=client, message_id=own),
                    frame.id), None
        text = frame.text.strip()
        attached = tuple(dict.fromkeys(frame.attachments)) if self._files is not None else ()
        if not text and not attached:
            return None, texts.get(language, "error_bad_request")
        if len(text) > limit:
            return None, texts.get(language, "error_too_long", limit=limit)
        return (Inbound(key=key, text=text, client=client, message_id=own,
                        attachments=attached), frame.id), None


def _entry(entry: HistoryEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "from": entry.sender,
        "text": entry.text,
        "buttons": [{"title": b.title, "payload": b.payload} for b in entry.buttons],
        "at": entry.at.isoformat(),
    }
    if entry.author:
        item["author"] = entry.author
    if entry.attachments:
        item["attachments"] = [a.to_json() for a in entry.attachments]
    item.update(_rich(entry.rich))
    return item


def _rich(rich: dict[str, Any] | None) -> dict[str, Any]:
    """A reply's optional structure as the frame's own fields ("card", "documents",
    "operator")."""
    return {name: value for name, value in (rich or {}).items()
            if name in ("card", "documents", "operator")}

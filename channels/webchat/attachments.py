"""The web chat's attachments over HTTP: the widget uploads a file (multipart, with the
session token in X-Chat-Token), then sends a message that carries its id; the customer's
own files come back only with the same conversation's token (any other: 404)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, HTTPException, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from channels.limits import PublicLimits
from dialog.attachment_values import AttachmentRefused, Refusal
from dialog.messages import ConversationKey
from dialog.seam import Conversations, CustomerFiles
from http_guards.downloads import download

log = logging.getLogger(__name__)
UPLOAD_PATH = "/webchat/attachments"
# The multipart envelope around the file: the body limit of the upload is the file's plus this.
ENVELOPE_BYTES = 64 * 1024
_STATUS = {Refusal.TOO_LARGE: 413, Refusal.TYPE: 415, Refusal.SCANNER: 503}


def attachments_router(
    conversations: Conversations, files: CustomerFiles, limits: PublicLimits | None,
    origin_allowed: Callable[[str | None], bool],
) -> APIRouter:
    router = APIRouter()  # included in the web chat's own, under /webchat

    async def conversation_of(token: str | None, origin: str | None) -> ConversationKey:
        if not origin_allowed(origin):
            raise HTTPException(403, "the chat is not enabled for this site")
        key = await conversations.resolve_token(token) if token else None
        if key is None:
            raise HTTPException(401, "unknown or expired chat session")
        return key

    @router.post("/attachments", status_code=201, response_model=None)
    async def upload(
        file: Annotated[UploadFile, File()],
        x_chat_token: Annotated[str | None, Header(max_length=100)] = None,
        origin: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any] | JSONResponse:
        """Check and keep one photo or PDF; {"attachment": {id, name, type, size, image}}."""
        key = await conversation_of(x_chat_token, origin)
        language, _ = await conversations.history(key, limit=0)
        if limits is not None and not await limits.message_admitted(key):
            raise HTTPException(429, conversations.texts.get(language, "error_too_many"))
        data = await file.read(files.max_bytes + 1)
        try:
            ref = await files.keep(key, file.filename or "", data)
        except AttachmentRefused as refused:
            log.warning("web chat attachment refused: %s", refused.refusal.value)
            text = conversations.texts.get(
                language, f"attachment_refused_{refused.refusal.value}",
                limit_mb=files.max_bytes // (1024 * 1024))
            return JSONResponse({"detail": text, "reason": refused.refusal.value},
                                status_code=_STATUS.get(refused.refusal, 422))
        return {"attachment": ref.to_json()}

    @router.get("/attachments/{attachment_id}")
    async def fetch(
        attachment_id: str,
        x_chat_token: Annotated[str | None, Header(max_length=100)] = None,
        origin: Annotated[str | None, Header()] = None,
    ) -> FileResponse:
        key = await conversation_of(x_chat_token, origin)
        found = await files.for_customer(key, attachment_id)
        if found is None:
            raise HTTPException(404, "no such attachment")
        ref = found.ref
        return download(found.path, ref.content_type, ref.name, inline=ref.is_image)

    return router

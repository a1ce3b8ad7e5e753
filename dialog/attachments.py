"""Customers' attachments: a photo or PDF checked by its content (dialog/attachment_checks.py),
optionally scanned, stored under a random name outside the web root, and handed out only to
the customer whose conversation it belongs to and to operators.

A channel keeps a file first (`keep`, under the conversation's key) and then sends the message
that carries its id (Inbound.attachments); recording that message joins the attachment to the
conversation and the message (ConversationStore.record_turn). An attachment no message took
is shown to nobody but the customer who uploaded it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from dialog.attachment_checks import inspect
from dialog.attachment_values import AttachmentRef, AttachmentRefused, Refusal, StoredAttachment
from dialog.messages import ConversationKey
from dialog.unit_of_work import Repositories, UnitOfWorkFactory
from storage.clock import utcnow
from storage.daily_cleanup import DailyCleanup
from storage.files import FileStore

log = logging.getLogger(__name__)
MAX_NAME_CHARS = 100
SWEEP = "attachment_sweep"  # the daily job's kind
# A flow step that waits for a file: a file alone answers it instead of "got your file".
ASKS_FOR_FILE = "photo"


class VirusScanner(Protocol):
    async def scan(self, data: bytes) -> str | None:
        """None for a clean file, else what was found; OSError or TimeoutError when the
        scanner cannot be asked (adapters/virus_scan/clamd.py)."""


@dataclass(frozen=True, slots=True)
class Download:
    """A file to send: where it is and how it is described."""

    ref: AttachmentRef
    path: Path


class Attachments:
    def __init__(
        self, units: UnitOfWorkFactory, files: FileStore, max_bytes: int,
        scanner: VirusScanner | None = None,
    ) -> None:
        self._units = units
        self._files = files
        self.max_bytes = max_bytes
        self._scanner = scanner

    async def keep(self, key: ConversationKey, name: str, data: bytes) -> AttachmentRef:
        """Check and store a customer's file; raises AttachmentRefused saying why not (then
        nothing is kept)."""
        checked = await asyncio.to_thread(inspect, data, self.max_bytes)
        if self._scanner is not None:
            await self._scan(self._scanner, checked.data)
        stored_path = await asyncio.to_thread(self._files.write, checked.data, checked.extension)
        ref = AttachmentRef(secrets.token_urlsafe(16), shown_name(name, checked.extension),
                            checked.content_type, len(checked.data))
        try:
            async with self._units() as uow:
                await uow.attachments.add(StoredAttachment(
                    ref=ref, channel=key.channel, chat_id=key.chat_id, conversation_id=None,
                    transcript_id=None, sha256=hashlib.sha256(checked.data).hexdigest(),
                    stored_path=stored_path, created_at=utcnow(),
                ))
                await uow.commit()
        except BaseException:
            self._files.remove(stored_path)  # no row, no file
            raise
        log.info("attachment kept: %s, %d bytes", ref.content_type, ref.size)
        return ref

    async def _scan(self, scanner: VirusScanner, data: bytes) -> None:
        try:
            found = await scanner.scan(data)
        except (OSError, TimeoutError):
            log.warning("the virus scanner did not answer: attachment refused")
            raise AttachmentRefused(Refusal.SCANNER) from None
        if found is not None:
            log.warning("the virus scanner found %s: attachment refused", found[:100])
            raise AttachmentRefused(Refusal.INFECTED)

    async def for_customer(self, key: ConversationKey, attachment_id: str) -> Download | None:
        """The file, if it was uploaded in this conversation; None for any other."""
        found = await self._find(attachment_id)
        if found is None or (found.channel, found.chat_id) != (key.channel, key.chat_id):
            return None
        return self._download(found)

    async def for_operator(self, attachment_id: str) -> Download | None:
        """The file, if a customer's message carries it (an upload no message took is the
        customer's alone)."""
        found = await self._find(attachment_id)
        if found is None or found.transcript_id is None:
            return None
        return self._download(found)

    async def _find(self, attachment_id: str) -> StoredAttachment | None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{10,32}", attachment_id):
            return None
        async with self._units() as uow:
            return await uow.attachments.find(attachment_id)

    def _download(self, found: StoredAttachment) -> Download | None:
        try:
            path = self._files.path(found.stored_path)
        except ValueError:
            return None
        return Download(found.ref, path) if path.is_file() else None


class AttachmentSweep(DailyCleanup):
    """Once a day: the rows of uploads no message took for a day go, and so does every file
    whose row is gone (an erased customer's, a purged transcript's, those uploads'). join:
    the repositories of the job's transaction (composition/ wires the SQL ones)."""

    def __init__(
        self, files: FileStore, join: Callable[[Any], Repositories],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(SWEEP, 1, self._sweep, "attachment rows and files", clock)
        self._files, self._join = files, join

    async def _sweep(self, session: Any, before: datetime) -> int:
        records = self._join(session).attachments
        forgotten = await records.forget_unjoined(before)
        kept = await records.stored_paths()
        # Only files older than the day: one being uploaded has its file before its row.
        removed = await asyncio.to_thread(self._files.sweep, kept, before.timestamp())
        return forgotten + removed


def shown_name(name: str, extension: str) -> str:
    """The customer's file name as it may be shown: no folders, no control characters, and
    the extension of what the file really is ("invoice.exe" that is a PDF: "invoice.pdf")."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip().strip(".")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[: MAX_NAME_CHARS - len(extension) - 1].strip() or "attachment"
    return f"{stem}.{extension}"

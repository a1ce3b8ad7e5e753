"""What the dialog and its clients know of a customer's attachment (a photo or a PDF): plain
values, apart from the checks and the files (dialog/attachments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

# The types accepted, by what the content is (never the name or the declared type).
JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
ACCEPTED_TYPES = (JPEG, PNG, WEBP, PDF)


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """An attachment as a message shows it: its id, the customer's name for it, its type."""

    id: str
    name: str
    content_type: str
    size: int

    @property
    def is_image(self) -> bool:
        """Images are re-encoded on arrival: safe to show inline."""
        return self.content_type.startswith("image/")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "type": self.content_type, "size": self.size,
                "image": self.is_image}


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """The attachments table's row as a value: who it belongs to and where its file is."""

    ref: AttachmentRef
    channel: str
    chat_id: str
    conversation_id: int | None  # set once the message that carries it is recorded
    transcript_id: int | None
    sha256: str
    stored_path: str  # relative to [attachments] directory: a random name, never the customer's
    created_at: datetime


class Refusal(StrEnum):
    """Why a file was not accepted; each has a reply text (attachment_refused_<value>)."""

    TOO_LARGE = "too_large"
    EMPTY = "empty"
    TYPE = "type"  # not a JPEG, PNG, WebP or PDF by its content
    BROKEN = "broken"  # says it is one, but does not open as one
    ACTIVE_PDF = "active_pdf"  # a PDF with JavaScript, actions or embedded files
    INFECTED = "infected"  # the virus scanner (clamd) found something
    SCANNER = "scanner"  # the scanner is configured but did not answer


class AttachmentRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(detail or refusal.value)
        self.refusal = refusal

"""The files of a customer's mail that may be attachments: image and PDF parts (and parts
that only say "bytes"), at most MAX_FILES. What they really are is checked when they are kept
(dialog/attachments.py), not here: a part's declared type and name are the sender's word."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

MAX_FILES = 5
_CANDIDATE_TYPES = ("image/", "application/pdf", "application/octet-stream")


@dataclass(frozen=True)
class MailFile:
    name: str
    data: bytes


def mail_files(message: EmailMessage) -> list[MailFile]:
    found: list[MailFile] = []
    for part in message.iter_attachments():
        if len(found) >= MAX_FILES:
            break
        if not part.get_content_type().startswith(_CANDIDATE_TYPES):
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes) and data:
            found.append(MailFile(str(part.get_filename() or "attachment"), data))
    return found

"""Canned replies: ready texts an operator picks instead of typing, per language.

A new installation gets a few in every language (their texts are in dialog/locales/<language>/
console.toml); admins add and delete them after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from console.tables import CannedReply
from coordination.base import Locks
from dialog.texts import LANGUAGES, Texts
from storage.database import Database

DEFAULTS = ("greeting", "checking", "closing")  # console_canned_<name>_title / _text
MAX_TITLE_CHARS = 100
MAX_TEXT_CHARS = 4000


class CannedError(Exception):
    """A canned reply that cannot be stored; the text says why."""


@dataclass(frozen=True)
class Canned:
    id: int
    language: str
    title: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "language": self.language, "title": self.title, "text": self.text}


def _canned(row: CannedReply) -> Canned:
    return Canned(row.id, row.language, row.title, row.text)


class CannedReplies:
    def __init__(self, database: Database, texts: Texts, locks: Locks) -> None:
        self._database = database
        self._texts = texts
        self._locks = locks

    async def seed_defaults(self) -> int:
        """Store the default replies if there are none at all; how many were stored."""
        async with self._locks.hold("console:canned-defaults"):  # two processes starting
            async with self._database.transaction() as session:
                if await session.scalar(select(func.count(CannedReply.id))):
                    return 0
                for language in LANGUAGES:
                    for name in DEFAULTS:
                        session.add(CannedReply(
                            language=language,
                            title=self._texts.get(language, f"console_canned_{name}_title"),
                            text=self._texts.get(language, f"console_canned_{name}_text"),
                        ))
                return len(LANGUAGES) * len(DEFAULTS)

    async def list(self, language: str | None = None) -> list[Canned]:
        query = select(CannedReply).order_by(CannedReply.language, CannedReply.id)
        if language is not None:
            query = query.where(CannedReply.language == language)
        async with self._database.transaction() as session:
            return [_canned(row) for row in await session.scalars(query)]

    async def add(self, language: str, title: str, text: str) -> Canned:
        title, text = " ".join(title.split()), text.strip()
        if language not in LANGUAGES:
            raise CannedError(f"language must be one of {', '.join(LANGUAGES)}")
        if not title or len(title) > MAX_TITLE_CHARS:
            raise CannedError(f"a title is 1-{MAX_TITLE_CHARS} characters")
        if not text or len(text) > MAX_TEXT_CHARS:
            raise CannedError(f"a text is 1-{MAX_TEXT_CHARS} characters")
        async with self._database.transaction() as session:
            row = CannedReply(language=language, title=title, text=text)
            session.add(row)
            await session.flush()
            return _canned(row)

    async def delete(self, reply_id: int) -> bool:
        async with self._database.transaction() as session:
            result = await session.execute(delete(CannedReply).where(CannedReply.id == reply_id))
            return bool(getattr(result, "rowcount", 0))

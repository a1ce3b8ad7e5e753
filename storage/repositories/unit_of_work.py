"""The SQL unit of work: one transaction of storage.database.Database and its repositories,
the shop's (the order core bound to the transaction: storage/repositories/shop.py) among them.

`SqlUnitOfWork(database, parts)` opens the transaction on entering and commits only when told;
`SqlRepositories(session, parts)` gives the same repositories inside a transaction someone else
opened: the order core's news, its due jobs and the CLIs hand over their transaction as a
session, and the composition root makes it repositories (composition/joined.py) before the
dialog sees it. The dialog never holds a session.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from dialog.unit_of_work import AfterCommit
from storage.database import Database, after_commit
from storage.repositories.attachments import SqlAttachments
from storage.repositories.conversations import SqlConversations
from storage.repositories.erasure import SqlErasure
from storage.repositories.events import SqlEvents
from storage.repositories.handoffs import SqlHandoffs
from storage.repositories.inbox import SqlInbox
from storage.repositories.intent_labels import SqlIntentLabels
from storage.repositories.notes import SqlOperatorNotes
from storage.repositories.outbox import SqlOutbox
from storage.repositories.processes import SqlBotProcesses
from storage.repositories.queue import SqlHandoffQueue
from storage.repositories.shop import ShopParts, SqlShop
from storage.repositories.tags import SqlConversationTags
from storage.repositories.tokens import SqlTokens
from storage.repositories.transcript import SqlTranscript


class SqlRepositories:
    """The repositories over one session, in whatever transaction it is in."""

    _shop: SqlShop | None

    def __init__(self, session: AsyncSession, parts: ShopParts | None = None) -> None:
        self._parts = parts
        self._bind(session)

    @property
    def shop(self) -> SqlShop:
        """The order core and the shop's adapters in this transaction (built when first asked
        for: most turns need none)."""
        if self._shop is None:
            if self._parts is None:
                raise LookupError("no order core in this unit of work (composition/bootstrap.py)")
            self._shop = shop = SqlShop(self.session, self, self._parts)
            return shop
        return self._shop

    def _bind(self, session: AsyncSession) -> None:
        # The transaction itself: for tests and the composition root, never for the dialog
        # (the ports do not name it).
        self.session = session
        self._shop = None
        self.conversations = SqlConversations(session)
        self.transcript = SqlTranscript(session)
        self.inbox = SqlInbox(session)
        self.outbox = SqlOutbox(session)
        self.tokens = SqlTokens(session)
        self.processes = SqlBotProcesses(session)
        self.handoffs = SqlHandoffs(session)
        self.queue = SqlHandoffQueue(session)
        self.notes = SqlOperatorNotes(session)
        self.tags = SqlConversationTags(session)
        self.events = SqlEvents(session)
        self.labels = SqlIntentLabels(session)
        self.erasures = SqlErasure(session)
        self.attachments = SqlAttachments(session)

    def after_commit(self, callback: AfterCommit) -> None:
        after_commit(self.session, callback)


class _Rollback(Exception):
    """Thrown into the transaction to end it without a commit."""


class SqlUnitOfWork(SqlRepositories):
    """One transaction: committed by commit(), rolled back when left without it; what was
    asked to run after the commit runs inside commit()."""

    def __init__(self, database: Database, parts: ShopParts | None = None) -> None:
        self._database = database
        self._parts = parts
        self._transaction: AbstractAsyncContextManager[AsyncSession] | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self._transaction = self._database.transaction()
        self._bind(await self._transaction.__aenter__())
        return self

    async def commit(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            raise RuntimeError("the unit of work is not open")
        await transaction.__aexit__(None, None, None)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:  # committed
            return None
        if error is None:
            try:
                await transaction.__aexit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
            return None
        await transaction.__aexit__(kind, error, traceback)
        return None

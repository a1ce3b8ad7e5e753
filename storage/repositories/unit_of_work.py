"""The SQL unit of work: one transaction of storage.database.Database and its repositories.

`SqlUnitOfWork(database)` opens the transaction on entering and commits only when told;
`SqlRepositories.joining(session)` gives the same repositories inside a transaction someone
else opened: where an order-core or job session must become repositories - proactive messages
(composition/bootstrap.py, and `products import` in composition/cli.py), the erasure and
retrain CLIs (composition/cli.py) and transcript retention's daily job
(composition/preparation.py).
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
from storage.repositories.tokens import SqlTokens
from storage.repositories.transcript import SqlTranscript


class SqlRepositories:
    """The repositories over one session, in whatever transaction it is in."""

    def __init__(self, session: AsyncSession) -> None:
        self._bind(session)

    @classmethod
    def joining(cls, session: AsyncSession) -> SqlRepositories:
        return cls(session)

    def _bind(self, session: AsyncSession) -> None:
        self.order_session = session
        self.conversations = SqlConversations(session)
        self.transcript = SqlTranscript(session)
        self.inbox = SqlInbox(session)
        self.outbox = SqlOutbox(session)
        self.tokens = SqlTokens(session)
        self.processes = SqlBotProcesses(session)
        self.handoffs = SqlHandoffs(session)
        self.queue = SqlHandoffQueue(session)
        self.notes = SqlOperatorNotes(session)
        self.events = SqlEvents(session)
        self.labels = SqlIntentLabels(session)
        self.erasures = SqlErasure(session)
        self.attachments = SqlAttachments(session)

    def after_commit(self, callback: AfterCommit) -> None:
        after_commit(self.order_session, callback)


class _Rollback(Exception):
    """Thrown into the transaction to end it without a commit."""


class SqlUnitOfWork(SqlRepositories):
    """One transaction: committed by commit(), rolled back when left without it; what was
    asked to run after the commit runs inside commit()."""

    def __init__(self, database: Database) -> None:
        self._database = database
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

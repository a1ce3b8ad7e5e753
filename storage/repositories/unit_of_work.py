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
from functools import cached_property
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
    """The repositories over one session, in whatever transaction it is in; each built when
    first asked for (a turn asks for four or five of the fifteen)."""

    def __init__(self, session: AsyncSession, parts: ShopParts | None = None) -> None:
        self._parts = parts
        self._bind(session)

    @cached_property
    def shop(self) -> SqlShop:
        """The order core and the shop's adapters in this transaction."""
        if self._parts is None:
            raise LookupError("no order core in this unit of work (composition/bootstrap.py)")
        return SqlShop(self.session, self, self._parts)

    @cached_property
    def conversations(self) -> SqlConversations:
        return SqlConversations(self.session)

    @cached_property
    def transcript(self) -> SqlTranscript:
        return SqlTranscript(self.session)

    @cached_property
    def inbox(self) -> SqlInbox:
        return SqlInbox(self.session)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.session)

    @cached_property
    def tokens(self) -> SqlTokens:
        return SqlTokens(self.session)

    @cached_property
    def processes(self) -> SqlBotProcesses:
        return SqlBotProcesses(self.session)

    @cached_property
    def handoffs(self) -> SqlHandoffs:
        return SqlHandoffs(self.session)

    @cached_property
    def queue(self) -> SqlHandoffQueue:
        return SqlHandoffQueue(self.session)

    @cached_property
    def notes(self) -> SqlOperatorNotes:
        return SqlOperatorNotes(self.session)

    @cached_property
    def tags(self) -> SqlConversationTags:
        return SqlConversationTags(self.session)

    @cached_property
    def events(self) -> SqlEvents:
        return SqlEvents(self.session)

    @cached_property
    def labels(self) -> SqlIntentLabels:
        return SqlIntentLabels(self.session)

    @cached_property
    def erasures(self) -> SqlErasure:
        return SqlErasure(self.session)

    @cached_property
    def attachments(self) -> SqlAttachments:
        return SqlAttachments(self.session)

    def _let_go(self) -> None:
        """Drop the repositories (the shop and this unit of work point at each other): a
        turn leaves no cycle for the garbage collector's full passes."""
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)

    def _bind(self, session: AsyncSession) -> None:
        # The transaction itself: for tests and the composition root, never for the dialog
        # (the ports do not name it). Repositories of an earlier session are let go.
        self._let_go()
        self.session = session

    def after_commit(self, callback: AfterCommit) -> None:
        after_commit(self.session, callback)


_REPOSITORIES = tuple(name for name, value in vars(SqlRepositories).items()
                      if isinstance(value, cached_property))


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
        try:
            await transaction.__aexit__(None, None, None)
        finally:
            self._let_go()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:  # committed
            return None
        self._let_go()
        if error is None:
            try:
                await transaction.__aexit__(_Rollback, _Rollback(), None)
            except _Rollback:
                pass
            return None
        await transaction.__aexit__(kind, error, traceback)
        return None

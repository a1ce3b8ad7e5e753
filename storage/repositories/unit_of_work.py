"""The SQL unit of work: one transaction of storage.database.Database and its repositories,
the shop's (the order core bound to the transaction: storage/repositories/shop.py) among them.

`SqlUnitOfWork(database, parts)` opens the transaction on entering and commits only when told;
`SqlRepositories(session, parts)` gives the same repositories inside a transaction someone else
opened: the order core's news, its due jobs and the CLIs hand over their transaction as a
session, and the composition root makes it repositories (composition/joined.py) before the
dialog sees it. The dialog never holds a session.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession

from dialog.unit_of_work import AfterCommit
from storage.database import Database, after_commit
from storage.repositories.attachments import SqlAttachments
from storage.repositories.conversations import SqlConversations
from storage.repositories.erasure import SqlErasure
from storage.repositories.events import SqlEvents
from storage.repositories.exchanges import SqlExchanges
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

R = TypeVar("R")


class _built(Generic[R]):  # noqa: N801 (used as a decorator, as cached_property is)
    """functools.cached_property without its lock (Python 3.11 takes an RLock at each first
    access: a few of them per turn, for nothing on one event loop): built when first asked
    for, then kept in the instance's __dict__, which Python looks in first."""

    def __init__(self, build: Callable[[Any], R]) -> None:
        self._build = build
        self._name = build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> _built[R]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> R: ...

    def __get__(self, instance: object | None, owner: type[Any]) -> R | _built[R]:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._build(instance)
        return value


class SqlRepositories:
    """The repositories over one session, in whatever transaction it is in; each built when
    first asked for (a turn asks for four or five of the fifteen)."""

    def __init__(self, session: AsyncSession, parts: ShopParts | None = None) -> None:
        self._parts = parts
        self._bind(session)

    @_built
    def shop(self) -> SqlShop:
        """The order core and the shop's adapters in this transaction."""
        if self._parts is None:
            raise LookupError("no order core in this unit of work (composition/bootstrap.py)")
        return SqlShop(self.session, self, self._parts)

    @_built
    def conversations(self) -> SqlConversations:
        return SqlConversations(self.session)

    @_built
    def transcript(self) -> SqlTranscript:
        return SqlTranscript(self.session)

    @_built
    def exchanges(self) -> SqlExchanges:
        return SqlExchanges(self.session, self)

    @_built
    def inbox(self) -> SqlInbox:
        return SqlInbox(self.session)

    @_built
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.session)

    @_built
    def tokens(self) -> SqlTokens:
        return SqlTokens(self.session)

    @_built
    def processes(self) -> SqlBotProcesses:
        return SqlBotProcesses(self.session)

    @_built
    def handoffs(self) -> SqlHandoffs:
        return SqlHandoffs(self.session)

    @_built
    def queue(self) -> SqlHandoffQueue:
        return SqlHandoffQueue(self.session)

    @_built
    def notes(self) -> SqlOperatorNotes:
        return SqlOperatorNotes(self.session)

    @_built
    def tags(self) -> SqlConversationTags:
        return SqlConversationTags(self.session)

    @_built
    def events(self) -> SqlEvents:
        return SqlEvents(self.session)

    @_built
    def labels(self) -> SqlIntentLabels:
        return SqlIntentLabels(self.session)

    @_built
    def erasures(self) -> SqlErasure:
        return SqlErasure(self.session)

    @_built
    def attachments(self) -> SqlAttachments:
        return SqlAttachments(self.session)

    def _let_go(self) -> None:
        """Drop the repositories (the shop and this unit of work point at each other): a
        turn leaves no cycle for the garbage collector's full passes."""
        kept = self.__dict__
        for name in [name for name in kept if name in _REPOSITORIES]:
            del kept[name]

    def _bind(self, session: AsyncSession) -> None:
        # The transaction itself: for tests and the composition root, never for the dialog
        # (the ports do not name it). Repositories of an earlier session are let go.
        self._let_go()
        self.session = session

    def after_commit(self, callback: AfterCommit) -> None:
        after_commit(self.session, callback)


_REPOSITORIES = frozenset(name for name, value in vars(SqlRepositories).items()
                          if isinstance(value, _built))


class _Rollback(Exception):
    """Thrown into the transaction to end it without a commit."""


class SqlUnitOfWork(SqlRepositories):
    """One transaction: committed by commit(), rolled back when left without it; what was
    asked to run after the commit runs inside commit()."""

    def __init__(self, database: Database, parts: ShopParts | None = None, *,
                 autocommit: bool = False) -> None:
        self._database = database
        self._parts = parts
        self._autocommit = autocommit  # Database.transaction's: one statement's work
        self._transaction: AbstractAsyncContextManager[AsyncSession] | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self._transaction = self._database.transaction(self._autocommit)
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

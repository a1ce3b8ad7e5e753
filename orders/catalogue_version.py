"""The catalogue's version: a random token that changes, in the transaction of the change,
whenever the words naming products change (a product created, renamed or deleted).

Why a token read per search: a process's product index (orders/product_index.py) must see a
change made by this process or by another sharing the database (PostgreSQL: several bot
processes) by the next question. Reading one row by its key costs one short statement in the
turn's own transaction and has no staleness bound to document, where a TTL would leave
questions wrong for its length and still need this row to know when to rebuild. The token is
read before the products are, so an index is never older than the token it is kept under
(PostgreSQL's READ COMMITTED may only make it newer, which costs one extra rebuild).

Why random rather than a counter: a token from a transaction that rolled back, or from another
database in the same process (tests, a recreated schema), is never taken for the current one.

Writers change the row before they touch products: every catalogue writer then waits on this
one row first, so two of them cannot deadlock over product rows on PostgreSQL. Stock, prices
and dates leave it alone: they are read live.
"""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orders.tables import CatalogueVersion
from storage.database import insert_unless_exists
from storage.prepared import Prepared

_ROW = 1
_READ = Prepared(select(CatalogueVersion.token).where(CatalogueVersion.id == bindparam("row")))
_BUMP = Prepared(
    update(CatalogueVersion).where(CatalogueVersion.id == bindparam("row"))
    .values(token=bindparam("token", type_=CatalogueVersion.token.type))
)


async def catalogue_version(session: AsyncSession) -> int | None:
    """The current token; None if the row is missing (then nothing may be cached)."""
    token = await _READ.scalar(session, row=_ROW)
    if token is None:
        # A database created at once from the models (storage/migrations/env.py) has no row
        # yet: the first reader writes one (another at the same moment wins quietly).
        await insert_unless_exists(session, CatalogueVersion.__table__,
                                   {"id": _ROW, "token": secrets.randbits(62)}, "id")
        token = await _READ.scalar(session, row=_ROW)
    return None if token is None else int(token)


async def catalogue_changed(session: AsyncSession) -> None:
    """Say, in the caller's transaction, that the words naming products change in it."""
    await _BUMP.execute(session, row=_ROW, token=secrets.randbits(62))

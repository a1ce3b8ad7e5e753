"""The hottest statements, compiled once per database and handed straight to the driver.

SQLAlchemy spends a few hundred microseconds on each statement it builds, caches and runs,
and some hundred more on one it is handed as SQL (`exec_driver_sql`: the greenlet, the
cursor adapter, the result object); the driver itself needs ten to fifty. A Prepared
statement is compiled once for the connection's dialect (SQLite or PostgreSQL); each run
passes the driver (storage/drivers.py) the SQL and the values in order, converted by the
columns' types (JSON, datetime) exactly as SQLAlchemy would convert them (the turn's types by
conversions of our own, storage/column_conversions.py), on the
connection and inside the transaction of the session it is given. Rows of a SELECT are
converted back the same way, and so are the rows of an UPDATE ... RETURNING read with `first`
or `all`; `scalar` passes on what the driver returns (use it for ids and counts).

A driver's error reaches the caller as SQLAlchemy would raise it (an IntegrityError for a
duplicate key), so a caller cannot tell the two paths apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable

from storage.column_conversions import Convert, bind_conversion, result_conversion
from storage.drivers import Rows, driver_of, known_driver


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the order the SQL takes them
    bind: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, conversion) of those converted
    columns: tuple[tuple[int, Callable[[Any], Any]], ...]  # the same for a SELECT's columns


class Prepared:
    """`statement`, or a function giving the statement for a dialect's name where the SQL
    must differ (a JSON aggregate is json_group_array on SQLite, json_agg on PostgreSQL)."""

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    async def execute(self, session: AsyncSession, **values: Any) -> Rows:
        return (await self._run(session, values))[0]

    async def scalar(self, session: AsyncSession, **values: Any) -> Any:
        return (await self.execute(session, **values)).scalar()

    async def first(self, session: AsyncSession, **values: Any) -> tuple[Any, ...] | None:
        """The first row of a SELECT, its values converted by the columns' types."""
        rows = await self.all(session, **values)
        return rows[0] if rows else None

    async def all(self, session: AsyncSession, **values: Any) -> list[tuple[Any, ...]]:
        """The rows of a SELECT, their values converted by the columns' types."""
        result, compiled = await self._run(session, values)
        if not compiled.columns:
            return [tuple(row) for row in result.rows]
        rows = []
        for row in result.rows:
            converted = list(row)
            for position, convert in compiled.columns:
                converted[position] = convert(converted[position])
            rows.append(tuple(converted))
        return rows

    async def _run(self, session: AsyncSession, values: dict[str, Any]) -> tuple[Rows, _Compiled]:
        driver = known_driver(session) or await driver_of(session)
        compiled = self._compiled.get(driver.key)
        if compiled is None:
            statement = (self._statement if isinstance(self._statement, Executable)
                         else self._statement(driver.dialect.name))
            compiled = self._compiled[driver.key] = _compile(statement, driver.dialect)
        arguments = [values[name] for name in compiled.names]
        for position, convert in compiled.bind:
            arguments[position] = convert(arguments[position])
        return await driver.run(compiled.sql, tuple(arguments)), compiled


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    names: Sequence[str] = compiled.positiontup or ()
    bind = [bind_conversion(compiled.binds[name].type, dialect) for name in names]
    columns: list[Convert] = []
    if isinstance(statement, Select | Update):
        selected = (statement.selected_columns if isinstance(statement, Select)
                    else statement.exported_columns)  # an UPDATE's RETURNING
        columns = [result_conversion(column.type, dialect) for column in selected]
    return _Compiled(compiled.string, tuple(names), _converted(bind), _converted(columns))


def _converted(
    conversions: list[Convert],
) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    return tuple((position, convert) for position, convert in enumerate(conversions)
                 if convert is not None)

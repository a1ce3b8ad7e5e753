"""The hottest statements, compiled once per database and handed straight to the driver.

SQLAlchemy spends a few hundred microseconds on each statement it builds, caches and runs
(in the profile of a turn, most of the turn); the driver itself needs some fifty. A Prepared
statement is compiled once for the connection's dialect (SQLite or PostgreSQL); each run
passes the driver the SQL and the values in order, converted by the columns' own types (JSON,
datetime) exactly as SQLAlchemy would convert them. Rows of a SELECT are converted back the
same way, and so are the rows of an UPDATE ... RETURNING read with `first` or `all`; `scalar`
passes on what the driver returns (use it for ids and counts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Update
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable

Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bind parameters, in the order the SQL takes them
    bind: dict[str, Convert]
    columns: tuple[Convert, ...]  # a SELECT's column conversions


class Prepared:
    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    async def execute(self, session: AsyncSession, **values: Any) -> CursorResult[Any]:
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
        return [tuple(_converted(convert, value)
                      for convert, value in zip(compiled.columns, row, strict=True))
                for row in result.all()]

    async def _run(self, session: AsyncSession,
                   values: dict[str, Any]) -> tuple[CursorResult[Any], _Compiled]:
        await session.flush()  # what the session's objects changed counts, as in any ORM query
        connection = await session.connection()
        compiled = self._for(connection.dialect)
        arguments = tuple(_converted(compiled.bind[name], values[name])
                          for name in compiled.names)
        return await connection.exec_driver_sql(compiled.sql, arguments), compiled

    def _for(self, dialect: Dialect) -> _Compiled:
        key = f"{dialect.name}+{dialect.driver}"  # the driver decides the parameter style
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self._statement, dialect)
        return compiled


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    names: Sequence[str] = compiled.positiontup or ()
    bind = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names}
    columns: tuple[Convert, ...] = ()
    if isinstance(statement, Select | Update):
        selected = (statement.selected_columns if isinstance(statement, Select)
                    else statement.exported_columns)  # an UPDATE's RETURNING
        columns = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in selected)
    return _Compiled(compiled.string, tuple(names), bind, columns)


def _converted(convert: Convert, value: Any) -> Any:
    return value if convert is None else convert(value)

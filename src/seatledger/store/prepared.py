"""Core statements compiled once per dialect and run on the driver's own connection.

A seat change must be committed within a millisecond or so, and SQLAlchemy's per-statement
work (an execution context, the compiled-cache lookup, parameter and result objects) costs
several times what SQLite spends running the statement.  The statements of that path are
module-level Core constructs, the one statement of each kind: :class:`Sql` compiles each of
them once for the database's dialect (the SQL text SQLAlchemy itself would send, with its bind
and result processors: SQLite's dates and times as text, its booleans as integers) and runs it
on the DB-API connection of the caller's transaction, a plain cursor call.

The same object runs on a Session's connection (inside its transaction) and on a connection
taken straight from the pool (:meth:`seatledger.store.db.Database.direct`): what a statement
does is the same, whoever began the transaction.  Driver errors come out wrapped as
SQLAlchemy's (``IntegrityError``, ``OperationalError``), as they would from ``Connection``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from types import MappingProxyType
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import ValuesBase
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any]
Row = tuple[Any, ...]
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_NAMED = re.compile(r"%\((\w+)\)s")
_NONE: Mapping[str, Any] = MappingProxyType({})


class Prepared:
    """One statement compiled for one dialect: its SQL, how to order and convert its
    parameters, and how to convert the columns it returns."""

    __slots__ = (
        "_convert_at",
        "_convert_named",
        "_expanded",
        "_pick",
        "converters",
        "defaults",
        "expanding",
        "names",
        "positional",
        "processors",
        "sql",
        "statement",
    )

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] = ()
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys) or None)
        assert isinstance(compiled, SQLCompiler)
        binds: dict[str, BindParameter[Any]] = {
            name: bind for bind, name in compiled.bind_names.items()
        }
        if any(bind.literal_execute for bind in binds.values()):
            raise ValueError("a statement with literal-execute parameters cannot be prepared")
        self.statement = statement  # kept: the cache is keyed by its id
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names: tuple[str, ...] = (
            tuple(compiled.positiontup or ()) if self.positional else tuple(binds)
        )
        self.defaults = {
            name: bind.effective_value for name, bind in binds.items() if not bind.required
        }
        # Columns an INSERT or UPDATE fills from their Python-side default when not given
        # (SQLAlchemy's execution context computes them: here, once).
        for column in compiled.insert_prefetch:
            self.defaults[column.key] = _scalar(column, column.default)
        for column in compiled.update_prefetch:
            self.defaults[column.key] = _scalar(column, column.onupdate)
        self.processors: dict[str, Processor] = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self.processors[name] = process
        self.expanding = frozenset(name for name, bind in binds.items() if bind.expanding)
        self._expanded: dict[tuple[int, ...], str] = {}
        self.converters: list[tuple[int, Processor]] | None = None
        """The returned columns to convert, and how (see :meth:`result`)."""
        # The parameters in the driver's order, picked at C speed; then those to convert.
        self._pick: Callable[[Mapping[str, Any]], Any] | None = None
        self._convert_at: list[tuple[int, Processor]] = []
        self._convert_named: list[tuple[str, Processor]] = []
        if self.positional and self.names:
            getter = itemgetter(*self.names)
            self._pick = getter if len(self.names) > 1 else (lambda given: (getter(given),))
            self._convert_at = [
                (n, self.processors[name])
                for n, name in enumerate(self.names)
                if name in self.processors
            ]
        elif not self.positional:
            self._convert_named = list(self.processors.items())

    def parameters(self, given: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL to send with ``given`` and the parameters in the driver's form."""
        values = {**self.defaults, **given} if self.defaults else given
        if self.expanding:
            return self._expand(values)
        if self.positional:
            if self._pick is None:
                return self.sql, ()
            picked = self._pick(values)
            if not self._convert_at:
                return self.sql, picked
            listed = list(picked)
            for n, process in self._convert_at:
                listed[n] = process(listed[n])
            return self.sql, listed
        # Named (psycopg): the driver reads the names it needs from the mapping.
        if not self._convert_named:
            return self.sql, values
        named = dict(values)
        for name, process in self._convert_named:
            named[name] = process(named[name])
        return self.sql, named

    def _expand(self, values: Mapping[str, Any]) -> tuple[str, Any]:
        """The SQL with each list parameter written out as one parameter a value, and the
        parameters (a chunk of ids: the caller keeps lists under the driver's limit)."""
        lengths = tuple(len(values[name]) for name in sorted(self.expanding))
        if 0 in lengths:
            raise ValueError("an empty list cannot be sent as parameters")
        sql = self._expanded.get(lengths)
        if sql is None:
            sql = _POSTCOMPILE.sub(
                lambda m: self._marks(m.group(1), len(values[m.group(1)])), self.sql
            )
            if len(self._expanded) < 64:
                self._expanded[lengths] = sql
        processors = self.processors
        if self.positional:
            flat: list[Any] = []
            for name in self.names:
                process = processors.get(name)
                if name in self.expanding:
                    flat.extend(values[name] if process is None else map(process, values[name]))
                else:
                    flat.append(values[name] if process is None else process(values[name]))
            return sql, flat
        named: dict[str, Any] = {}
        for name in self.names:
            process = processors.get(name)
            if name in self.expanding:
                for n, value in enumerate(values[name], 1):
                    named[f"{name}_{n}"] = value if process is None else process(value)
            else:
                named[name] = values[name] if process is None else process(values[name])
        return sql, named

    def _marks(self, name: str, count: int) -> str:
        if self.positional:
            return ", ".join(["?"] * count)
        return ", ".join(f"%({name}_{n})s" for n in range(1, count + 1))

    def result(
        self, description: Sequence[Sequence[Any]] | None, dialect: Dialect
    ) -> list[tuple[int, Processor]]:
        """Which returned columns need converting, and how (worked out at the first run, from
        the driver's column types, as SQLAlchemy does)."""
        if self.converters is None:
            columns = list(getattr(self.statement, "exported_columns", ()))
            found: list[tuple[int, Processor]] = []
            for n, column in enumerate(columns):
                coltype = description[n][1] if description and n < len(description) else None
                process = column.type.dialect_impl(dialect).result_processor(dialect, coltype)
                if process is not None:
                    found.append((n, process))
            self.converters = found
        return self.converters


_Key = int | tuple[int, tuple[str, ...]]
_PREPARED: dict[type[Dialect], dict[_Key, Prepared]] = {}


class Sql:
    """The DB-API connection of one transaction, running prepared statements on it.

    Use :meth:`of` for a SQLAlchemy connection (a Session's); :class:`Database.direct
    <seatledger.store.db.Database.direct>` makes one for a connection straight from the pool.
    """

    __slots__ = ("_cache", "_cursor", "_error", "dialect", "raw")

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect
        self._cursor = raw.cursor()
        self._error: type[Exception] = dialect.loaded_dbapi.Error
        self._cache = _PREPARED.setdefault(type(dialect), {})

    @classmethod
    def of(cls, conn: Connection) -> Sql:
        """The driver connection under ``conn``, in the transaction ``conn`` is in."""
        raw = conn.connection.driver_connection
        assert raw is not None
        return cls(raw, conn.dialect)

    def prepared(self, statement: ClauseElement, column_keys: Sequence[str] = ()) -> Prepared:
        """``statement`` compiled for this dialect (once: the statements are module constants)."""
        key: _Key = (id(statement), tuple(column_keys)) if column_keys else id(statement)
        found = self._cache.get(key)
        if found is None or found.statement is not statement:
            found = self._cache[key] = Prepared(statement, self.dialect, column_keys)
        return found

    def _for(self, statement: ClauseElement, params: Mapping[str, Any]) -> Prepared:
        found = self._cache.get(id(statement))
        if found is not None and found.statement is statement:
            return found
        # An INSERT or an UPDATE sets the columns its parameters name, as Connection.execute.
        if isinstance(statement, ValuesBase):
            return self.prepared(statement, tuple(params))
        return self.prepared(statement)

    def _run(self, prepared: Prepared, params: Mapping[str, Any]) -> Any:
        sql, values = prepared.parameters(params)
        cursor = self._cursor
        try:
            cursor.execute(sql, values)
        except self._error as exc:
            raise _wrapped(sql, values, exc, self.dialect) from exc
        return cursor

    def rows(self, statement: ClauseElement, params: Mapping[str, Any] = _NONE) -> list[Row]:
        """The rows a select (or a statement with RETURNING) gives."""
        prepared = self._for(statement, params)
        cursor = self._run(prepared, params)
        return self._converted(prepared, cursor, cursor.fetchall())

    def first(self, statement: ClauseElement, params: Mapping[str, Any] = _NONE) -> Row | None:
        """The first row, or None (the rest are read and dropped, as a Result's first())."""
        prepared = self._for(statement, params)
        cursor = self._run(prepared, params)
        rows = cursor.fetchall()
        return self._converted(prepared, cursor, rows[:1])[0] if rows else None

    def run(self, statement: ClauseElement, params: Mapping[str, Any] = _NONE) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        return int(self._run(self._for(statement, params), params).rowcount)

    def run_many(self, statement: ClauseElement, params: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement once for each parameter set (one driver call)."""
        if not params:
            return
        prepared = self._for(statement, params[0])
        if len(params) == 1:
            self._run(prepared, params[0])
            return
        converted = [prepared.parameters(p) for p in params]
        sql = converted[0][0]
        try:
            self._cursor.executemany(sql, [values for _, values in converted])
        except self._error as exc:
            raise _wrapped(sql, converted[0][1], exc, self.dialect) from exc

    def insert(
        self, table: Table, rows: Sequence[Mapping[str, Any]], returning: Sequence[str]
    ) -> list[Row]:
        """Insert ``rows`` (dicts with the same keys) in one statement; the ``returning``
        columns of each new row, in no particular order (SQLite does not keep it)."""
        if not rows:
            return []
        many = _RowsInsert.of(self, table, tuple(rows[0]), tuple(returning))
        if len(rows) == 1:
            sql, values = many.prepared.parameters(rows[0])
        else:
            sql, values = many.sql(rows)
        cursor = self._cursor
        try:
            cursor.execute(sql, values)
        except self._error as exc:
            raise _wrapped(sql, values, exc, self.dialect) from exc
        return self._converted(many.prepared, cursor, cursor.fetchall())

    def execute_text(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> None:
        """Run SQL written for this driver (``BEGIN IMMEDIATE``, an advisory lock)."""
        try:
            self._cursor.execute(sql, params)
        except self._error as exc:
            raise _wrapped(sql, params, exc, self.dialect) from exc
        if self._cursor.description is not None:
            self._cursor.fetchall()

    def _converted(self, prepared: Prepared, cursor: Any, rows: list[Row]) -> list[Row]:
        convert = prepared.converters
        if convert is None:
            convert = prepared.result(cursor.description, self.dialect)
        if not convert or not rows:
            return rows
        out = []
        for row in rows:
            values = list(row)
            for n, process in convert:
                values[n] = process(values[n])
            out.append(tuple(values))
        return out


class _RowsInsert:
    """``INSERT ... VALUES (...), (...) RETURNING ...`` of one table, set of keys and returned
    columns: SQLAlchemy's SQL for one row (with the columns it fills by default), its VALUES
    group repeated for more."""

    _cache: ClassVar[
        dict[tuple[int, type[Dialect], tuple[str, ...], tuple[str, ...]], _RowsInsert]
    ] = {}

    def __init__(
        self, sql: Sql, table: Table, keys: tuple[str, ...], returning: tuple[str, ...]
    ) -> None:
        one = insert(table).returning(*(table.c[name] for name in returning))
        self.prepared = sql.prepared(one, keys)
        head, values = self.prepared.sql.split(" VALUES ", 1)
        group, returns, returned = values.partition(" RETURNING ")
        self.head = head + " VALUES "
        self.tail = returns + returned
        if self.prepared.positional:
            self.order = self.prepared.names
            self.group = group
        else:  # named in the one-row SQL: positional here, each row's own
            self.order = tuple(_NAMED.findall(group))
            self.group = _NAMED.sub("%s", group)

    @classmethod
    def of(
        cls, sql: Sql, table: Table, keys: tuple[str, ...], returning: tuple[str, ...]
    ) -> _RowsInsert:
        key = (id(table), type(sql.dialect), keys, returning)
        found = cls._cache.get(key)
        if found is None:
            found = cls._cache[key] = cls(sql, table, keys, returning)
        return found

    def sql(self, rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[Any]]:
        """The statement for ``rows`` and its parameters, positional."""
        defaults = self.prepared.defaults
        processors = self.prepared.processors
        values: list[Any] = []
        for row in rows:
            given = {**defaults, **row}
            for name in self.order:
                process = processors.get(name)
                values.append(given[name] if process is None else process(given[name]))
        return self.head + ", ".join([self.group] * len(rows)) + self.tail, values


def _scalar(column: Any, default: Any) -> Any:
    """A column's fixed default value (one computed at each insert is not prepared)."""
    if default is None:
        return None
    if not default.is_scalar:
        raise ValueError(f"{column} has a default computed at each insert: not prepared")
    return default.arg


def _wrapped(sql: str, params: Any, exc: Exception, dialect: Dialect) -> StatementError:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError ...)."""
    return DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect)

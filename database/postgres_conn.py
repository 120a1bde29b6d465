"""The unit of work's connection on PostgreSQL (database/engine.Conn over psycopg 3): the SQL's
``?`` placeholders as psycopg's, rows readable by name like sqlite3.Row, and statements whose
result nobody reads batched with the next one. Imported only when DATABASE_URL names
PostgreSQL."""

from __future__ import annotations

import functools
import weakref
from typing import Any, ClassVar

import psycopg
from psycopg.rows import tuple_row

from database.engine import Dialect


@functools.lru_cache(maxsize=2048)
def to_pg(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


@functools.lru_cache(maxsize=2048)
def numbered(sql: str) -> str:
    """``?`` placeholders as PREPARE's ``$1``, ``$2``..."""
    parts = sql.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


# Statements this process prepared on each connection (SQL -> name), for batches.
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], dict[str, str]] = (
    weakref.WeakKeyDictionary()
)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    index = {name: i for i, name in enumerate(names)}

    class Row(tuple[Any, ...]):
        """A row readable by position and by column name, like sqlite3.Row."""

        __slots__ = ()

        def __getitem__(self, key: Any) -> Any:
            if isinstance(key, str):
                return tuple.__getitem__(self, index[key])
            return tuple.__getitem__(self, key)

        def keys(self) -> list[str]:
            return list(names)

    return Row


def named_row(cursor: Any) -> Any:
    """psycopg row factory: rows like sqlite3.Row."""
    description = cursor.description
    if description is None:
        return tuple
    row_class = _row_class(tuple(column.name for column in description))
    return functools.partial(tuple.__new__, row_class)


class PgConn:
    """database/engine.Conn over a psycopg connection.

    ``execute_later`` statements wait in the connection and go to the server in one message
    with the next statement whose result is read (or with the COMMIT), as one multi-statement
    query with the parameters bound on the client: a write unit pays one round trip for BEGIN
    and its first read, one for a lock and what is read under it, one for its inserts and its
    COMMIT. Statements read at once, with nothing waiting, use server-side binding and
    prepared statements as usual.
    """

    dialect: ClassVar[Dialect] = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._pending: list[str] = []
        self._binder = psycopg.ClientCursor(conn)

    def _bind(self, sql: str, parameters: Any) -> str:
        """The statement as text a batch can carry; with parameters, as EXECUTE of a statement
        prepared on this connection (PREPARE travels with its first use): the server plans it
        once, like psycopg's own prepared statements."""
        if not parameters:
            return sql
        prepared = _PREPARED.get(self._conn)
        if prepared is None:
            prepared = _PREPARED[self._conn] = self._forget_prepared()
        name = prepared.get(sql)
        prepare = ""
        if name is None:
            name = prepared[sql] = f"booking_bot_{len(prepared) + 1}"
            prepare = f"PREPARE {name} AS {numbered(sql)}; "
        marks = ", ".join(["%s"] * len(parameters))
        return prepare + self._binder.mogrify(f"EXECUTE {name}({marks})", parameters)

    def _batch(self, last: str, row_factory: Any) -> psycopg.ClientCursor[Any]:
        """The waiting statements and ``last`` in one round trip; the cursor on ``last``."""
        text = "; ".join([*self._pending, last])
        self._pending.clear()
        cursor = psycopg.ClientCursor(self._conn, row_factory=row_factory)
        cursor.execute(text)  # on an error, the unit fails and forget_prepared() is called
        while cursor.nextset():
            pass
        return cursor

    def _forget_prepared(self) -> dict[str, str]:
        """Drop this process's prepared statements of the connection (after a failed batch,
        or on a connection new to this process); outside any transaction."""
        names = self._conn.execute(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE 'booking\\_bot\\_%'"
        ).fetchall()
        for (name,) in names:
            self._conn.execute(f"DEALLOCATE {name}")
        return {}

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        if self._pending:
            return self._batch(self._bind(sql, parameters), named_row)
        if not parameters:
            return self._conn.execute(sql)
        return self._conn.execute(to_pg(sql), parameters)

    def execute_later(self, sql: str, parameters: Any = (), /) -> None:
        self._pending.append(self._bind(sql, parameters))

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        self.flush()
        cursor = self._conn.cursor()
        cursor.executemany(to_pg(sql), list(parameters))
        return cursor

    def executemany_later(self, sql: str, parameters: Any, /) -> None:
        self._pending.extend(self._bind(sql, p) for p in parameters)

    def tuples(self, sql: str, parameters: Any = ()) -> list[tuple[Any, ...]]:
        if self._pending:
            return self._batch(self._bind(sql, parameters), tuple_row).fetchall()
        cursor = self._conn.cursor(row_factory=tuple_row)
        cursor.execute(to_pg(sql) if parameters else sql, parameters or None)
        return cursor.fetchall()

    def flush(self, last: str | None = None) -> None:
        """Send what waits (and ``last``), now."""
        if last is not None:
            self._pending.append(last)
        if self._pending:
            self._batch(self._pending.pop(), None)


def forget_prepared(conn: psycopg.Connection[Any]) -> None:
    """What this process prepared on the connection is unknown: find out before the next use."""
    _PREPARED.pop(conn, None)

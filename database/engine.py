"""What both database engines offer the rest of the code, and how DATABASE_URL picks one.

Every database access is a *unit of work*: a plain synchronous function taking a ``Conn`` and
running inside one transaction the engine opened (``Database.write`` / ``Database.read``). The
repository (database/repo/) is written once, in the SQL both engines agree on, with ``?``
placeholders; ``Conn.dialect`` names the engine where the two must differ (row locks, claims).

- SQLite (the embedded default, ``sqlite:///path``): database/sqlite.py. One writer queue per
  process, BEGIN IMMEDIATE, the stdlib driver on aiosqlite's thread.
- PostgreSQL (``postgresql://user:pass@host:port/db``): database/postgres.py. psycopg 3's sync
  API on worker threads with a connection pool, READ COMMITTED, row locks in a fixed order.
  The driver is imported only when this engine is chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
Dialect = Literal["sqlite", "postgresql"]


class Conn(Protocol):
    """The connection a unit of work gets, inside its transaction."""

    @property
    def dialect(self) -> Dialect: ...

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...

    def execute_later(self, sql: str, parameters: Sequence[Any] = ..., /) -> None:
        """A statement whose result nobody reads (a lock, an insert without RETURNING): it
        may travel to the server with the next statement that is read, saving a round trip
        (PostgreSQL's pipeline). It still runs in order, before anything executed after it,
        and its error still fails the unit."""
        ...

    def executemany_later(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None: ...

    def tuples(self, sql: str, parameters: Sequence[Any] = ...) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: for hot paths that read thousands of rows."""
        ...


Work = Callable[[Conn], T]


class Database(Protocol):
    @property
    def dialect(self) -> Dialect: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def write(self, work: Work[T], label: str = "write") -> T:
        """Run ``work`` in one read-write transaction, retried whole on a lock conflict."""
        ...

    async def read(self, work: Work[T], label: str = "read") -> T:
        """Run ``work`` in one read transaction (a consistent view for each statement)."""
        ...

    async def ping(self) -> None:
        """Raise unless the database answers (and, for a file, is still the one opened)."""
        ...


class DriverMissing(RuntimeError):
    """DATABASE_URL (or REDIS_URL) names a server whose Python driver is not installed."""


SERVER_DRIVERS_HINT = "pip install -r requirements-servers.txt"


def require_module(name: str, what: str) -> ModuleType:
    """Import a server driver, or say in one line how to install it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] in ("psycopg", "psycopg_pool", "redis"):
            raise DriverMissing(
                f"{what} needs {exc.name}, which is not installed: {SERVER_DRIVERS_HINT}"
            ) from None
        raise


class DatabaseUrlError(ValueError):
    """DATABASE_URL cannot be used; the message says why and how it should look."""


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: Dialect
    path: Path | None = None  # sqlite
    dsn: str | None = field(default=None, repr=False)  # postgresql, password included

    def __str__(self) -> str:
        """For logs: never the password."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}"
        parts = urlsplit(self.dsn or "")
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"postgresql://{user}{host}{port}{parts.path}"


def parse_database_url(url: str) -> DatabaseUrl:
    url = url.strip()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise DatabaseUrlError("sqlite:/// needs a file path, e.g. sqlite:///data/bot.db")
        return DatabaseUrl("sqlite", path=Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            # Not the parser's words: they can quote a part of the password.
            raise DatabaseUrlError(
                "cannot read the PostgreSQL URL (a port that is not a number, or a password"
                " with '/' or '@' not written as %2F / %40?)"
            ) from None
        if not parts.hostname or not parts.path.strip("/"):
            raise DatabaseUrlError(
                "a PostgreSQL URL needs a host and a database name,"
                " e.g. postgresql://user:password@127.0.0.1:5432/bot"
            )
        return DatabaseUrl("postgresql", dsn="postgresql://" + url.split("://", 1)[1])
    raise DatabaseUrlError(
        "must start with sqlite:/// (a file) or postgresql:// (a server),"
        " e.g. sqlite:///data/bot.db"
    )


# A row read by column name (sqlite3.Row, or database/postgres.py's equivalent).
Row = Any

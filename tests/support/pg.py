"""PostgreSQL for tests: a database per test, cloned from a migrated template (about 50 ms).

TEST_POSTGRES_URL names the server (default: the local one, trust auth, database ``test``).
When it cannot be reached the tests that need it skip, saying why, unless REQUIRE_SERVICES=1
(CI), where they fail.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytz

from database.migrate import migrate_postgres
from database.migrations.base import MigrationContext

SERVER_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def url_of(database: str, base: str = SERVER_URL) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{database}"))


class PgServer:
    def __init__(self, base: str = SERVER_URL) -> None:
        self.base = base
        self.prefix = f"bt_{os.getpid()}"
        self.template = f"{self.prefix}_tmpl"
        self._numbers = itertools.count(1)
        self._made_template = False

    def unreachable(self) -> str | None:
        """Why the server cannot be used, or None."""
        try:
            with psycopg.connect(self.base, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return f"{exc}".strip() or type(exc).__name__
        return None

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.base, autocommit=True)

    def ensure_template(self) -> None:
        if self._made_template:
            return
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.template}"')
        now = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
        migrate_postgres(url_of(self.template), MigrationContext(pytz.utc, now))
        self._made_template = True

    def fresh(self) -> tuple[str, str]:
        """(name, URL) of a new migrated database."""
        self.ensure_template()
        name = f"{self.prefix}_{next(self._numbers)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name, url_of(name)

    def empty(self) -> tuple[str, str]:
        """(name, URL) of a new database with nothing in it."""
        name = f"{self.prefix}_{next(self._numbers)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, url_of(name)

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        with self._admin() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (self.prefix + "%",)
            ).fetchall()
            for (name,) in rows:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

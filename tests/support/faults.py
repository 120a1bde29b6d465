"""Failures injected into a real database, on either engine: a trigger that makes every insert
into a table fail, so a test can see a transaction roll back as a whole."""

from __future__ import annotations

import sqlite3

import psycopg

from database.engine import Conn, Database


async def fail_inserts(db: Database, table: str, message: str) -> None:
    name = f"fail_{table}"

    def work(conn: Conn) -> None:
        if conn.dialect == "sqlite":
            conn.execute(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
            return
        conn.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql"
            f" AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        conn.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )

    await db.write(work)


async def stop_failing(db: Database, table: str) -> None:
    name = f"fail_{table}"
    if db.dialect == "sqlite":
        await db.write(lambda c: c.execute(f"DROP TRIGGER {name}"))
    else:
        await db.write(lambda c: c.execute(f"DROP TRIGGER {name} ON {table}"))


def database_error(db: Database) -> type[Exception]:
    """What a failed statement raises on this engine."""
    return sqlite3.IntegrityError if db.dialect == "sqlite" else psycopg.Error

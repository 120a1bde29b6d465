"""Files that hold clients' data are the bot's user's alone, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest
from pytz.tzinfo import BaseTzInfo

from database.backup import backup_file
from database.migrate import migrate
from database.sqlite import SqliteDatabase, connect_sync
from tests.support.clock import FakeClock
from tests.test_migrations import ctx, make_old_db
from utils.logging_setup import setup_logging


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what most systems give: files 0644, folders 0755
    yield
    os.umask(old)


async def test_the_database_its_journal_and_its_folder_are_private(
    tmp_path: Path, tz: BaseTzInfo, clock: FakeClock
) -> None:
    path = tmp_path / "data" / "bot.db"
    migrate(path, ctx(tz))
    database = SqliteDatabase(path)
    await database.open()
    await database.write(lambda c: c.execute("INSERT INTO app_state VALUES ('k', 'v')"))
    files = sorted(p.name for p in path.parent.iterdir())
    assert {"bot.db", "bot.db-wal", "bot.db-shm"} <= set(files)
    assert {name: mode(path.parent / name) for name in files} == dict.fromkeys(files, 0o600)
    assert mode(path.parent) == 0o700
    await database.close()


def test_backups_and_the_copy_before_a_migration_are_private(
    tmp_path: Path, tz: BaseTzInfo
) -> None:
    old = tmp_path / "old.db"
    make_old_db(old, with_duration=True)
    report = migrate(old, ctx(tz))
    assert report.backup is not None and mode(report.backup) == 0o600
    conn = connect_sync(old)
    try:
        copy = backup_file(conn, tmp_path / "backups" / "copy.db")
    finally:
        conn.close()
    assert mode(copy) == 0o600
    assert mode(copy.parent) == 0o700


def test_the_log_file_and_its_rotations_are_private(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "bot.log"
    setup_logging("INFO", str(log))
    try:
        logging.getLogger("test").info("client Anna booked")
        handler = next(
            h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)
        )
        handler.doRollover()
        logging.getLogger("test").info("after the rotation")
        handler.flush()
        assert mode(log) == mode(log.with_name("bot.log.1")) == 0o600
        assert mode(log.parent) == 0o700
    finally:
        setup_logging("INFO", None)

"""Online copies of a SQLite database, each one checked: ``python -m database.backup PATH``, and
the scheduled copies (services/backups.py) kept in a folder as ``bot-YYYYMMDD-HHMMSS.db``.

Uses SQLite's backup API, so the copy is consistent even while the bot writes: it is taken in
one step, inside one read transaction of a read-only connection (WAL lets the bot write on
meanwhile). A copy is written under a hidden temporary name, passes ``PRAGMA integrity_check``,
and only then gets its name, so a half-written or failed copy never looks like a backup.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

from utils.files import new_private_file, private_dir

logger = logging.getLogger(__name__)

BACKUP_PREFIX = "bot-"
# bot-20261203-033000.db; a second copy within the same second gets -2, -3...
BACKUP_NAME = re.compile(r"^bot-(\d{8}-\d{6})(?:-([1-9]\d*))?\.db$")


class BackupError(Exception):
    """A copy was not made, or did not pass its check (the bad copy is deleted)."""


def open_source(path: Path | str, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A read-only connection to the database file: a backup never writes to it, never takes
    the bot's writer, and never creates an empty database where there was none."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


def backup_file(source: sqlite3.Connection, target: Path | str) -> Path:
    """Copies the database into a new 0600 file (FileExistsError if there is one already)."""
    target = new_private_file(Path(target))
    _write_copy(source, target)
    return target


def _write_copy(source: sqlite3.Connection, target: Path) -> None:
    # The copy is a single self-contained file (rollback journal, not the source's WAL), so
    # opening it later leaves no -wal/-shm files beside it.
    dest = sqlite3.connect(str(target), isolation_level=None)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode = DELETE")
    finally:
        dest.close()


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` says about the file: ``["ok"]`` when it is sound."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # not even readable as a database
        return [f"cannot be read: {exc}"]


def check_copy(path: Path) -> None:
    """BackupError unless the copy's integrity_check answers exactly "ok"."""
    problems = integrity_problems(path)
    if problems != ["ok"]:
        shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
        raise BackupError(f"the copy failed integrity_check: {shown}")


def copy_checked(source: sqlite3.Connection, target: Path) -> Path:
    """A checked copy at ``target`` (which must not exist); nothing is left there otherwise."""
    if target.exists():
        raise FileExistsError(f"{target} exists already")
    # A hidden name of this process's own: never taken for a copy, never another's.
    partial = new_private_file(target.with_name(f".{target.name}.{os.getpid()}.partial"))
    try:
        _write_copy(source, partial)
        check_copy(partial)
        if target.exists():  # taken meanwhile (another copy in the same second)
            raise FileExistsError(f"{target} exists already")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    _sync_dir(target.parent)
    return target


def _sync_dir(folder: Path) -> None:
    """Makes the rename itself durable (some file systems cannot sync a folder: fine)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def backup_name(now: datetime, counter: int = 1) -> str:
    """The copy's name from its (local) time: names sort in the order the copies were made."""
    suffix = "" if counter == 1 else f"-{counter}"
    return f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}{suffix}.db"


def _order(path: Path) -> tuple[str, int]:
    match = BACKUP_NAME.match(path.name)
    assert match is not None
    return match.group(1), int(match.group(2) or 1)


def list_backups(folder: Path) -> list[Path]:
    """The copies in the folder, oldest first; any other file is not one."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if BACKUP_NAME.match(p.name) and p.is_file()]
    return sorted(found, key=_order)


def prune(folder: Path, keep: int, *, fresh: Path | None = None) -> list[Path]:
    """Deletes all but the newest ``keep`` copies (``fresh``, the one just made, always stays,
    even if the clock was set back); returns what was deleted. Other files are never touched."""
    if keep < 1:
        raise ValueError("keep at least one copy")
    others = [p for p in list_backups(folder) if fresh is None or p.name != fresh.name]
    kept = keep - 1 if fresh is not None else keep
    doomed = others[: max(len(others) - kept, 0)]
    for path in doomed:
        path.unlink()
    return doomed


def make_backup(
    database: Path | str,
    folder: Path | str,
    *,
    now: datetime,
    keep: int,
    busy_timeout_ms: int = 5000,
) -> Path:
    """One scheduled copy: ``folder/bot-<now>.db`` (``now`` as the wall clock to name it by),
    checked with integrity_check, then the copies beyond the newest ``keep`` deleted.

    Raises BackupError (failed check: the copy is deleted), OSError (no database, folder not
    writable, disk full...) or sqlite3.Error; nothing is pruned unless the new copy is good."""
    folder = private_dir(Path(folder))
    counter = 1
    while (target := folder / backup_name(now, counter)).exists():
        counter += 1
    source = open_source(database, busy_timeout_ms)
    try:
        copy_checked(source, target)
    finally:
        source.close()
    deleted = prune(folder, keep, fresh=target)
    if deleted:
        logger.info(
            "deleted %d old backup(s): %s", len(deleted), ", ".join(p.name for p in deleted)
        )
    return target


def main(argv: list[str] | None = None) -> int:
    from config import load_settings_or_exit
    from utils.logging_setup import setup_logging

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m database.backup PATH", file=sys.stderr)
        return 2
    settings = load_settings_or_exit()
    setup_logging(settings.log_level, settings.log_file, settings.log_format)
    if not settings.database_path.exists():
        logger.error("no database at %s", settings.database_path)
        return 1
    try:
        conn = open_source(settings.database_path, settings.db_busy_timeout_ms)
        try:
            target = copy_checked(conn, Path(args[0]))
        finally:
            conn.close()
    except (BackupError, OSError, sqlite3.Error) as exc:
        logger.error("backup failed: %s", exc)
        return 1
    logger.info("backed up %s to %s (integrity_check: ok)", settings.database_path, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

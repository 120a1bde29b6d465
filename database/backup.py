"""Online copy of a SQLite database: ``python -m database.backup PATH``.

Uses SQLite's backup API, so the copy is consistent even while the bot writes.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

from utils.files import new_private_file

logger = logging.getLogger(__name__)


def backup_file(source: sqlite3.Connection, target: Path | str) -> Path:
    target = new_private_file(Path(target))  # FileExistsError if there is one already
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()
    return target


def main(argv: list[str] | None = None) -> int:
    from config import load_settings_or_exit
    from database.sqlite import connect_sync
    from utils.logging_setup import setup_logging

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m database.backup PATH", file=sys.stderr)
        return 2
    settings = load_settings_or_exit()
    setup_logging(settings.log_level, settings.log_file)
    if not settings.database_path.exists():
        logger.error("no database at %s", settings.database_path)
        return 1
    conn = connect_sync(settings.database_path, settings.db_busy_timeout_ms)
    try:
        target = backup_file(conn, args[0])
    except FileExistsError as exc:
        logger.error("%s", exc)
        return 1
    finally:
        conn.close()
    logger.info("backed up %s to %s", settings.database_path, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

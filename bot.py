"""Composition root: settings -> logging -> database -> services -> run until stopped.

`python bot.py` runs the bot. A missing or bad setting stops it with one line and exit code 2.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from config import Settings, SettingsError, load_settings
from database.migrate import migrate
from database.migrations.base import MigrationContext, MigrationError
from services.container import build_services, database_for
from utils.logging_setup import setup_logging
from utils.timeutil import get_tz, system_clock

logger = logging.getLogger("bot")


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run(settings: Settings) -> None:
    settings.require_bot_token()
    ctx = MigrationContext(tz=get_tz(settings.timezone), now=system_clock())
    report = await asyncio.to_thread(
        migrate, settings.database_path, ctx, busy_timeout_ms=settings.db_busy_timeout_ms
    )
    logger.info(
        "database %s at schema version %d (applied now: %s)",
        settings.database_path,
        report.current_version,
        report.applied or "none",
    )
    db = database_for(settings)
    await db.open()
    try:
        services = build_services(settings, db)
        if await services.schedule.seed_weekly_hours(settings.weekly_hours):
            logger.info("weekly hours seeded from WORKING_HOURS: %s", settings.working_hours)
        stop = asyncio.Event()
        _install_stop_signals(stop)
        logger.info("started; waiting for SIGINT or SIGTERM")
        await stop.wait()
        logger.info("stopping")
    finally:
        await db.close()
        logger.info("stopped cleanly")


def main() -> int:
    try:
        settings = load_settings()
        settings.require_bot_token()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_file)
    try:
        asyncio.run(run(settings))
    except MigrationError as exc:
        logger.error("cannot start: migration failed, the database was not changed: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

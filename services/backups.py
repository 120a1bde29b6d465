"""Scheduled backups of the SQLite database: a checked copy a day into BACKUP_DIR, the newest
BACKUP_KEEP kept, and the admin chat told when they stop working (once) and when they work
again. The copying itself is database/backup.py; it runs in a thread."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from pytz.tzinfo import BaseTzInfo

from config import Settings
from database.backup import BackupError, make_backup
from utils.timeutil import Clock, get_tz, system_clock, to_local

logger = logging.getLogger(__name__)

# Tells the admin chat about backups: why they fail (a few plain English words), or None: they
# work again.
Report = Callable[[str | None], Awaitable[None]]

_REASON_LIMIT = 300


def backup_trigger(settings: Settings) -> CronTrigger:
    """Every day at BACKUP_TIME on the business's wall clock, DST included."""
    hour, minute = settings.backup_at
    return CronTrigger(hour=hour, minute=minute, timezone=get_tz(settings.timezone))


def describe(exc: BaseException) -> str:
    """The failure in a few plain words (no traceback, no errno numbers)."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


class BackupService:
    def __init__(
        self,
        database: Path | str,
        folder: Path | str,
        *,
        keep: int,
        tz: BaseTzInfo,
        report: Report,
        clock: Clock = system_clock,
        busy_timeout_ms: int = 5000,
    ) -> None:
        if keep < 1:
            raise ValueError("keep at least one backup")
        self.database = Path(database)
        self.folder = Path(folder)
        self.keep = keep
        self.tz = tz
        self.report = report
        self.clock = clock
        self.busy_timeout_ms = busy_timeout_ms
        self._failing = False  # the last run failed
        self._failure_reported = False  # ...and the admin chat has heard of it
        self._lock = asyncio.Lock()  # the cron and a catch-up never copy at once

    async def run_once(self) -> Path | None:
        """One checked copy (and pruning); the copy's path, or None when it failed.

        Never raises for a failed backup: the failure is logged, and the first one of a streak
        is reported to the admin chat; the first success after it reports that backups work
        again."""
        async with self._lock:
            now = to_local(self.tz, self.clock())
            try:
                path = await asyncio.to_thread(
                    make_backup,
                    self.database,
                    self.folder,
                    now=now,
                    keep=self.keep,
                    busy_timeout_ms=self.busy_timeout_ms,
                )
            except (BackupError, OSError, sqlite3.Error) as exc:
                await self._failed(describe(exc))
                return None
            except Exception as exc:  # a bug must not go unnoticed for days either
                logger.exception("backup of %s failed unexpectedly", self.database)
                await self._failed(describe(exc), logged=True)
                return None
            await self._succeeded(path)
            return path

    async def _failed(self, reason: str, *, logged: bool = False) -> None:
        if not logged:
            logger.error("backup of %s into %s failed: %s", self.database, self.folder, reason)
        self._failing = True
        if self._failure_reported:
            return  # the admin chat knows already: once per streak
        self._failure_reported = await self._report(reason)

    async def _succeeded(self, path: Path) -> None:
        logger.info("backed up %s to %s (integrity_check: ok)", self.database, path)
        if not self._failing:
            return
        logger.info("backups work again")
        told = self._failure_reported
        self._failing = self._failure_reported = False
        if told:
            await self._report(None)

    async def _report(self, reason: str | None) -> bool:
        try:
            await self.report(reason)
        except Exception:
            # The next failure tries again: the chat should hear of it at least once.
            logger.exception("could not tell the admin chat about backups (%s)", reason or "ok")
            return False
        return True

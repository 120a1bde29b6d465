"""The background jobs (APScheduler, started inside the running loop): the outbox tick every
REMINDER_POLL_SECONDS, the admin chat's morning digest, the daily backup, and a Bot API ping
when nothing else reached it; each beats the health checks it feeds."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, time, timedelta

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from config import Settings
from handlers.backups import make_backup_report
from handlers.digest import make_digest
from handlers.notify import TelegramOutbox
from services.backups import BackupService, backup_trigger
from services.container import Container
from services.health import Health
from utils.i18n import Translations
from utils.lifecycle import InFlight
from utils.timeutil import get_tz, localize_boundary, system_clock, to_local

logger = logging.getLogger("bot")

# /healthz: how long without an answer from the Bot API, or without a scheduler tick, is a
# failure. Polling gets an answer every few seconds; otherwise a ping keeps the contact known.
BOT_API_STALE_SECONDS = 180.0
BOT_API_PING_SECONDS = 60


def scheduler_stale_seconds(settings: Settings) -> float:
    return max(3.0 * settings.reminder_poll_seconds, 180.0)


def digest_trigger(settings: Settings) -> CronTrigger:
    """Every day at ADMIN_DIGEST_TIME on the business's wall clock, DST included."""
    assert settings.digest_at is not None
    hour, minute = settings.digest_at
    return CronTrigger(hour=hour, minute=minute, timezone=get_tz(settings.timezone))


DIGEST_CATCH_UP = timedelta(hours=3)


def digest_missed(settings: Settings, now: datetime) -> bool:
    """Whether this start falls within a few hours after today's digest time."""
    assert settings.digest_at is not None
    hour, minute = settings.digest_at
    tz = get_tz(settings.timezone)
    today = to_local(tz, now).date()
    due = localize_boundary(tz, datetime.combine(today, time(hour, minute)))
    return timedelta(0) <= now - due <= DIGEST_CATCH_UP


def start_scheduler(
    settings: Settings,
    container: Container,
    bot: Bot,
    translations: Translations,
    in_flight: InFlight,
    health: Health,
) -> AsyncIOScheduler:
    """Background jobs: the outbox (reminders, notices) and closing past bookings, every
    REMINDER_POLL_SECONDS; the morning digest; a Bot API ping when nothing else reached it.

    Started inside the running loop; one instance of a job at a time, missed runs coalesced
    into one (APScheduler's default grace of 1 s would drop runs after a busy moment).
    """
    channel = TelegramOutbox(bot, translations, container.business, container.clients, settings)

    async def tick() -> None:
        health.beat("scheduler")
        with in_flight.track():
            # Each job on its own: one failing never keeps the others (the outbox above all)
            # from running. Pending requests and holds are settled before past bookings are
            # closed: a pending one whose start came is declined, never completed.
            jobs = (
                container.approvals.decline_overdue,
                container.waitlist.expire_holds,
                container.waitlist.sweep,
                container.jobs.complete_past,
                lambda: container.outbox.dispatch_due(channel),
            )
            for job in jobs:
                try:
                    await job()
                except Exception:  # logged (and sent to Sentry); the next tick tries again
                    logger.exception("a scheduler job failed")
        health.beat("scheduler")

    async def ping() -> None:
        age = health.age("bot_api")
        if age is None or age >= BOT_API_PING_SECONDS:  # a webhook bot with no traffic
            with contextlib.suppress(Exception):  # a failure shows as a stale contact
                await bot.get_me()

    send_digest = make_digest(bot, container, translations, settings)

    async def digest() -> None:
        with in_flight.track():
            await send_digest()

    scheduler = AsyncIOScheduler(
        timezone=get_tz(settings.timezone),
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.reminder_poll_seconds * 2,
        },
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=settings.reminder_poll_seconds,
        id="reminders",
        next_run_time=system_clock(),
    )
    scheduler.add_job(ping, "interval", seconds=BOT_API_PING_SECONDS, id="bot-api-ping")
    if settings.digest_at is not None:
        hour, minute = settings.digest_at
        scheduler.add_job(digest, digest_trigger(settings), id="digest")
        logger.info("the agenda goes out daily at %02d:%02d", hour, minute)
        if digest_missed(settings, system_clock()):
            # Down at the digest time this morning: send it now (once: claim_digest).
            scheduler.add_job(digest, next_run_time=system_clock(), id="digest-catch-up")
    if settings.backup_dir is not None:
        if settings.database.dialect == "sqlite":
            backups = BackupService(
                settings.database_path,
                settings.backup_dir,
                keep=settings.backup_keep,
                tz=get_tz(settings.timezone),
                report=make_backup_report(bot, translations, settings),
                busy_timeout_ms=settings.db_busy_timeout_ms,
            )

            async def backup() -> None:
                with in_flight.track():
                    await backups.run_once()

            scheduler.add_job(backup, backup_trigger(settings), id="backup")
            hour, minute = settings.backup_at
            logger.info(
                "a checked backup daily at %02d:%02d into %s (the newest %d kept)",
                hour,
                minute,
                settings.backup_dir,
                settings.backup_keep,
            )
        else:
            logger.warning("BACKUP_DIR is ignored on PostgreSQL: use pg_dump (see the README)")
    scheduler.start()
    return scheduler

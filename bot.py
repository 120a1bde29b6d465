"""Composition root: settings -> logging/Sentry -> database -> services -> Bot + Dispatcher ->
long polling until SIGINT/SIGTERM.

`python bot.py` runs the bot. A missing or bad setting stops it with one line and exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable
from datetime import datetime, time, timedelta
from typing import TypeVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from config import Settings, SettingsError, load_settings
from database.migrate import migrate_url
from database.migrations.base import MigrationContext, MigrationError
from handlers import build_dispatcher, set_commands
from handlers.digest import make_digest
from handlers.middlewares import RetryAfterMiddleware
from handlers.reminders import TelegramReminders
from services.container import Container, build_services, database_for
from utils.i18n import Translations
from utils.lifecycle import InFlight
from utils.logging_setup import setup_logging
from utils.sentry import init_sentry
from utils.timeutil import get_tz, localize_boundary, system_clock, to_local

logger = logging.getLogger("bot")

SHUTDOWN_GRACE_SECONDS = 15.0
T = TypeVar("T")


class TokenRejected(Exception):
    """Telegram answered 401 to the token."""


def make_bot(settings: Settings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryAfterMiddleware())
    return Bot(
        settings.require_bot_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None if a stop signal comes first (``work`` is then cancelled).

    A Bot API that accepts connections but never answers (or a flood-control wait) would
    otherwise hold SIGTERM off until aiohttp's own timeout.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def _handshake(bot: Bot, translations: Translations, settings: Settings) -> User:
    me = await bot.get_me()
    # Updates that arrived while the bot was down are kept: a webhook would hide them from
    # getUpdates, so it is removed without dropping anything.
    await bot.delete_webhook(drop_pending_updates=False)
    await set_commands(bot, translations, settings.default_language)
    return me


async def _connect(
    bot: Bot, translations: Translations, settings: Settings, stop: asyncio.Event
) -> bool:
    """Run the start-up calls until they all succeed (backing off), or until a stop signal."""
    delay = 1.0
    while not stop.is_set():
        try:
            me = await _unless_stopped(_handshake(bot, translations, settings), stop)
        except TelegramUnauthorizedError as exc:
            raise TokenRejected from exc
        except TelegramRetryAfter as exc:
            # Flood control longer than the session middleware waits out (restart loops).
            logger.warning("Bot API flood control; retrying in %ss", exc.retry_after)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), exc.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as exc:
            logger.warning("Bot API not reachable (%s); retrying in %.0fs", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 60)
            continue
        if me is None:
            break
        logger.info("connected as @%s (id %s)", me.username, me.id)
        return True
    return False


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
) -> AsyncIOScheduler:
    """Background jobs: reminders (and closing past bookings) every REMINDER_POLL_SECONDS.

    Started inside the running loop; one instance of a job at a time, missed runs coalesced
    into one (APScheduler's default grace of 1 s would drop runs after a busy moment).
    """
    channel = TelegramReminders(bot, translations, container.business, container.clients, settings)

    async def tick() -> None:
        with in_flight.track():
            try:
                await container.jobs.complete_past()
                await container.reminders.dispatch_due(channel)
            except Exception:  # logged (and sent to Sentry); the next tick tries again
                logger.exception("reminder tick failed")

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
    if settings.digest_at is not None and settings.admin_chat_id is not None:
        hour, minute = settings.digest_at
        scheduler.add_job(digest, digest_trigger(settings), id="digest")
        logger.info("the admin chat gets the agenda daily at %02d:%02d", hour, minute)
        if digest_missed(settings, system_clock()):
            # Down at the digest time this morning: send it now (once: claim_digest).
            scheduler.add_job(digest, next_run_time=system_clock(), id="digest-catch-up")
    scheduler.start()
    return scheduler


async def run(settings: Settings) -> None:
    ctx = MigrationContext(tz=get_tz(settings.timezone), now=system_clock())
    report = await asyncio.to_thread(
        migrate_url, settings.database, ctx, busy_timeout_ms=settings.db_busy_timeout_ms
    )
    logger.info(
        "database %s at schema version %d (applied now: %s)",
        settings.database,
        report.current_version,
        report.applied or "none",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    db = database_for(settings)
    await db.open()
    bot = make_bot(settings)
    scheduler: AsyncIOScheduler | None = None
    in_flight = InFlight()
    try:
        container = build_services(settings, db)
        if await container.schedule.seed_weekly_hours(settings.weekly_hours):
            logger.info("weekly hours seeded from WORKING_HOURS: %s", settings.working_hours)
        if backfilled := await container.jobs.backfill_outbox():
            logger.info("reminders scheduled for %d bookings that had none", backfilled)
        translations = Translations()
        dp = build_dispatcher(settings, container, translations=translations, in_flight=in_flight)
        if not await _connect(bot, translations, settings, stop):
            return
        scheduler = start_scheduler(settings, container, bot, translations, in_flight)
        polling = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        stopping = asyncio.create_task(stop.wait())
        logger.info("started: polling %s", settings.telegram_api_url)
        await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            logger.info("stopping")
            with contextlib.suppress(RuntimeError):  # polling had not fully started yet
                await dp.stop_polling()
            await polling
        stopping.cancel()
        polling.result()
    finally:
        if scheduler is not None:
            scheduler.pause()  # no new runs; shutdown() would cancel the one running now
        # Updates already handed to handlers, and a job halfway through, finish first.
        await in_flight.drain(timeout=SHUTDOWN_GRACE_SECONDS)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        await bot.session.close()
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
    init_sentry(settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None)
    try:
        asyncio.run(run(settings))
    except TokenRejected:
        print("BOT_TOKEN was rejected by Telegram (401): check the token", file=sys.stderr)
        return 2
    except MigrationError as exc:
        logger.error("cannot start: migration failed, the database was not changed: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Composition root: settings -> logging/Sentry -> database -> services -> Bot + Dispatcher ->
long polling until SIGINT/SIGTERM.

`python bot.py` runs the bot. A missing or bad setting stops it with one line and exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import User
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from config import Settings, SettingsError, load_settings
from database.engine import Database, DriverMissing, require_module
from database.migrate import migrate_url
from database.migrations.base import MigrationContext, MigrationError
from domain.errors import StorageUnavailable
from handlers import build_dispatcher, set_commands
from handlers.http import make_web_app
from handlers.middlewares import ApiObserver, RetryAfterMiddleware
from handlers.scheduler import (
    BOT_API_STALE_SECONDS,
    scheduler_stale_seconds,
    start_scheduler,
)
from handlers.session import BotSession
from services.container import build_services, database_for
from services.health import Health
from utils.backoff import pause, unless_stopped, until_ready
from utils.i18n import Translations
from utils.lifecycle import InFlight
from utils.logging_setup import setup_logging
from utils.sentry import init_sentry
from utils.throttle import Limiter, RedisLimiter
from utils.timeutil import get_tz, system_clock

logger = logging.getLogger("bot")

SHUTDOWN_GRACE_SECONDS = 15.0


class TokenRejected(Exception):
    """Telegram answered 401 to the token."""


class WebPortUnavailable(Exception):
    """The bot's HTTP server cannot listen where WEB_HOST and WEB_PORT say."""


# What the bot handles (and asks Telegram for): messages and button presses.
ALLOWED_UPDATES = ["message", "callback_query"]
WEBHOOK_MAX_CONNECTIONS = 40


def make_bot(settings: Settings, health: Health | None = None) -> Bot:
    session = BotSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryAfterMiddleware())
    session.middleware(ApiObserver(lambda: health.beat("bot_api")) if health else ApiObserver())
    return Bot(
        settings.require_bot_token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


async def _handshake(bot: Bot, translations: Translations, settings: Settings) -> User:
    me = await bot.get_me()
    if settings.webhook_url:
        # Every replica may say so; pending updates are kept, and the webhook stays at stop.
        assert settings.webhook_secret is not None
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
            max_connections=WEBHOOK_MAX_CONNECTIONS,
            drop_pending_updates=False,
        )
    else:
        # Updates that arrived while the bot was down are kept: a webhook would hide them
        # from getUpdates, so it is removed without dropping anything.
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
            me = await unless_stopped(_handshake(bot, translations, settings), stop)
        except TelegramUnauthorizedError as exc:
            raise TokenRejected from exc
        except TelegramRetryAfter as exc:
            # Flood control longer than the session middleware waits out (restart loops).
            logger.warning("Bot API flood control; retrying in %ss", exc.retry_after)
            await pause(stop, exc.retry_after)
            continue
        except (TelegramNetworkError, TelegramServerError) as exc:
            logger.warning("Bot API not reachable (%s); retrying in %.0fs", exc, delay)
            await pause(stop, delay)
            delay = min(delay * 2, 60)
            continue
        if me is None:
            break
        logger.info("connected as @%s (id %s)", me.username, me.id)
        return True
    return False


async def _open_storage(
    settings: Settings, stop: asyncio.Event
) -> tuple[BaseStorage, BaseEventIsolation, Limiter | None] | None:
    """FSM state, per-user isolation and throttling: in Redis (shared by replicas) when
    REDIS_URL is set, else in this process. None if a stop signal came while Redis was being
    waited for."""
    if settings.redis_url is None:
        return MemoryStorage(), SimpleEventIsolation(), None
    redis_storage = require_module("aiogram.fsm.storage.redis", "REDIS_URL")
    redis_asyncio = require_module("redis.asyncio", "REDIS_URL")
    redis_exceptions = require_module("redis.exceptions", "REDIS_URL")
    client = redis_asyncio.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    reachable = await until_ready(
        lambda: client.ping(),
        stop,
        "Redis",
        (redis_exceptions.ConnectionError, redis_exceptions.TimeoutError, OSError),
    )
    if reachable is None:
        await client.aclose()
        return None
    storage = redis_storage.RedisStorage(
        client, key_builder=redis_storage.DefaultKeyBuilder(with_bot_id=True)
    )
    limiter = None
    if settings.rate_limit > 0:
        limiter = RedisLimiter(client, settings.rate_limit, settings.rate_burst)
    return storage, storage.create_isolation(), limiter


async def _open_database(settings: Settings, stop: asyncio.Event) -> Database | None:
    """Migrated and open; waits (backing off) while the server is unreachable."""
    ctx = MigrationContext(tz=get_tz(settings.timezone), now=system_clock())
    report = await until_ready(
        lambda: asyncio.to_thread(
            migrate_url, settings.database, ctx, busy_timeout_ms=settings.db_busy_timeout_ms
        ),
        stop,
        "the database",
        (StorageUnavailable,),
    )
    if report is None:
        return None
    logger.info(
        "database %s at schema version %d (applied now: %s)",
        settings.database,
        report.current_version,
        report.applied or "none",
    )

    async def opened() -> Database:
        db = database_for(settings)  # a new one each try: a pool that failed cannot reopen
        await db.open()
        return db

    return await until_ready(opened, stop, "the database", (StorageUnavailable,))


async def _start_web(settings: Settings, app: web.Application) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise WebPortUnavailable(
            f"WEB_HOST:WEB_PORT {settings.web_host}:{settings.web_port} cannot be used: {exc}"
        ) from exc
    logger.info("HTTP server on %s:%s", settings.web_host, settings.web_port)
    return runner


def settle_heap() -> None:
    """Start-up is over: what it made lives as long as the process (aiogram's and pydantic's
    classes and schemas, the services, the Dispatcher). It is moved out of the cyclic garbage
    collector's sight (``gc.freeze``), so that a full collection no longer walks some 200,000
    objects that will never be garbage. In benchmarks/pipeline.py's bursts those walks held
    the event loop for tens of milliseconds each, several times per thousand updates."""
    gc.collect()  # start-up's own garbage is not kept forever
    gc.freeze()


async def run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    health = Health()
    db = await _open_database(settings, stop)
    if db is None:
        return
    health.passed("migrations")
    health.probe("database", db.ping)
    health.watch("bot_api", BOT_API_STALE_SECONDS)
    health.watch("scheduler", scheduler_stale_seconds(settings))
    bot = make_bot(settings, health)
    scheduler: AsyncIOScheduler | None = None
    web_runner: web.AppRunner | None = None
    storage: BaseStorage | None = None
    in_flight = InFlight()
    try:
        opened = await _open_storage(settings, stop)
        if opened is None:
            return
        storage, isolation, limiter = opened
        if settings.redis_url is not None:
            health.passed("redis")
        container = build_services(settings, db)
        if await container.schedule.seed_weekly_hours(settings.weekly_hours):
            logger.info("weekly hours seeded from WORKING_HOURS: %s", settings.working_hours)
        if backfilled := await container.jobs.backfill_outbox():
            logger.info("reminders scheduled for %d bookings that had none", backfilled)
        translations = Translations()
        dp = build_dispatcher(
            settings,
            container,
            translations=translations,
            storage=storage,
            events_isolation=isolation,
            in_flight=in_flight,
            limiter=limiter,
        )
        webhook = settings.webhook_url is not None
        if webhook:
            health.expect("webhook")
        if settings.web_port is not None:
            app = make_web_app(
                health,
                dispatcher=dp if webhook else None,
                bot=bot,
                webhook_path=settings.webhook_path if webhook else None,
                secret=settings.webhook_secret.get_secret_value()
                if settings.webhook_secret
                else None,
                before_metrics=container.outbox.measure_backlog,
            )
            web_runner = await _start_web(settings, app)
        if not await _connect(bot, translations, settings, stop):
            return
        scheduler = start_scheduler(settings, container, bot, translations, in_flight, health)
        settle_heap()
        if webhook:
            health.passed("webhook")
            logger.info("started: webhook %s", settings.webhook_url)
            await stop.wait()
            logger.info("stopping")
        else:
            await _poll(dp, bot, settings, stop)
    finally:
        if web_runner is not None:
            for site in list(web_runner.sites):
                await site.stop()  # no new requests; updates already taken are drained below
        if scheduler is not None:
            scheduler.pause()  # no new runs; shutdown() would cancel the one running now
            container.outbox.stop()  # the reminder being sent finishes; no new one starts
        # Updates already handed to handlers, and a job halfway through, finish first.
        await in_flight.drain(timeout=SHUTDOWN_GRACE_SECONDS)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
            await container.outbox.release()  # claimed, never tried: pending again
        if web_runner is not None:
            await web_runner.cleanup()
        await bot.session.close()
        if storage is not None:
            await storage.close()
        await db.close()
        logger.info("stopped cleanly")


async def _poll(dp: Dispatcher, bot: Bot, settings: Settings, stop: asyncio.Event) -> None:
    polling = asyncio.create_task(
        dp.start_polling(
            bot, handle_signals=False, close_bot_session=False, allowed_updates=ALLOWED_UPDATES
        )
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


def main() -> int:
    try:
        settings = load_settings()
        settings.require_bot_token()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    setup_logging(settings.log_level, settings.log_file, settings.log_format)
    init_sentry(settings.sentry_dsn.get_secret_value() if settings.sentry_dsn else None)
    try:
        asyncio.run(run(settings))
    except TokenRejected:
        print("BOT_TOKEN was rejected by Telegram (401): check the token", file=sys.stderr)
        return 2
    except MigrationError as exc:
        logger.error("cannot start: migration failed, the database was not changed: %s", exc)
        return 1
    except (DriverMissing, WebPortUnavailable) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

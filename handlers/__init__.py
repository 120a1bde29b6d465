"""aiogram routers, and the one function that assembles them into a Dispatcher."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.enums import ChatType
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from config import Settings
from handlers import booking, errors, my_bookings, registration, reminders, start, waitlist
from handlers.admin import router as admin
from handlers.filters import inline
from handlers.middlewares import (
    ClientContext,
    InFlightMiddleware,
    NotifierMiddleware,
    Services,
    ThrottleMiddleware,
    UpdateObserver,
)
from handlers.notify import TelegramOutbox
from services.container import Container
from services.notifier import Notifier
from utils.i18n import LANGUAGES, Translations
from utils.lifecycle import InFlight
from utils.throttle import Limiter, MemoryLimiter

COMMANDS = ("start", "book", "my", "help", "language")


def get_routers(container: Container) -> list[Router]:
    """Fresh client routers, in the order they are tried (the fallback router last)."""
    booking_router = booking.make_router()
    waitlist.register(booking_router)
    return [
        start.make_router(container.accounts),
        registration.make_router(),
        booking_router,
        my_bookings.make_router(),
        reminders.make_router(),
        errors.make_router(),
    ]


def build_dispatcher(
    settings: Settings,
    container: Container,
    *,
    translations: Translations | None = None,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    in_flight: InFlight | None = None,
    limiter: Limiter | None = None,
) -> Dispatcher:
    """The Dispatcher bot.py polls with and the tests feed updates to.

    Handlers ask for the services they use by name (``booking``, ``staff``, ``catalog``...:
    ``Container.by_name``); filters cannot (they get theirs when made). ``in_flight`` tracks
    each update's task, so a shutdown can let them finish first. ``limiter``: per-user
    throttling (default: in this process, from RATE_LIMIT and RATE_BURST; none when RATE_LIMIT
    is 0).
    """
    tr = translations or Translations()
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation,
        settings=settings,
        translations=tr,
    )
    # The services join a handler's data only once its filters have matched: everything in
    # the data is copied at each router an update walks (aiogram passes it as **kwargs), and
    # the fourteen services doubled that cost (benchmarks/pipeline.py).
    services = Services(container.by_name())
    for observer in (dp.message, dp.callback_query, dp.errors):
        observer.middleware(services)
    dp.errors.register(errors.on_error, ExceptionTypeFilter(Exception))
    if in_flight is not None:
        dp.update.outer_middleware(InFlightMiddleware(in_flight))
    dp.update.outer_middleware(UpdateObserver())
    if limiter is None and settings.rate_limit > 0:
        limiter = MemoryLimiter(settings.rate_limit, settings.rate_burst)
    if limiter is not None:
        dp.update.outer_middleware(
            ThrottleMiddleware(limiter, settings.admin_ids, tr, settings.default_language)
        )
    # Every handler gets a Notifier: the notices its change wrote to the outbox (admin cards,
    # client news) are delivered at once, with this update's bot.
    dp.update.outer_middleware(
        NotifierMiddleware(
            lambda bot: Notifier(
                container.outbox,
                TelegramOutbox(bot, tr, container.business, container.clients, settings),
            )
        )
    )
    # Before the client routers: an admin's command in their private chat is the admin's; a
    # non-admin's falls through to the clients' "unknown command".
    dp.include_routers(*admin.make_routers(settings, tr))

    clients = Router(name="clients")
    # The client conversation lives in private chats only; groups (the admin chat) are not
    # clients' business.
    clients.message.filter(inline(F.chat.type == ChatType.PRIVATE))
    clients.callback_query.filter(inline(F.message.chat.type == ChatType.PRIVATE))
    context = ClientContext(container.clients, tr, settings.default_language)
    clients.message.middleware(context)
    clients.callback_query.middleware(context)
    clients.include_routers(*get_routers(container))
    dp.include_router(clients)
    return dp


async def set_commands(bot: Bot, translations: Translations, default: str) -> None:
    """The command menu in each language, and in the default one for everybody else."""
    for language in (*LANGUAGES, None):
        t = translations(language or default)
        commands = [BotCommand(command=c, description=t(f"command.{c}")) for c in COMMANDS]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
        )

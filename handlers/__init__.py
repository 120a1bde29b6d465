"""aiogram routers, and the one function that assembles them into a Dispatcher."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.enums import ChatType
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from config import Settings
from handlers import admin, booking, errors, my_bookings, reminders, start
from handlers.middlewares import ClientContext, InFlightMiddleware
from handlers.notify import NotifierMiddleware
from handlers.views import Shop
from services.container import Services
from utils.i18n import LANGUAGES, Translations
from utils.lifecycle import InFlight
from utils.timeutil import get_tz

COMMANDS = ("start", "book", "my", "help", "language")


def get_routers() -> list[Router]:
    """Fresh client routers, in the order they are tried (the fallback router last)."""
    return [
        start.make_router(),
        booking.make_router(),
        my_bookings.make_router(),
        reminders.make_router(),
        errors.make_router(),
    ]


def shop_from(settings: Settings) -> Shop:
    return Shop(
        name=settings.business_name,
        address=settings.business_address,
        phone=settings.business_phone,
        currency=settings.currency,
        tz=get_tz(settings.timezone),
        max_active=settings.max_active_bookings_per_user,
        min_lead_minutes=settings.min_lead_minutes,
        horizon_days=settings.booking_horizon_days,
        cancel_cutoff_minutes=settings.cancel_cutoff_minutes,
    )


def build_dispatcher(
    settings: Settings,
    services: Services,
    *,
    translations: Translations | None = None,
    storage: BaseStorage | None = None,
    in_flight: InFlight | None = None,
) -> Dispatcher:
    """The Dispatcher bot.py polls with and the tests feed updates to.

    ``in_flight`` tracks each update's task, so a shutdown can let them finish first.
    """
    translations = translations or Translations()
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        settings=settings,
        services=services,
        clients=services.clients,
        translations=translations,
        shop=shop_from(settings),
    )
    dp.errors.register(errors.on_error, ExceptionTypeFilter(Exception))
    if in_flight is not None:
        dp.update.outer_middleware(InFlightMiddleware(in_flight))
    # Every handler gets a Notifier (admin cards, client notices) sending with this update's bot.
    dp.update.outer_middleware(
        NotifierMiddleware(settings, translations, shop_from(settings), services.clients)
    )
    # Before the client routers: an admin's command in their private chat is the admin's; a
    # non-admin's falls through to the clients' "unknown command".
    dp.include_router(admin.make_router(settings, translations))

    clients = Router(name="clients")
    # The client conversation lives in private chats only; groups (the admin chat) are not
    # clients' business.
    clients.message.filter(F.chat.type == ChatType.PRIVATE)
    clients.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    context = ClientContext(services.clients, translations, settings.default_language)
    clients.message.middleware(context)
    clients.callback_query.middleware(context)
    clients.include_routers(*get_routers())
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

"""The last resort: buttons nothing else understood, unknown commands, stray text, and errors."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import CallbackQuery, ErrorEvent, Message

from config import Settings
from domain.errors import StorageUnavailable
from handlers.callback_data import Label, Noop
from handlers.common import alert
from handlers.filters import inline
from services.clients import ClientService
from utils.i18n import Translations, Translator

logger = logging.getLogger(__name__)


async def closed_day(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("alert.day_unavailable"))


async def label(callback: CallbackQuery) -> None:
    await callback.answer()


async def stale_button(callback: CallbackQuery, t: Translator) -> None:
    """Old keyboards (from before an update), double clicks on gone screens, forged data."""
    logger.info("unhandled callback data %r from %s", callback.data, callback.from_user.id)
    await alert(callback, t("alert.stale"))


async def unknown_command(message: Message, t: Translator) -> None:
    await message.answer(t("hint.unknown_command"))


async def stray_message(message: Message, t: Translator) -> None:
    await message.answer(t("hint.free_text"))


async def on_error(
    event: ErrorEvent, translations: Translations, clients: ClientService, settings: Settings
) -> bool:
    """Log (and so report to Sentry) and tell the user something went wrong; never re-raise.

    A database that cannot be reached right now (an outage, a restart) is not a bug: a warning,
    and the user is asked to try again in a minute.
    """
    outage = isinstance(event.exception, StorageUnavailable)
    if outage:
        logger.warning("update %s: %s", event.update.update_id, event.exception)
    else:
        logger.error("error handling update %s", event.update.update_id, exc_info=event.exception)
    update = event.update
    user = getattr(update.event, "from_user", None)
    language = getattr(user, "language_code", None)
    try:  # the language the client chose, when we know them and the database answers
        client = await clients.get(user.id) if user is not None else None
        language = client.language if client and client.language else language
    except Exception:
        logger.warning("could not look up the client's language", exc_info=True)
    t = translations(language, settings.default_language)
    text = t("error.unavailable") if outage else t("error.generic")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:  # the apology itself failed (network, blocked bot): the log has it
        logger.warning("could not tell the user about the error", exc_info=True)
    return True


def make_router() -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="fallback")
    router.callback_query.register(closed_day, Noop.filter(F.why == Label.CLOSED_DAY))
    router.callback_query.register(label, Noop.filter())
    router.callback_query.register(stale_button)
    router.message.register(unknown_command, inline(F.text.startswith("/")))
    router.message.register(stray_message)
    return router

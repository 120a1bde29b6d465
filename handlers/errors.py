"""The last resort: buttons nothing else understood, unknown commands, stray text, and errors."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.types import CallbackQuery, ErrorEvent, Message

from handlers.callback_data import Noop
from handlers.common import alert
from utils.i18n import Translations, Translator

logger = logging.getLogger(__name__)

router = Router(name="fallback")


@router.callback_query(Noop.filter(F.why == "day"))
async def closed_day(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("alert.day_unavailable"))


@router.callback_query(Noop.filter())
async def label(callback: CallbackQuery) -> None:
    await callback.answer()


@router.callback_query()
async def stale_button(callback: CallbackQuery, t: Translator) -> None:
    """Old keyboards (from before an update), double clicks on gone screens, forged data."""
    logger.info("unhandled callback data %r from %s", callback.data, callback.from_user.id)
    await alert(callback, t("alert.stale"))


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, t: Translator) -> None:
    await message.answer(t("hint.unknown_command"))


@router.message()
async def stray_message(message: Message, t: Translator) -> None:
    await message.answer(t("hint.free_text"))


async def on_error(event: ErrorEvent, translations: Translations) -> bool:
    """Log (and so report to Sentry) and tell the user something went wrong; never re-raise."""
    logger.error("error handling update %s", event.update.update_id, exc_info=event.exception)
    update = event.update
    user = getattr(update.event, "from_user", None)
    t = translations(getattr(user, "language_code", None))
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t("error.generic"), show_alert=True)
        elif update.message is not None:
            await update.message.answer(t("error.generic"))
    except Exception:  # the apology itself failed (network, blocked bot): the log has it
        logger.warning("could not tell the user about the error", exc_info=True)
    return True

"""The admin chat's morning digest: the day's agenda, sent by a cron job in bot.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot

from config import Settings
from handlers import admin_views
from handlers.views import Shop
from services.container import Services
from utils.i18n import Translations

logger = logging.getLogger(__name__)


def make_digest(
    bot: Bot, services: Services, translations: Translations, shop: Shop, settings: Settings
) -> Callable[[], Awaitable[None]]:
    async def send_digest() -> None:
        if settings.admin_chat_id is None:
            return
        t = translations(settings.default_language)
        day = services.booking.today()
        if not await services.schedule.claim_digest(day):
            return  # already sent today (by the cron job, or by a catch-up after a restart)
        screens = admin_views.agenda_screens(t, shop, day, await services.booking.agenda(day))
        for screen in screens:
            await bot.send_message(settings.admin_chat_id, screen.text, reply_markup=screen.markup)
        logger.info("sent the agenda of %s to the admin chat", day)

    return send_digest

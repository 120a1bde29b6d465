"""The admin chat's morning digest: the day's agenda, sent by a cron job in bot.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot

from config import Settings
from handlers.admin.views import agenda_screens
from services.container import Container
from utils.i18n import Translations

logger = logging.getLogger(__name__)


def make_digest(
    bot: Bot,
    container: Container,
    translations: Translations,
    settings: Settings,
) -> Callable[[], Awaitable[None]]:
    admin_chat_id = settings.admin_chat_id

    async def send_digest() -> None:
        if admin_chat_id is None:
            return
        t = translations(settings.default_language)
        day = container.staff.today()
        if not await container.schedule.claim_digest(day):
            return  # already sent today (by the cron job, or by a catch-up after a restart)
        agenda = await container.staff.agenda(day)
        for screen in agenda_screens(t, container.business, day, agenda):
            await bot.send_message(admin_chat_id, screen.text, reply_markup=screen.markup)
        logger.info("sent the agenda of %s to the admin chat", day)

    return send_digest

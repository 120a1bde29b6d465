"""The morning digest, sent by a cron job (handlers/scheduler.py): the day's agenda to the admin
chat, and each linked specialist's own bookings to their private chat.

Each digest is claimed before it is sent (once a day, across restarts and replicas), so nobody
else will send it: a message that meets a network failure or a 5xx from Telegram is tried again
by this process, after RETRY_PAUSES. A refusal (blocked, chat not found) is not."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramServerError
from aiogram.types import InlineKeyboardMarkup

from config import Settings
from handlers.admin.views import agenda_screens
from handlers.specialist import agenda_text
from services.container import Container
from utils.i18n import Translations

logger = logging.getLogger(__name__)

RETRY_PAUSES = (30.0, 60.0, 120.0, 240.0)  # seconds before each new try of one message


def make_digest(
    bot: Bot,
    container: Container,
    translations: Translations,
    settings: Settings,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Callable[[], Awaitable[None]]:
    admin_chat_id = settings.admin_chat_id

    async def send(chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        for pause in (*RETRY_PAUSES, None):
            try:
                await bot.send_message(chat_id, text, reply_markup=markup)
                return
            except (TelegramNetworkError, TelegramServerError) as exc:
                if pause is None:
                    raise
                logger.warning("the digest to %s: %s; trying again in %.0f s", chat_id, exc, pause)
                await sleep(pause)

    async def send_digest() -> None:
        day = container.staff.today()
        if admin_chat_id is not None and await container.schedule.claim_digest(day):
            # Once a day, by the cron job or a catch-up after a restart.
            await _to_admins(admin_chat_id, day)
        for specialist_id, user_id in await container.accounts.linked():
            if await container.schedule.claim_digest(day, specialist_id):
                await _to_specialist(specialist_id, user_id, day)

    async def _to_admins(chat_id: int, day: date) -> None:
        t = translations(settings.default_language)
        agenda = await container.staff.agenda(day)
        try:
            for screen in agenda_screens(t, container.business, day, agenda):
                await send(chat_id, screen.text, screen.markup)
        except TelegramAPIError as exc:  # the specialists still get theirs
            logger.warning("the agenda of %s did not reach the admin chat: %s", day, exc)
            return
        logger.info("sent the agenda of %s to the admin chat", day)

    async def _to_specialist(specialist_id: int, user_id: int, day: date) -> None:
        """Their own agenda, in the language their chat with the bot speaks."""
        client = await container.clients.get(user_id)
        t = translations(client.language if client else None, settings.default_language)
        found = await container.accounts.agenda(specialist_id, day, day)
        try:
            await send(user_id, agenda_text(t, container.business, day, day, found))
        except (
            TelegramAPIError
        ) as exc:  # blocked the bot, left Telegram: the others still get theirs
            logger.warning("specialist %s's agenda not delivered: %s", specialist_id, exc)
            return
        logger.info("sent the agenda of %s to specialist %s", day, specialist_id)

    return send_digest

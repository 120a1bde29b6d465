"""Rendering and sending the Notifier's notices to Telegram (services/notifier.py says what)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError

from config import Settings
from domain.rules import Business
from handlers.admin.notices import admin_card, client_notice
from services.clients import ClientService
from services.notifier import Notice
from utils.i18n import Translations

logger = logging.getLogger(__name__)


class TelegramOutput:
    """What the bot needs to send on its own: the bot, the texts, the business, the clients (to
    mark one unreachable) and the admin chat with its language."""

    def __init__(
        self,
        bot: Bot,
        translations: Translations,
        business: Business,
        clients: ClientService,
        settings: Settings,
    ) -> None:
        self.bot = bot
        self.translations = translations
        self.business = business
        self.clients = clients
        self.admin_chat_id = settings.admin_chat_id
        self.default_language = settings.default_language


class TelegramDelivery(TelegramOutput):
    """Cards to ADMIN_CHAT_ID in DEFAULT_LANGUAGE; client notices in the client's language."""

    async def __call__(self, notice: Notice) -> None:
        if notice.to_admins:
            if self.admin_chat_id is None:
                logger.debug("no ADMIN_CHAT_ID: the %s card is not sent", notice.kind)
                return
            t = self.translations(self.default_language)
            screen = admin_card(t, self.business, notice)
            await self.bot.send_message(self.admin_chat_id, screen.text, reply_markup=screen.markup)
            return
        client_id = notice.details.booking.client_id
        t = self.translations(notice.details.client_language, self.default_language)
        screen = client_notice(t, self.business, notice)
        try:
            await self.bot.send_message(client_id, screen.text, reply_markup=screen.markup)
        except TelegramForbiddenError:
            # Blocked the bot: remembered, so /client shows it; the Notifier logs the failure.
            await self.clients.mark_unreachable(client_id)
            raise

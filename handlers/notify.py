"""Rendering and sending the Notifier's notices to Telegram (services/notifier.py says what)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import TelegramObject

from config import Settings
from handlers import admin_views
from handlers.views import Shop
from services.clients import ClientService
from services.notifier import Notice, Notifier
from utils.i18n import Translations

logger = logging.getLogger(__name__)


class TelegramDelivery:
    """Cards to ADMIN_CHAT_ID in DEFAULT_LANGUAGE; client notices in the client's language."""

    def __init__(
        self,
        bot: Bot,
        settings: Settings,
        translations: Translations,
        shop: Shop,
        clients: ClientService,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.translations = translations
        self.shop = shop
        self.clients = clients

    async def __call__(self, notice: Notice) -> None:
        default = self.settings.default_language
        if notice.to_admins:
            if self.settings.admin_chat_id is None:
                logger.debug("no ADMIN_CHAT_ID: the %s card is not sent", notice.kind)
                return
            screen = admin_views.admin_card(self.translations(default), self.shop, notice)
            await self.bot.send_message(
                self.settings.admin_chat_id, screen.text, reply_markup=screen.markup
            )
            return
        client_id = notice.details.booking.client_id
        t = self.translations(notice.details.client_language, default)
        screen = admin_views.client_notice(t, self.shop, notice)
        try:
            await self.bot.send_message(client_id, screen.text, reply_markup=screen.markup)
        except TelegramForbiddenError:
            # Blocked the bot: remembered, so /client shows it; the Notifier logs the failure.
            await self.clients.mark_unreachable(client_id)
            raise


class NotifierMiddleware(BaseMiddleware):
    """Gives every handler a ``notifier`` that sends with the bot handling the update."""

    def __init__(
        self, settings: Settings, translations: Translations, shop: Shop, clients: ClientService
    ) -> None:
        self.settings = settings
        self.translations = translations
        self.shop = shop
        self.clients = clients

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        bot: Bot = data["bot"]
        data["notifier"] = Notifier(
            TelegramDelivery(bot, self.settings, self.translations, self.shop, self.clients)
        )
        return await handler(event, data)

"""Per-update context for the client routers: the client row and their Translator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.clients import ClientService
from utils.i18n import Language, Translations
from utils.lifecycle import InFlight


class ClientContext(BaseMiddleware):
    def __init__(
        self, clients: ClientService, translations: Translations, default: Language
    ) -> None:
        self.clients = clients
        self.translations = translations
        self.default = default

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return None
        client = await self.clients.touch(
            user.id, user.username, user.first_name, user.language_code
        )
        data["client"] = client
        data["t"] = self.translations(client.language, self.default)
        return await handler(event, data)


class InFlightMiddleware(BaseMiddleware):
    """Registers every update's task with the InFlight tracker bot.py drains at shutdown."""

    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with self.in_flight.track():
            return await handler(event, data)

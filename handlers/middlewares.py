"""Every middleware of the bot, in one place.

Dispatcher (update) middlewares: InFlightMiddleware (shutdown drains updates in flight) and
NotifierMiddleware (a Notifier that sends with the update's Bot). Router middlewares:
ClientContext (the client row and their Translator, for the client routers) and AdminContext
(the admin's Translator and Actor). Bot session middleware: RetryAfterMiddleware (waits out
Telegram's flood control, which aiogram does not retry).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, User

from domain.actors import Actor
from services.clients import ClientService
from services.notifier import Notifier
from utils.i18n import Language, Translations, Translator
from utils.lifecycle import InFlight

if TYPE_CHECKING:
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ClientContext(BaseMiddleware):
    """``client`` (created on first contact, kept up to date) and ``t`` in their language."""

    def __init__(
        self, clients: ClientService, translations: Translations, default: Language
    ) -> None:
        self.clients = clients
        self.translations = translations
        self.default = default

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or user.is_bot:
            return None
        client = await self.clients.touch(
            user.id, user.username, user.first_name, user.language_code
        )
        data["client"] = client
        data["t"] = self.translations(client.language, self.default)
        return await handler(event, data)


class AdminContext(BaseMiddleware):
    """``t`` in DEFAULT_LANGUAGE and ``actor`` (the admin) for every admin handler."""

    def __init__(self, t: Translator) -> None:
        self.t = t

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        data["t"] = self.t
        data["actor"] = Actor.admin(user.id) if user is not None else None
        return await handler(event, data)


class InFlightMiddleware(BaseMiddleware):
    """Registers every update's task with the InFlight tracker bot.py drains at shutdown."""

    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        with self.in_flight.track():
            return await handler(event, data)


class NotifierMiddleware(BaseMiddleware):
    """Gives every handler a ``notifier`` that sends with the bot handling the update."""

    def __init__(self, make_notifier: Callable[[Bot], Notifier]) -> None:
        self.make_notifier = make_notifier

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["notifier"] = self.make_notifier(data["bot"])
        return await handler(event, data)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Wait out Telegram's flood control (429 with retry_after) and send the request again.

    aiogram raises TelegramRetryAfter and does not retry by itself; without this a burst of
    answers (twenty clients confirming at once) would lose some of them. Long waits are not
    worth holding a user's action for: past ``max_wait`` seconds the error goes up as it is.
    """

    def __init__(
        self,
        max_retries: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                # The polling loop has its own backoff for getUpdates.
                if (
                    isinstance(method, GetUpdates)
                    or retries >= self.max_retries
                    or exc.retry_after > self.max_wait
                ):
                    raise
                retries += 1
                logger.warning(
                    "%s: flood control, retry %d/%d in %ss",
                    method.__api_method__,
                    retries,
                    self.max_retries,
                    exc.retry_after,
                )
                await self.sleep(exc.retry_after)

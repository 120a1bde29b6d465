"""Bot API client behaviour that aiogram leaves to us."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)


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

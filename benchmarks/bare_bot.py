"""The baseline for benchmarks/pipeline.py: a bare aiogram 3 bot, as its documentation starts.

One Dispatcher, one handler answering /start with a fixed text, long polling TELEGRAM_API_URL
with BOT_TOKEN, log lines at INFO on stdout (aiogram's one line per update included, as the
real bot has them). No database, no middlewares, no state.

    BOT_TOKEN=... TELEGRAM_API_URL=http://127.0.0.1:PORT python -m benchmarks.bare_bot
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.types import Message

TEXT = "Hello! This is the bare aiogram bot."


async def start(message: Message) -> None:
    await message.answer(TEXT)


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dp = Dispatcher()
    dp.message.register(start, CommandStart())
    await dp.start_polling(bot, allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    asyncio.run(main())

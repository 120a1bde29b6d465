"""Flood control (429) is waited out and the request sent again; nothing sleeps for real."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from handlers.middlewares import RetryAfterMiddleware
from tests.support.botapi_emulator import BotAPIEmulator

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator() as emu:
        yield emu


@pytest.fixture
async def waits() -> list[float]:
    return []


@pytest.fixture
async def bot(emulator: BotAPIEmulator, waits: list[float]) -> AsyncIterator[Bot]:
    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    session.middleware(RetryAfterMiddleware(max_retries=2, max_wait=10, sleep=fake_sleep))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


async def test_a_429_is_waited_out_and_the_message_still_goes(
    bot: Bot, emulator: BotAPIEmulator, waits: list[float]
) -> None:
    emulator.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 3",
        retry_after=3,
        times=2,
    )
    message = await bot.send_message(42, "hello")
    assert message.text == "hello"
    assert waits == [3, 3]
    assert [c.ok for c in emulator.calls_of("sendMessage")] == [False, False, True]


async def test_retries_are_bounded(bot: Bot, emulator: BotAPIEmulator, waits: list[float]) -> None:
    emulator.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        times=5,
    )
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(42, "hello")
    assert waits == [1, 1]


async def test_a_long_wait_is_not_held(
    bot: Bot, emulator: BotAPIEmulator, waits: list[float]
) -> None:
    emulator.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 300",
        retry_after=300,
    )
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(42, "hello")
    assert waits == []

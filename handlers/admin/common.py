"""What every admin command handler uses to answer."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import Message

from handlers.admin.args import parse_id, words
from handlers.admin.views import bad_args
from handlers.common import reply
from handlers.views.base import Screen
from utils.i18n import Translator


async def send(message: Message, screens: list[Screen]) -> None:
    for screen in screens:
        await reply(message, screen)


async def say(message: Message, text: str) -> None:
    await reply(message, Screen(text))


async def usage_error(message: Message, t: Translator, command: CommandObject) -> None:
    """Malformed arguments: the command's usage line, and nothing changes."""
    await say(message, bad_args(t, command.command.lower()))


async def single_id(message: Message, command: CommandObject, t: Translator) -> int | None:
    """The command's one id argument, or None after answering with its usage line."""
    args = words(command.args)
    found = parse_id(args[0]) if len(args) == 1 else None
    if found is None:
        await usage_error(message, t, command)
    return found

"""Showing a screen: edit the message in place for buttons, send a new one for commands.

A screen longer than Telegram's message limit (a long price list, a day off with fifty
bookings) goes out as several messages, split between lines, its keyboard under the last one.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from handlers.views.base import Screen

logger = logging.getLogger(__name__)

# Telegram allows 4096 UTF-16 code units after entity parsing; the HTML we count is longer than
# what Telegram counts, so this leaves a margin.
MESSAGE_LIMIT = 4000


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_screen(screen: Screen, limit: int = MESSAGE_LIMIT) -> list[Screen]:
    """``screen`` as messages that each fit, cut between lines; the keyboard goes on the last."""
    if _units(screen.text) <= limit:
        return [screen]
    parts: list[str] = []
    current = ""
    for line in screen.text.split("\n"):
        while _units(line) > limit:  # a single enormous line: cut it where it must be cut
            head, line = line[: limit // 2], line[limit // 2 :]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return [Screen(p) for p in parts[:-1]] + [Screen(parts[-1], screen.markup)]


async def show(callback: CallbackQuery, screen: Screen, toast: str | None = None) -> None:
    """Replace the pressed message with ``screen`` and stop the button's spinner (with a short
    ``toast`` over the chat, if given)."""
    first, *rest = split_screen(screen)
    message = callback.message
    chat_id = message.chat.id if message is not None else callback.from_user.id
    if message is None or isinstance(message, InaccessibleMessage):
        # Too old to edit (48 h) or gone: carry on in a new message.
        await callback.bot.send_message(  # type: ignore[union-attr]
            chat_id, first.text, reply_markup=first.markup
        )
    else:
        try:
            await message.edit_text(first.text, reply_markup=first.markup)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                if "can't be edited" not in exc.message and "not found" not in exc.message:
                    raise
                await message.answer(first.text, reply_markup=first.markup)
    for part in rest:
        await callback.bot.send_message(  # type: ignore[union-attr]
            chat_id, part.text, reply_markup=part.markup
        )
    await callback.answer(toast)


async def reply(message: Message, screen: Screen) -> None:
    for part in split_screen(screen):
        await message.answer(part.text, reply_markup=part.markup)


async def alert(callback: CallbackQuery, text: str) -> None:
    """A short pop-up that changes nothing on screen."""
    await callback.answer(text, show_alert=True)

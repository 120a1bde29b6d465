"""Showing a screen: edit the message in place for buttons, send a new one for commands."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from handlers.views import Screen

logger = logging.getLogger(__name__)


async def show(callback: CallbackQuery, screen: Screen) -> None:
    """Replace the pressed message with ``screen`` and stop the button's spinner."""
    message = callback.message
    if message is None or isinstance(message, InaccessibleMessage):
        # Too old to edit (48 h) or gone: carry on in a new message.
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.from_user.id, screen.text, reply_markup=screen.markup
        )
    else:
        try:
            await message.edit_text(screen.text, reply_markup=screen.markup)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message:
                if "can't be edited" not in exc.message and "not found" not in exc.message:
                    raise
                await message.answer(screen.text, reply_markup=screen.markup)
    await callback.answer()


async def reply(message: Message, screen: Screen) -> None:
    await message.answer(screen.text, reply_markup=screen.markup)


async def alert(callback: CallbackQuery, text: str) -> None:
    """A short pop-up that changes nothing on screen."""
    await callback.answer(text, show_alert=True)

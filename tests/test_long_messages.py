"""Screens longer than one Telegram message go out as several, cut between lines."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.common import MESSAGE_LIMIT, split_screen
from handlers.views.base import Screen

KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="OK", callback_data="x")]]
)


def test_a_short_screen_stays_whole() -> None:
    screen = Screen("hello\nworld", KEYBOARD)
    assert split_screen(screen) == [screen]


def test_a_long_screen_is_cut_between_lines_with_the_keyboard_last() -> None:
    lines = [f"{n:03d}. Анна Петрова — Haircut, 10:00 ✅" for n in range(400)]
    parts = split_screen(Screen("\n".join(lines), KEYBOARD))
    assert len(parts) > 1
    assert all(len(p.text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT for p in parts)
    assert [p.markup for p in parts] == [None] * (len(parts) - 1) + [KEYBOARD]
    assert "\n".join(p.text for p in parts).split("\n") == lines  # nothing lost, nothing cut


def test_one_enormous_line_is_cut_too() -> None:
    parts = split_screen(Screen("x" * (3 * MESSAGE_LIMIT)))
    assert "".join(p.text for p in parts) == "x" * (3 * MESSAGE_LIMIT)
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)

"""What every screen is made of: a Screen value, buttons carrying typed callback data, and the
compact date numbers that travel in that data."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup


@dataclass(frozen=True)
class Screen:
    text: str
    markup: InlineKeyboardMarkup | None = None


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def keyboard(*lines: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """A keyboard of the non-empty rows given."""
    return InlineKeyboardMarkup(inline_keyboard=[list(r) for r in lines if r])


@functools.lru_cache(maxsize=64)
def fixed_keyboard(*rows: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    """A keyboard of rows of (text, packed callback data), built once per distinct content.

    For keyboards made only of catalog texts and fixed data (the main menu, help, language):
    the key is the content itself, so each language's keyboard is its own entry and nothing of
    a user's can be in one. aiogram's types are frozen, so one instance serves every answer;
    building the main menu's pydantic models was 6-8% of the event loop's samples for /start.
    """
    return keyboard(
        *(
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        )
    )


def pack_month(day: date) -> int:
    """YYYYMM."""
    return day.year * 100 + day.month


def pack_day(day: date) -> int:
    """YYYYMMDD."""
    return day.year * 10000 + day.month * 100 + day.day


def unpack_month(value: int) -> tuple[int, int] | None:
    year, month = divmod(value, 100)
    return (year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


def unpack_day(value: int) -> date | None:
    year, rest = divmod(value, 10000)
    month, day = divmod(rest, 100)
    try:
        return date(year, month, day)
    except ValueError:
        return None

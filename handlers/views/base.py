"""What every screen is made of: a Screen value, buttons carrying typed callback data, and the
compact date numbers that travel in that data."""

from __future__ import annotations

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

"""Dates, times and prices as a person reads them, in ru or en (Babel's CLDR data)."""

from __future__ import annotations

import html
from datetime import date, datetime

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal


def day_long(day: date, language: str) -> str:
    """'среда, 2 декабря' / 'Wednesday, 2 December'."""
    return format_date(day, "EEEE, d MMMM", locale=language)


def day_short(day: date, language: str) -> str:
    """'ср, 2 дек.' / 'Wed, 2 Dec'."""
    return format_date(day, "EEE, d MMM", locale=language)


def month_title(year: int, month: int, language: str) -> str:
    """'Декабрь 2026' / 'December 2026' (the stand-alone month form)."""
    text = format_date(date(year, month, 1), "LLLL yyyy", locale=language)
    return text[:1].upper() + text[1:]


def weekday_names(language: str) -> list[str]:
    """Short weekday names from Monday: 'Пн'...'Вс' / 'Mo'...'Su'."""
    names = get_day_names("short", locale=language)
    return [str(names[i])[:2].capitalize() for i in range(7)]


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def money(amount: int, currency: str, language: str) -> str:
    return f"{format_decimal(amount, locale=language)} {currency}".strip()


def esc(text: str | None) -> str:
    """Escape a value for Telegram's HTML parse mode."""
    return html.escape(text or "", quote=False)

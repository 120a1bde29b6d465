"""Dates, times and prices as a person reads them, in ru or en (Babel's CLDR data)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal


class DateRole(StrEnum):
    """How a date stands in its sentence. A catalog text names it in the date's placeholder
    (``{day:from}``); the text without one gets NAMED. Russian changes the weekday's case with the
    preposition, and the preposition's own form with the weekday (с субботы, со среды), so a role
    other than NAMED renders the preposition too, from the catalog's ``date.weekdays.<role>``."""

    NAMED = ""  # a heading, a label, an apposition: 'суббота, 5 декабря'
    FROM = "from"  # 'с субботы, 5 декабря', 'со среды, 2 декабря'
    ON = "on"  # 'в субботу, 5 декабря', 'во вторник, 1 декабря'
    FOR = "for"  # 'на субботу, 5 декабря'
    THROUGH = "through"  # the inclusive end of a range: 'по субботу, 5 декабря'


def day_long(
    day: date,
    language: str,
    role: DateRole = DateRole.NAMED,
    weekdays: Sequence[str] | None = None,
) -> str:
    """'среда, 2 декабря' / 'Wednesday, 2 December'; for another role, ``weekdays`` (Monday
    first, the catalog's ``date.weekdays.<role>``) gives the weekday with its preposition:
    'со среды, 2 декабря'. utils/i18n.Translator passes them; call it with a date value."""
    if role is DateRole.NAMED:
        return format_date(day, "EEEE, d MMMM", locale=language)
    if weekdays is None or len(weekdays) != 7:
        raise ValueError(f"the weekdays of the role {role.value!r} are needed, Monday first")
    return f"{weekdays[day.weekday()]}, {format_date(day, 'd MMMM', locale=language)}"


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

"""Screens about working hours: the weekly hours, what a change of hours or a day off touches
(a scope's title), and the question about the bookings it left outside the hours. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from babel.dates import format_date

from domain.catalog import SpecialistInfo
from domain.outcomes import OutsideHours
from domain.rules import Business
from domain.schedule import HoursScope
from handlers.admin.args import MAX_RANGE_DAYS
from handlers.admin.views import booking_line
from handlers.callback_data import DayOffAction, DayOffCb
from handlers.views.base import Screen, button, keyboard, pack_day, unpack_day
from utils.formatting import esc
from utils.hours import WEEKDAYS, WeeklyHours, format_intervals
from utils.i18n import Translator
from utils.timeutil import to_ts


def hours_text(
    t: Translator, specialists: Sequence[SpecialistInfo], weekly: dict[int, WeeklyHours]
) -> str:
    blocks = []
    for info in specialists:
        sp = info.specialist
        lines = [t("admin.hours.title", id=sp.id, name=esc(sp.name))]
        hours = weekly.get(sp.id, {})
        for day in range(7):
            intervals = hours.get(day, [])
            shown = format_intervals(intervals) if intervals else t("admin.hours.off")
            lines.append(f"{WEEKDAYS[day]}: {shown}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


# ------------------------------------------------------------ bookings left outside the hours

ANY_WEEKDAY = 7  # in DayOffCb.weekday


def scope_title(t: Translator, scope: HoursScope) -> str:
    """'среда, 2 декабря' for one date; 'wed: 2 декабря — 6 января' for a weekday's dates."""
    days = scope.days()
    if scope.first == scope.last or not days:
        title = t.day(scope.first)
    elif scope.weekday is not None:
        title = t(
            "admin.scope.weekday",
            weekday=WEEKDAYS[days[0].weekday()],
            first=format_date(days[0], "d MMMM", locale=t.language),
            last=format_date(days[-1], "d MMMM", locale=t.language),
        )
    else:
        title = t(
            "admin.scope.span",
            first=format_date(scope.first, "d MMMM y", locale=t.language),
            last=format_date(scope.last, "d MMMM y", locale=t.language),
        )
    if scope.specialist_id is not None:
        title = t("admin.scope.specialist", what=title, id=scope.specialist_id)
    return title


def is_one_day(scope: HoursScope) -> bool:
    """A single date of the whole business: its texts name the day in the sentence's case."""
    return scope.first == scope.last and scope.specialist_id is None


def outside_choice(action: DayOffAction, found: OutsideHours) -> DayOffCb:
    scope = found.scope
    return DayOffCb(
        action=action,
        day=pack_day(scope.first),
        last=pack_day(scope.last),
        weekday=ANY_WEEKDAY if scope.weekday is None else scope.weekday,
        specialist=scope.specialist_id or 0,
        asked=to_ts(found.asked),
    )


def scope_of(data: DayOffCb) -> HoursScope | None:
    """The scope a choice button names; None for impossible (forged) dates or a range longer
    than any the bot asks about."""
    first = unpack_day(data.day)
    last = unpack_day(data.last) if data.last else first
    if first is None or last is None or not 0 <= (last - first).days < MAX_RANGE_DAYS:
        return None
    weekday = None if data.weekday == ANY_WEEKDAY else data.weekday
    return HoursScope(first, last, weekday, data.specialist or None)


def _outside_keyboard(t: Translator, found: OutsideHours) -> InlineKeyboardMarkup:
    cancel_all = outside_choice(DayOffAction.CANCEL_ALL, found)
    keep = outside_choice(DayOffAction.KEEP, found)
    return keyboard(
        [button(t("admin.button.cancel_all"), cancel_all)],
        [button(t("admin.button.keep_all"), keep)],
    )


def _outside_lines(t: Translator, business: Business, found: OutsideHours) -> str:
    with_day = found.scope.first != found.scope.last
    return "\n".join(booking_line(t, business, d, with_day=with_day) for d in found.bookings)


def dayoff_question(t: Translator, business: Business, found: OutsideHours) -> Screen:
    """The day (or the days) is closed; its bookings: cancel them all, or keep them?"""
    lines = _outside_lines(t, business, found)
    if is_one_day(found.scope):
        text = t("admin.dayoff.bookings", day=found.scope.first, lines=lines)
    else:
        text = t("admin.timeoff.bookings", what=scope_title(t, found.scope), lines=lines)
    return Screen(text, _outside_keyboard(t, found))


def hours_question(t: Translator, business: Business, done: str, found: OutsideHours) -> Screen:
    """``done`` (the hours are set), then the bookings now outside them: cancel or keep?"""
    text = t("admin.hours.outside", done=done, lines=_outside_lines(t, business, found))
    return Screen(text, _outside_keyboard(t, found))

"""Days off, vacations and custom hours, for the whole business or one specialist, one date or a
range: /dayoff, /dayon, /hours_on and the list of what is ahead, /timeoff. The bookings a
closure leaves outside the hours get the same question as /hours_set (handlers/admin/staff.py).
"""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import Message

from domain.actors import Actor
from domain.rules import Business
from domain.schedule import HoursScope, TimeOff
from handlers.admin import hours_views as hv
from handlers.admin.args import (
    MAX_RANGE_DAYS,
    MAX_TEXT,
    BadSpan,
    SpanProblem,
    TimeOffArgs,
    clean_text,
    parse_intervals_arg,
    parse_time_off,
    words,
)
from handlers.admin.common import say, usage_error
from handlers.admin.staff import ask_about_outside
from handlers.common import reply
from services.notifier import Notifier
from services.schedule import ScheduleService
from services.staff import StaffService
from utils.formatting import esc
from utils.hours import format_intervals
from utils.i18n import Translator


async def _time_off_args(
    message: Message, command: CommandObject, t: Translator, staff: StaffService
) -> TimeOffArgs | None:
    """The command's scope, or None after the answer (the usage line, or what is wrong)."""
    found = parse_time_off(words(command.args), staff.today())
    if found is None:
        await usage_error(message, t, command)
        return None
    if isinstance(found, BadSpan):
        first, last = found.first.isoformat(), found.last.isoformat()
        if found.problem is SpanProblem.BACKWARDS:
            await say(message, t("admin.timeoff.backwards", first=first, last=last))
        else:
            days, most = found.days, MAX_RANGE_DAYS
            await say(
                message, t("admin.timeoff.too_long", first=first, last=last, days=days, most=most)
            )
        return None
    return found


def _scope(args: TimeOffArgs) -> HoursScope:
    return HoursScope(args.first, args.last, specialist_id=args.specialist_id)


async def _unknown_specialist(message: Message, t: Translator, args: TimeOffArgs) -> None:
    await say(message, t("admin.specialist.not_found", id=args.specialist_id))


async def dayoff_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    schedule: ScheduleService,
    actor: Actor,
) -> None:
    args = await _time_off_args(message, command, t, staff)
    if args is None:
        return
    reason = clean_text(" ".join(args.rest), MAX_TEXT) if args.rest else ""
    if reason is None:
        await usage_error(message, t, command)
        return
    scope, sid = _scope(args), args.specialist_id
    if not await schedule.set_days(scope.first, scope.last, None, actor, reason, sid):
        await _unknown_specialist(message, t, args)
        return
    found = await staff.outside_hours(scope)
    if found.bookings:
        await reply(message, hv.dayoff_question(t, business, found))
    elif hv.is_one_day(scope):
        await say(message, t("admin.dayoff.done", day=scope.first))
    else:
        await say(message, t("admin.timeoff.closed", what=hv.scope_title(t, scope)))


async def dayon_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    staff: StaffService,
    schedule: ScheduleService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    args = await _time_off_args(message, command, t, staff)
    if args is None:
        return
    if args.rest:
        await usage_error(message, t, command)
        return
    scope = _scope(args)
    if await schedule.reopen_days(scope.first, scope.last, actor, args.specialist_id) is None:
        await _unknown_specialist(message, t, args)
        return
    if hv.is_one_day(scope):
        await say(message, t("admin.dayon.done", day=scope.first))
    else:
        await say(message, t("admin.timeoff.reopened", what=hv.scope_title(t, scope)))
    await notifier.after()  # times the reopened days hold now for those waiting: their offers


async def hours_on_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    schedule: ScheduleService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    args = await _time_off_args(message, command, t, staff)
    if args is None:
        return
    intervals = parse_intervals_arg(args.rest[0]) if len(args.rest) == 1 else None
    if not intervals:
        await usage_error(message, t, command)
        return
    scope, sid = _scope(args), args.specialist_id
    if not await schedule.set_days(scope.first, scope.last, intervals, actor, "", sid):
        await _unknown_specialist(message, t, args)
        return
    hours = format_intervals(intervals)
    if hv.is_one_day(scope):
        done = t("admin.hours_on.done", day=scope.first, hours=hours)
    else:
        done = t("admin.timeoff.hours", what=hv.scope_title(t, scope), hours=hours)
    await ask_about_outside(message, t, business, done, await staff.outside_hours(scope))
    await notifier.after()  # times the new hours hold now for those waiting: their offers


async def timeoff_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    staff: StaffService,
    schedule: ScheduleService,
) -> None:
    if command.args:
        await usage_error(message, t, command)
        return
    found = await schedule.time_off(staff.today())
    await say(message, time_off_text(t, found))


def time_off_text(t: Translator, found: list[TimeOff]) -> str:
    if not found:
        return t("admin.timeoff.none")
    return "\n".join([t("admin.timeoff.title"), *(_time_off_line(t, item) for item in found)])


def _time_off_line(t: Translator, item: TimeOff) -> str:
    what = hv.scope_title(t, HoursScope(item.first, item.last, specialist_id=item.specialist_id))
    if item.specialist_name is not None:
        what += f" {esc(item.specialist_name)}"
    reason = f" ({esc(item.reason)})" if item.reason else ""
    if not item.hours:
        return t("admin.timeoff.item_closed", what=what, reason=reason)
    hours = format_intervals(list(item.hours))
    return t("admin.timeoff.item_hours", what=what, hours=hours, reason=reason)

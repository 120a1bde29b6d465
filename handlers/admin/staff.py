"""Staff and hours: specialists, weekly hours, and the choice about the bookings a change of
hours or a day off left outside the hours (the same question, buttons and cancel for /hours_set
here and /dayoff, /hours_on in handlers/admin/time_off.py)."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from domain.actors import Actor
from domain.notices import CANCEL_NEWS
from domain.outcomes import HoursCancelOutcome, OutsideHours, SpecialistOutcome
from domain.rules import Business
from handlers.admin import hours_views as hv
from handlers.admin import views as av
from handlers.admin.args import (
    MAX_NAME,
    clean_text,
    parse_id,
    parse_ids,
    parse_intervals_arg,
    parse_weekday_arg,
    words,
)
from handlers.admin.common import say, single_id, usage_error
from handlers.callback_data import DayOffCb
from handlers.common import alert, reply, show
from handlers.views.base import Screen
from services.catalog import CatalogService
from services.notifier import Notifier, count_told
from services.schedule import ScheduleService
from services.specialists import SpecialistService
from services.staff import StaffService
from utils.formatting import esc
from utils.hours import WEEKDAYS, format_intervals
from utils.i18n import Translator
from utils.timeutil import from_ts

# ------------------------------------------------------------------ specialists


async def specialists_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    catalog: CatalogService,
) -> None:
    if command.args:
        await usage_error(message, t, command)
        return
    listed = await specialists.list()
    offered = await catalog.list_services(bookable_only=False)
    await say(message, av.specialists_text(t, listed, offered))


async def specialist_add_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    name = clean_text(command.args or "", MAX_NAME)
    if name is None:
        await usage_error(message, t, command)
        return
    specialist = await specialists.add(name, actor)
    await say(message, t("admin.specialist.added", id=specialist.id, name=esc(specialist.name)))


async def specialist_rename_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    head, _, rest = (command.args or "").strip().partition(" ")
    specialist_id = parse_id(head)
    name = clean_text(rest, MAX_NAME)
    if specialist_id is None or name is None:
        await usage_error(message, t, command)
        return
    renamed = await specialists.rename(specialist_id, name, actor)
    if renamed.outcome is SpecialistOutcome.NOT_FOUND:
        await say(message, t("admin.specialist.not_found", id=specialist_id))
        return
    await say(
        message,
        t("admin.specialist.renamed", id=specialist_id, name=esc(name), was=esc(renamed.was)),
    )


async def specialist_delete_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    if (specialist_id := await single_id(message, command, t)) is None:
        return
    removed = await specialists.delete(specialist_id, actor)
    await say(message, av.removal_text(t, specialist_id, removed))


async def specialist_services_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    args = words(command.args)
    specialist_id = parse_id(args[0]) if len(args) == 2 else None
    service_ids = parse_ids(args[1]) if len(args) == 2 else None
    if specialist_id is None or service_ids is None:
        await usage_error(message, t, command)
        return
    change = await specialists.set_services(specialist_id, service_ids, actor)
    if change.outcome is SpecialistOutcome.NOT_FOUND:
        await say(message, t("admin.specialist.not_found", id=specialist_id))
    elif change.outcome is SpecialistOutcome.UNKNOWN_SERVICE:
        ids = ", ".join(str(i) for i in change.unknown)
        await say(message, t("admin.specialist.unknown_services", ids=ids))
    else:
        ids = ", ".join(f"#{i}" for i in sorted(set(service_ids)))
        await say(message, t("admin.specialist.services_set", id=specialist_id, services=ids))


async def _switch_specialist(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
    on: bool,
) -> None:
    if (specialist_id := await single_id(message, command, t)) is None:
        return
    change = await specialists.set_active(specialist_id, on, actor)
    if change.outcome is SpecialistOutcome.NOT_FOUND:
        await say(message, t("admin.specialist.not_found", id=specialist_id))
    elif on:
        await say(message, t("admin.specialist.on", id=specialist_id))
    else:
        await say(message, t("admin.specialist.off", id=specialist_id, upcoming=change.upcoming))


async def specialist_on_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    await _switch_specialist(message, command, t, specialists, actor, on=True)


async def specialist_off_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    actor: Actor,
) -> None:
    await _switch_specialist(message, command, t, specialists, actor, on=False)


# ------------------------------------------------------------------ hours and days


async def hours_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    specialists: SpecialistService,
    schedule: ScheduleService,
) -> None:
    args = words(command.args)
    specialist_id = parse_id(args[0]) if len(args) == 1 else None
    if len(args) > 1 or (args and specialist_id is None):
        await usage_error(message, t, command)
        return
    listed = await specialists.list()
    if specialist_id is not None:
        listed = [i for i in listed if i.specialist.id == specialist_id]
        if not listed:
            await say(message, t("admin.specialist.not_found", id=specialist_id))
            return
    await say(message, hv.hours_text(t, listed, await schedule.weekly_all()))


async def ask_about_outside(
    message: Message, t: Translator, business: Business, done: str, found: OutsideHours
) -> None:
    """The change's answer; with the bookings it left outside the hours, the choice."""
    if found.bookings:
        await reply(message, hv.hours_question(t, business, done, found))
    else:
        await say(message, done)


async def hours_set_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    schedule: ScheduleService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    args = words(command.args)
    specialist_id: int | None = None
    if len(args) == 3:
        specialist_id = parse_id(args[0])
        if specialist_id is None:
            await usage_error(message, t, command)
            return
        args = args[1:]
    weekday = parse_weekday_arg(args[0]) if len(args) == 2 else None
    intervals = parse_intervals_arg(args[1]) if len(args) == 2 else None
    if weekday is None or intervals is None:
        await usage_error(message, t, command)
        return
    if not await schedule.set_weekday(specialist_id, weekday, intervals, actor):
        await say(message, t("admin.specialist.not_found", id=specialist_id))
        return
    who = f"#{specialist_id}" if specialist_id is not None else t("admin.hours.everyone")
    hours = format_intervals(intervals) if intervals else t("admin.hours.off")
    done = t("admin.hours.set", day=WEEKDAYS[weekday], who=who, hours=hours)
    found = await staff.outside_hours(staff.weekday_scope(weekday, specialist_id))
    await ask_about_outside(message, t, business, done, found)
    await notifier.after()  # times the new hours hold now for those waiting: their offers


# ------------------------------------------------------------------ the bookings left outside


async def outside_keep_button(
    callback: CallbackQuery, callback_data: DayOffCb, t: Translator
) -> None:
    scope = hv.scope_of(callback_data)
    if scope is None:
        await alert(callback, t("admin.alert.stale"))
        return
    # show(): a double tap's second edit (the same text) is no error.
    await show(callback, Screen(t("admin.dayoff.kept", day=hv.scope_title(t, scope))))


async def outside_cancel_all_button(
    callback: CallbackQuery,
    callback_data: DayOffCb,
    t: Translator,
    staff: StaffService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    scope = hv.scope_of(callback_data)
    if scope is None:
        await alert(callback, t("admin.alert.stale"))
        return
    title = hv.scope_title(t, scope)
    result = await staff.cancel_outside_hours(scope, actor, from_ts(callback_data.asked))
    if result.outcome is HoursCancelOutcome.ALREADY_CANCELLED:
        # The second tap of a double click: the first one's answer stays on screen.
        await alert(callback, t("admin.outside.already"))
        return
    if result.outcome is HoursCancelOutcome.NONE_OUTSIDE:
        # The hours were changed back since the question: cancelling now would be a mistake.
        await alert(callback, t("admin.outside.none", day=title))
        return
    delivered = await notifier.after(*(d.booking.id for d in result.cancelled))
    told = sum(count_told(delivered, kind) for kind in CANCEL_NEWS)
    count = len(result.cancelled)
    await show(callback, Screen(t("admin.dayoff.cancelled", day=title, count=count, told=told)))

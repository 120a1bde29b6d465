"""The admin chat: staff run the business with commands and buttons.

Only users in ADMIN_IDS, in the ADMIN_CHAT_ID group or in their private chat with the bot, reach
these handlers (router filters). Anyone else's command falls through: ignored in a group, the
client's "unknown command" in a private chat. A non-admin pressing an admin button is told so.
Every change goes through a service that writes the audit log with the admin's id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.enums import ChatType
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message, TelegramObject

from config import Settings
from database.models import Actor, BookingStatus
from handlers import admin_views as av
from handlers.admin_args import (
    MAX_NAME,
    MAX_TEXT,
    clean_text,
    parse_day,
    parse_id,
    parse_ids,
    parse_intervals_arg,
    parse_minutes,
    parse_price,
    parse_range,
    parse_weekday_arg,
    words,
)
from handlers.callback_data import AdminBookingCb, DayOffCb
from handlers.common import alert, reply
from handlers.views import Screen, Shop, local_day, parse_ymd
from services.booking import Outcome
from services.catalog import CatalogOutcome
from services.container import Services
from services.notifier import Notifier
from services.specialists import SpecialistOutcome
from services.stats import client_summary
from utils.formatting import day_long, esc
from utils.hours import WEEKDAYS, format_intervals
from utils.i18n import Translations, Translator


class AdminContext(BaseMiddleware):
    """``t`` in DEFAULT_LANGUAGE and ``actor`` (the admin) for every admin handler."""

    def __init__(self, translations: Translations, settings: Settings) -> None:
        self.t = translations(settings.default_language)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        data["t"] = self.t
        data["actor"] = Actor.admin(user.id) if user is not None else None
        return await handler(event, data)


def _allowed(settings: Settings, user_id: int | None, chat_id: int, chat_type: str) -> bool:
    if user_id is None or user_id not in settings.admin_ids:
        return False
    if settings.admin_chat_id is not None and chat_id == settings.admin_chat_id:
        return True
    return chat_type == ChatType.PRIVATE and chat_id == user_id


def _from_admin(settings: Settings) -> Callable[[Message], bool]:
    def check(message: Message) -> bool:
        user = message.from_user
        return _allowed(settings, user.id if user else None, message.chat.id, message.chat.type)

    return check


def _pressed_by_admin(settings: Settings) -> Callable[[CallbackQuery], bool]:
    def check(callback: CallbackQuery) -> bool:
        message = callback.message
        if message is None:
            return False
        return _allowed(settings, callback.from_user.id, message.chat.id, message.chat.type)

    return check


async def _send(message: Message, screens: list[Screen]) -> None:
    for screen in screens:
        await reply(message, screen)


async def _say(message: Message, text: str) -> None:
    await reply(message, Screen(text))


async def _single_id(message: Message, command: CommandObject, t: Translator) -> int | None:
    """The command's one id argument, or None after answering with its usage line."""
    args = words(command.args)
    found = parse_id(args[0]) if len(args) == 1 else None
    if found is None:
        await _say(message, av.bad_args(t, command.command.lower()))
    return found


# ------------------------------------------------------------------ help and agenda


async def help_command(message: Message, t: Translator) -> None:
    await _say(message, av.help_text(t))


async def unknown_command(message: Message, t: Translator) -> None:
    await _say(message, t("admin.unknown"))


async def agenda_command(
    message: Message, command: CommandObject, t: Translator, shop: Shop, services: Services
) -> None:
    name = command.command.lower()
    args = words(command.args)
    today = services.booking.today()
    if name == "day":
        day = parse_day(args[0], today) if len(args) == 1 else None
        if day is None:
            await _say(message, av.bad_args(t, "day"))
            return
        days = [day]
    elif args:
        await _say(message, av.bad_args(t, name))
        return
    elif name == "week":
        days = [today + timedelta(days=n) for n in range(7)]
    else:
        days = [today if name == "today" else today + timedelta(days=1)]
    screens: list[Screen] = []
    for day in days:
        bookings = await services.booking.agenda(day)
        if bookings or len(days) == 1:
            screens += av.agenda_screens(t, shop, day, bookings)
    if not screens:
        first, last = days[0], days[-1]
        screens = [
            Screen(
                t(
                    "admin.week.empty",
                    first=day_long(first, t.language),
                    last=day_long(last, t.language),
                )
            )
        ]
    await _send(message, screens)


# ------------------------------------------------------------------ one booking


async def booking_command(
    message: Message, command: CommandObject, t: Translator, shop: Shop, services: Services
) -> None:
    booking_id = await _single_id(message, command, t)
    if booking_id is None:
        return
    details = await services.booking.get(booking_id)
    if details is None:
        await _say(message, t("admin.booking.not_found", id=booking_id))
        return
    await reply(message, av.booking_card(t, shop, details))


async def cancel_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    services: Services,
    actor: Actor,
    notifier: Notifier,
) -> None:
    args = words(command.args)
    booking_id = parse_id(args[0]) if args else None
    reason = clean_text(" ".join(args[1:]), MAX_TEXT) if len(args) > 1 else ""
    if booking_id is None or reason is None:
        await _say(message, av.bad_args(t, "cancel"))
        return
    await _say(message, await _cancel(t, services, actor, notifier, booking_id, reason))


async def _cancel(
    t: Translator,
    services: Services,
    actor: Actor,
    notifier: Notifier,
    booking_id: int,
    reason: str,
) -> str:
    """Cancel as an admin and tell the client; the answer for the admin."""
    result = await services.booking.cancel(booking_id, actor, reason or None)
    if result.outcome is Outcome.NOT_FOUND:
        return t("admin.booking.not_found", id=booking_id)
    if result.outcome is Outcome.NOT_ACTIVE and result.booking is not None:
        return t(
            "admin.cancel.not_active",
            id=booking_id,
            status=av.status_text(t, result.booking.status),
        )
    details = await services.booking.get(booking_id)
    assert details is not None
    if await notifier.cancelled_by_admin(details, reason):
        return t("admin.cancel.done", id=booking_id)
    return t("admin.cancel.done_untold", id=booking_id)


async def booking_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    shop: Shop,
    services: Services,
    actor: Actor,
    notifier: Notifier,
) -> None:
    booking_id = callback_data.booking
    action = callback_data.action
    message = callback.message if isinstance(callback.message, Message) else None
    details = await services.booking.get(booking_id)
    if details is None or action not in ("cancel", "cancel_yes", "keep", "no_show", "done"):
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    if action == "cancel":
        if not details.booking.is_active:
            status = av.status_text(t, details.booking.status)
            await alert(callback, t("admin.cancel.not_active", id=booking_id, status=status))
            return
        await callback.answer()
        if message is not None:
            await reply(message, av.cancel_question(t, shop, details))
        return
    if action == "keep":
        await callback.answer()
        if message is not None:
            await message.edit_text(t("admin.cancel.kept", id=booking_id))
        return
    if action == "cancel_yes":
        text = await _cancel(t, services, actor, notifier, booking_id, "")
        await callback.answer()
        if message is not None:
            await message.edit_text(text)
        return
    status = BookingStatus.NO_SHOW if action == "no_show" else BookingStatus.COMPLETED
    result = await services.booking.mark(booking_id, status, actor)
    if result.outcome is Outcome.NOT_STARTED:
        await alert(callback, t("admin.mark.not_started", id=booking_id))
        return
    if result.outcome is not Outcome.MARKED:
        now = av.status_text(t, details.booking.status)
        await alert(callback, t("admin.cancel.not_active", id=booking_id, status=now))
        return
    await callback.answer(t("admin.mark.done", id=booking_id, status=av.status_text(t, status)))
    # Show the new status on the agenda the button was on (when it fits one message).
    day = local_day(shop, details.booking.start)
    screens = av.agenda_screens(t, shop, day, await services.booking.agenda(day))
    if message is not None and len(screens) == 1:
        await message.edit_text(screens[0].text, reply_markup=screens[0].markup)


async def not_admin_button(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("admin.alert.not_admin"))


async def stale_button(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("admin.alert.stale"))


# ------------------------------------------------------------------ services


async def services_command(
    message: Message, command: CommandObject, t: Translator, shop: Shop, services: Services
) -> None:
    if command.args:
        await _say(message, av.bad_args(t, "services"))
        return
    listed = await services.catalog.services(active_only=False)
    await _say(message, av.services_text(t, shop, listed))


async def service_add_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = words(command.args)
    duration = parse_minutes(args[0], 1, 1440) if len(args) >= 3 else None
    price = parse_price(args[1]) if len(args) >= 3 else None
    name = clean_text(" ".join(args[2:]), MAX_NAME) if len(args) >= 3 else None
    if duration is None or price is None or name is None:
        await _say(message, av.bad_args(t, "service_add"))
        return
    service = await services.catalog.add(actor, name=name, duration_minutes=duration, price=price)
    await _say(message, t("admin.service.added", id=service.id, name=esc(service.name)))


async def service_edit_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = (command.args or "").split(maxsplit=2)
    service_id = parse_id(args[0]) if len(args) == 3 else None
    field = args[1].lower() if len(args) == 3 else ""
    raw = args[2] if len(args) == 3 else ""
    value: str | int | None = None
    column = {
        "name": "name",
        "description": "description",
        "duration": "duration_minutes",
        "price": "price",
        "buffer": "buffer_minutes",
    }.get(field)
    if field == "name":
        value = clean_text(raw, MAX_NAME)
    elif field == "description":
        value = "" if raw.strip() == "-" else clean_text(raw, MAX_TEXT)
    elif field == "duration":
        value = parse_minutes(raw.strip(), 1, 1440)
    elif field == "buffer":
        value = parse_minutes(raw.strip(), 0, 1440)
    elif field == "price":
        value = parse_price(raw.strip())
    if service_id is None or column is None or value is None:
        await _say(message, av.bad_args(t, "service_edit"))
        return
    outcome = await services.catalog.update(service_id, actor, **{column: value})
    if outcome is CatalogOutcome.NOT_FOUND:
        await _say(message, t("admin.service.not_found", id=service_id))
        return
    await _say(message, t("admin.service.updated", id=service_id))


async def service_switch_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    name = command.command.lower()
    service_id = await _single_id(message, command, t)
    if service_id is None:
        return
    if name == "service_delete":
        outcome = await services.catalog.delete(service_id, actor)
        done = t("admin.service.deleted", id=service_id)
    else:
        on = name == "service_on"
        outcome = await services.catalog.set_active(service_id, on, actor)
        done = t("admin.service.on", id=service_id) if on else t("admin.service.off", id=service_id)
    if outcome is CatalogOutcome.NOT_FOUND:
        await _say(message, t("admin.service.not_found", id=service_id))
    elif outcome is CatalogOutcome.IN_USE:
        await _say(message, t("admin.service.in_use", id=service_id))
    else:
        await _say(message, done)


# ------------------------------------------------------------------ specialists


async def specialists_command(
    message: Message, command: CommandObject, t: Translator, services: Services
) -> None:
    if command.args:
        await _say(message, av.bad_args(t, "specialists"))
        return
    listed = await services.specialists.list()
    catalog = await services.catalog.services(active_only=False)
    await _say(message, av.specialists_text(t, listed, catalog))


async def specialist_add_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    name = clean_text(command.args or "", MAX_NAME)
    if name is None:
        await _say(message, av.bad_args(t, "specialist_add"))
        return
    specialist = await services.specialists.add(name, actor)
    await _say(message, t("admin.specialist.added", id=specialist.id, name=esc(specialist.name)))


async def specialist_services_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = words(command.args)
    specialist_id = parse_id(args[0]) if len(args) == 2 else None
    service_ids = parse_ids(args[1]) if len(args) == 2 else None
    if specialist_id is None or service_ids is None:
        await _say(message, av.bad_args(t, "specialist_services"))
        return
    change = await services.specialists.set_services(specialist_id, service_ids, actor)
    if change.outcome is SpecialistOutcome.NOT_FOUND:
        await _say(message, t("admin.specialist.not_found", id=specialist_id))
    elif change.outcome is SpecialistOutcome.UNKNOWN_SERVICE:
        ids = ", ".join(str(i) for i in change.unknown)
        await _say(message, t("admin.specialist.unknown_services", ids=ids))
    else:
        ids = ", ".join(f"#{i}" for i in sorted(set(service_ids)))
        await _say(message, t("admin.specialist.services_set", id=specialist_id, services=ids))


async def specialist_switch_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    name = command.command.lower()
    specialist_id = await _single_id(message, command, t)
    if specialist_id is None:
        return
    on = name == "specialist_on"
    change = await services.specialists.set_active(specialist_id, on, actor)
    if change.outcome is SpecialistOutcome.NOT_FOUND:
        await _say(message, t("admin.specialist.not_found", id=specialist_id))
    elif on:
        await _say(message, t("admin.specialist.on", id=specialist_id))
    else:
        await _say(message, t("admin.specialist.off", id=specialist_id, upcoming=change.upcoming))


# ------------------------------------------------------------------ hours and days


async def hours_command(
    message: Message, command: CommandObject, t: Translator, services: Services
) -> None:
    args = words(command.args)
    specialist_id = parse_id(args[0]) if len(args) == 1 else None
    if len(args) > 1 or (args and specialist_id is None):
        await _say(message, av.bad_args(t, "hours"))
        return
    listed = await services.specialists.list()
    if specialist_id is not None:
        listed = [i for i in listed if i.specialist.id == specialist_id]
        if not listed:
            await _say(message, t("admin.specialist.not_found", id=specialist_id))
            return
    await _say(message, av.hours_text(t, listed, await services.schedule.weekly_all()))


async def hours_set_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = words(command.args)
    specialist_id: int | None = None
    if len(args) == 3:
        specialist_id = parse_id(args[0])
        if specialist_id is None:
            await _say(message, av.bad_args(t, "hours_set"))
            return
        args = args[1:]
    weekday = parse_weekday_arg(args[0]) if len(args) == 2 else None
    intervals = parse_intervals_arg(args[1]) if len(args) == 2 else None
    if weekday is None or intervals is None:
        await _say(message, av.bad_args(t, "hours_set"))
        return
    if not await services.schedule.set_weekday(specialist_id, weekday, intervals, actor):
        await _say(message, t("admin.specialist.not_found", id=specialist_id))
        return
    who = f"#{specialist_id}" if specialist_id is not None else t("admin.hours.everyone")
    hours = format_intervals(intervals) if intervals else t("admin.hours.off")
    await _say(message, t("admin.hours.set", day=WEEKDAYS[weekday], who=who, hours=hours))


async def dayoff_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    shop: Shop,
    services: Services,
    actor: Actor,
) -> None:
    args = words(command.args)
    day = parse_day(args[0], services.booking.today()) if args else None
    reason = clean_text(" ".join(args[1:]), MAX_TEXT) if len(args) > 1 else ""
    if day is None or reason is None:
        await _say(message, av.bad_args(t, "dayoff"))
        return
    await services.schedule.set_day(day, None, actor, reason)
    bookings = await services.booking.active_on(day)
    if not bookings:
        await _say(message, t("admin.dayoff.done", day=day_long(day, t.language)))
        return
    await reply(message, av.dayoff_question(t, shop, day, bookings))


async def dayoff_button(
    callback: CallbackQuery,
    callback_data: DayOffCb,
    t: Translator,
    services: Services,
    actor: Actor,
    notifier: Notifier,
) -> None:
    day = parse_ymd(callback_data.day)
    if day is None or callback_data.action not in ("cancel_all", "keep"):
        await alert(callback, t("admin.alert.stale"))
        return
    message = callback.message if isinstance(callback.message, Message) else None
    title = day_long(day, t.language)
    if callback_data.action == "keep":
        await callback.answer()
        if message is not None:
            await message.edit_text(t("admin.dayoff.kept", day=title))
        return
    reason = await services.schedule.day_off_reason(day)
    if reason is None:
        # Reopened since the question was asked: cancelling now would be a mistake.
        await alert(callback, t("admin.dayoff.open_again", day=title))
        return
    cancelled = await services.booking.cancel_day(day, actor, reason or "day off")
    told = 0
    for details in cancelled:
        told += await notifier.day_off(details, reason)
    await callback.answer()
    if message is not None:
        await message.edit_text(
            t("admin.dayoff.cancelled", day=title, count=len(cancelled), told=told)
        )


async def dayon_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = words(command.args)
    day = parse_day(args[0], services.booking.today()) if len(args) == 1 else None
    if day is None:
        await _say(message, av.bad_args(t, "dayon"))
        return
    await services.schedule.reopen_day(day, actor)
    await _say(message, t("admin.dayon.done", day=day_long(day, t.language)))


async def hours_on_command(
    message: Message, command: CommandObject, t: Translator, services: Services, actor: Actor
) -> None:
    args = words(command.args)
    day = parse_day(args[0], services.booking.today()) if len(args) == 2 else None
    intervals = parse_intervals_arg(args[1]) if len(args) == 2 else None
    if day is None or not intervals:
        await _say(message, av.bad_args(t, "hours_on"))
        return
    await services.schedule.set_day(day, intervals, actor)
    await _say(
        message,
        t("admin.hours_on.done", day=day_long(day, t.language), hours=format_intervals(intervals)),
    )


# ------------------------------------------------------------------ clients and reports


async def client_command(
    message: Message, command: CommandObject, t: Translator, shop: Shop, services: Services
) -> None:
    args = words(command.args)
    if len(args) != 1 or not (args[0].isdigit() or args[0].startswith("@")):
        await _say(message, av.bad_args(t, "client"))
        return
    client = await services.clients.find(args[0])
    if client is None:
        await _say(message, t("admin.client.not_found", query=esc(args[0])))
        return
    history = await services.booking.history(client.id)
    await _say(message, av.client_text(t, shop, client, client_summary(history), history))


async def stats_command(
    message: Message, command: CommandObject, t: Translator, shop: Shop, services: Services
) -> None:
    days = parse_range(words(command.args), services.booking.today())
    if days is None:
        await _say(message, av.bad_args(t, "stats"))
        return
    await _say(message, av.stats_text(t, shop, await services.stats.stats(*days)))


async def export_command(
    message: Message, command: CommandObject, t: Translator, services: Services
) -> None:
    days = parse_range(words(command.args), services.booking.today())
    if days is None:
        await _say(message, av.bad_args(t, "export"))
        return
    first, last = days
    data, count = await services.export.csv(first, last)
    await message.answer_document(
        BufferedInputFile(data, filename=f"bookings_{first.isoformat()}_{last.isoformat()}.csv"),
        caption=t(
            "admin.export.caption", first=first.isoformat(), last=last.isoformat(), count=count
        ),
    )


# ------------------------------------------------------------------ the router


def make_router(settings: Settings, translations: Translations) -> Router:
    """A fresh router each call: a Router can belong to only one Dispatcher."""
    router = Router(name="admin")
    staff = Router(name="admin_staff")
    staff.message.filter(_from_admin(settings))
    staff.callback_query.filter(_pressed_by_admin(settings))
    context = AdminContext(translations, settings)
    staff.message.middleware(context)
    staff.callback_query.middleware(context)

    m = staff.message.register
    group_only = F.chat.id == settings.admin_chat_id
    m(help_command, Command("help"), group_only)
    m(help_command, Command("admin"))
    m(agenda_command, Command("today", "tomorrow", "day", "week"))
    m(booking_command, Command("booking"))
    m(cancel_command, Command("cancel"))
    m(services_command, Command("services"))
    m(service_add_command, Command("service_add"))
    m(service_edit_command, Command("service_edit"))
    m(service_switch_command, Command("service_on", "service_off", "service_delete"))
    m(specialists_command, Command("specialists"))
    m(specialist_add_command, Command("specialist_add"))
    m(specialist_services_command, Command("specialist_services"))
    m(specialist_switch_command, Command("specialist_on", "specialist_off"))
    m(hours_command, Command("hours"))
    m(hours_set_command, Command("hours_set"))
    m(dayoff_command, Command("dayoff"))
    m(dayon_command, Command("dayon"))
    m(hours_on_command, Command("hours_on"))
    m(client_command, Command("client"))
    m(stats_command, Command("stats"))
    m(export_command, Command("export"))
    # In the admin group an unknown command is a typo; in a private chat it is the client's.
    m(unknown_command, group_only, F.text.startswith("/"))
    staff.callback_query.register(booking_button, AdminBookingCb.filter())
    staff.callback_query.register(dayoff_button, DayOffCb.filter())

    # Admin buttons pressed by anyone else (a forwarded card, a member of the group who is
    # not staff): told so, nothing changes.
    guard = Router(name="admin_guard")
    guard.callback_query.middleware(context)
    guard.callback_query.register(not_admin_button, AdminBookingCb.filter())
    guard.callback_query.register(not_admin_button, DayOffCb.filter())
    if settings.admin_chat_id is not None:
        # The client routers ignore groups: forged or outdated data in the admin chat ends here.
        guard.callback_query.register(stale_button, F.message.chat.id == settings.admin_chat_id)

    router.include_routers(staff, guard)
    return router

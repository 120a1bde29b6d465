"""Each booking step's button: the client's own, or the staff's for a client (with the
client's id, and whether the times outside the working hours are the ones shown); and the line
that says whom the staff are booking for. Shared by the step screens (views/booking.py)."""

from __future__ import annotations

from datetime import date, datetime

from aiogram.filters.callback_data import CallbackData

from domain.clients import Client
from domain.outcomes import Selection
from handlers.callback_data import (
    CalendarCb,
    ConfirmCb,
    DayCb,
    Destination,
    Nav,
    ServiceCb,
    StaffCalendarCb,
    StaffConfirmCb,
    StaffDayCb,
    StaffNavAction,
    StaffNavCb,
    StaffServiceCb,
    StaffTimeCb,
    TimeCb,
)
from handlers.views.base import pack_day
from utils.formatting import esc
from utils.i18n import Translator


def for_line(t: Translator, client: Client) -> str:
    """Whom the staff are booking for: name, @username, phone."""
    return t(
        "admin.book.for",
        name=esc(client.name or client.first_name) or "—",
        username=f" @{esc(client.username)}" if client.username else "",
        phone=esc(client.phone) if client.phone else t("admin.no_phone"),
    )


def for_prefix(t: Translator, client: Client | None) -> str:
    return "" if client is None else for_line(t, client) + "\n\n"


def _ids(sel: Selection) -> dict[str, int]:
    """The fields every step's callback data carries."""
    return {
        "service": sel.service.id,
        "specialist": sel.specialist.id if sel.specialist else 0,
        "moving": sel.moving.id if sel.moving else 0,
    }


def month_cb(sel: Selection, month: int) -> CallbackData:
    if sel.for_client is None:
        return CalendarCb(month=month, **_ids(sel))
    return StaffCalendarCb(month=month, client=sel.for_client.id, **_ids(sel))


def day_cb(sel: Selection, day: date) -> CallbackData:
    if sel.for_client is None:
        return DayCb(day=pack_day(day), **_ids(sel))
    staff = {"client": sel.for_client.id, "outside": int(sel.outside_hours)}
    return StaffDayCb(day=pack_day(day), **staff, **_ids(sel))


def time_cb(sel: Selection, start: datetime) -> CallbackData:
    if sel.for_client is None:
        return TimeCb(start=int(start.timestamp()), **_ids(sel))
    staff = {"client": sel.for_client.id, "outside": int(sel.outside_hours)}
    return StaffTimeCb(start=int(start.timestamp()), **staff, **_ids(sel))


def confirm_cb(sel: Selection, start: datetime) -> CallbackData:
    if sel.for_client is None:
        return ConfirmCb(start=int(start.timestamp()), **_ids(sel))
    staff = {"client": sel.for_client.id, "outside": int(sel.outside_hours)}
    return StaffConfirmCb(start=int(start.timestamp()), **staff, **_ids(sel))


def back_from_calendar(sel: Selection) -> CallbackData:
    if sel.for_client is not None:
        client = sel.for_client.id
        if sel.moving:
            return leave(sel)
        if sel.offering > 1:
            return StaffServiceCb(client=client, service=sel.service.id)
        return StaffNavCb(to=StaffNavAction.SERVICES, client=client)
    if sel.moving:
        return Nav(to=Destination.MY)
    return ServiceCb(service=sel.service.id) if sel.offering > 1 else Nav(to=Destination.BOOK)


def leave(sel: Selection) -> CallbackData:
    if sel.for_client is not None:
        moving = sel.moving.id if sel.moving else 0
        return StaffNavCb(to=StaffNavAction.CLOSE, client=sel.for_client.id, moving=moving)
    return Nav(to=Destination.MY if sel.moving else Destination.HOME)

"""Notices (domain/notices.py) as Telegram screens: cards to the admin chat (in
DEFAULT_LANGUAGE), to a specialist's own chat and news to a client (in theirs). Pure, like the
other views."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup

from domain.bookings import APPROVAL_TIMEOUT_REASON
from domain.notices import Notice, NoticeKind
from domain.rules import Business
from handlers.admin.views import booking_line, card_keyboard, with_note
from handlers.callback_data import Destination, Nav
from handlers.views.base import Screen, button, keyboard
from utils.formatting import esc, hhmm
from utils.i18n import Translator


def admin_card(t: Translator, business: Business, notice: Notice) -> Screen:
    d = notice.details
    line = booking_line(t, business, d, with_day=True)
    if notice.kind is NoticeKind.CARDS_PAUSED:
        text = t(
            "admin.card.paused",
            id=d.booking.id,
            line=line,
            client_id=d.booking.client_id,
            cap=business.rules.admin_cards_per_client_hour,
        )
    elif notice.kind is NoticeKind.BOOKED:
        text = t("admin.card.booked", id=d.booking.id, line=line)
    elif notice.kind is NoticeKind.CLIENT_CANCELLED:
        text = t("admin.card.cancelled", id=d.booking.id, line=line)
    elif notice.kind is NoticeKind.APPROVAL_CARD and notice.previous is None:
        text = t("admin.card.approval", id=d.booking.id, line=line)
    elif notice.kind is NoticeKind.APPROVAL_CARD:
        assert notice.previous is not None
        was = booking_line(t, business, notice.previous, with_day=True)
        text = t("admin.card.approval_moved", id=d.booking.id, line=line, was=was)
    else:
        was = ""
        if notice.previous is not None:
            was = booking_line(t, business, notice.previous, with_day=True)
        text = t("admin.card.rescheduled", id=d.booking.id, line=line, was=was)
    # Every card of an active booking offers Cancel and Move; of a pending one, Approve and
    # Decline.
    return Screen(with_note(t, text, d), card_keyboard(t, d.booking))


def specialist_card(t: Translator, business: Business, notice: Notice) -> Screen:
    """In the specialist's own chat: their booking, its cancel or its move (client and time)."""
    d = notice.details
    line = booking_line(t, business, d, with_day=True)
    if notice.kind is NoticeKind.SPECIALIST_CANCELLED:
        return Screen(t("specialist.card.cancelled", id=d.booking.id, line=line))
    if notice.kind is NoticeKind.SPECIALIST_MOVED and notice.previous is not None:
        was = booking_line(t, business, notice.previous, with_day=True)
        return Screen(t("specialist.card.moved", id=d.booking.id, line=line, was=was))
    return Screen(t("specialist.card.booked", id=d.booking.id, line=line))


def client_notice(t: Translator, business: Business, notice: Notice) -> Screen:
    """In the client's language: their booking was cancelled by the business."""
    d = notice.details
    start = business.local(d.booking.start)
    values = {
        "business": esc(business.name),
        "service": esc(d.service_name),
        "day": start.date(),
        "time": hhmm(start),
    }
    if notice.kind is NoticeKind.DAY_OFF:
        text = t("notice.day_off", **values)
    elif notice.kind is NoticeKind.DECLINED and notice.reason == APPROVAL_TIMEOUT_REASON:
        return Screen(t("notice.not_approved_in_time", **values), _book_again(t))
    elif notice.kind is NoticeKind.DECLINED:
        # The staff's reason is not shown: "declined" is the only one they can give here.
        return Screen(t("notice.declined", **values), _book_again(t))
    else:
        text = t("notice.cancelled", **values)
    if notice.reason:
        text += "\n" + t("notice.reason", reason=esc(notice.reason))
    return Screen(text, _book_again(t))


def _book_again(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([button(t("my.book_again"), Nav(to=Destination.BOOK))])

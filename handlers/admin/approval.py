"""Approval and blocking: Approve / Decline under a pending booking, /pending, /block and
/unblock."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message

from domain.actors import Actor
from domain.notices import NoticeKind
from domain.outcomes import BookingResult, Outcome
from domain.rules import Business
from handlers.admin import approval_views as views
from handlers.admin.args import MAX_TEXT, clean_text
from handlers.admin.common import say, send, usage_error
from handlers.admin.views import status_text
from handlers.callback_data import AdminBookingCb
from handlers.common import alert
from services.approvals import ApprovalService
from services.clients import ClientService
from services.notifier import Notifier, count_told
from services.staff import StaffService
from utils.formatting import esc
from utils.i18n import Translator


async def _decided(
    callback: CallbackQuery,
    t: Translator,
    notifier: Notifier,
    result: BookingResult,
    booking_id: int,
) -> None:
    """The decision's answer: why nothing happened, or what did (and whether the client was
    told), with the pressed message's Approve and Decline of that booking gone."""
    if result.outcome is Outcome.NOT_FOUND or result.booking is None:
        await alert(callback, t("admin.booking.not_found", id=booking_id))
        return
    if result.outcome is Outcome.NOT_PENDING:  # decided already: by another admin, the timeout
        b = result.booking
        status = status_text(t, b.status)
        await alert(callback, t("admin.approval.not_pending", id=booking_id, status=status))
        return
    delivered = await notifier.after(booking_id)
    if result.outcome is Outcome.APPROVED:
        if count_told(delivered, NoticeKind.APPROVED):
            text = t("admin.approval.approved", id=booking_id)
        else:
            text = t("admin.approval.approved_untold", id=booking_id)
    elif count_told(delivered, NoticeKind.DECLINED):
        text = t("admin.approval.declined", id=booking_id)
    else:
        text = t("admin.approval.declined_untold", id=booking_id)
    await callback.answer(text)
    message = callback.message
    if isinstance(message, Message):
        left = views.without_decision(message.reply_markup, booking_id)
        if left != message.reply_markup:  # forged data may name a booking not on this message
            await message.edit_reply_markup(reply_markup=left)
        await say(message, text)


async def approve_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    approvals: ApprovalService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    result = await approvals.approve(callback_data.booking, actor)
    await _decided(callback, t, notifier, result, callback_data.booking)


async def decline_button(
    callback: CallbackQuery,
    callback_data: AdminBookingCb,
    t: Translator,
    approvals: ApprovalService,
    actor: Actor,
    notifier: Notifier,
) -> None:
    result = await approvals.decline(callback_data.booking, actor)
    await _decided(callback, t, notifier, result, callback_data.booking)


async def pending_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    approvals: ApprovalService,
) -> None:
    if command.args:
        await usage_error(message, t, command)
        return
    await send(message, views.pending_screens(t, business, await approvals.pending()))


async def block_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    clients: ClientService,
    staff: StaffService,
    actor: Actor,
) -> None:
    query, _, rest = (command.args or "").strip().partition(" ")
    reason = clean_text(rest, MAX_TEXT) if rest.strip() else ""
    if not query or reason is None:
        await usage_error(message, t, command)
        return
    found = await clients.find(query)
    client = None
    if found is not None:
        client = await clients.set_blocked(found.id, actor, blocked=True, reason=reason or None)
    if client is None:
        await say(message, t("admin.client.not_found", query=esc(query)))
        return
    active = [d for d in await staff.history(client.id) if d.booking.is_active]
    active.sort(key=lambda d: d.booking.start)
    await send(message, views.blocked_screens(t, business, client, active))


async def unblock_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    clients: ClientService,
    actor: Actor,
) -> None:
    query = (command.args or "").strip()
    if not query or " " in query:
        await usage_error(message, t, command)
        return
    found = await clients.find(query)
    if found is None:
        await say(message, t("admin.client.not_found", query=esc(query)))
        return
    if not found.is_blocked:
        await say(message, t("admin.unblock.not_blocked", client=views.name_of(found), id=found.id))
        return
    await clients.set_blocked(found.id, actor, blocked=False)
    await say(message, t("admin.unblock.done", client=views.name_of(found), id=found.id))

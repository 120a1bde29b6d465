"""The admin chat's router: staff run the business with commands and buttons.

Only users in ADMIN_IDS, in the ADMIN_CHAT_ID group or in their private chat with the bot, reach
these handlers (router filters). Anyone else's command falls through: ignored in a group, the
client's "unknown command" in a private chat. A non-admin pressing an admin button is told so.
Every change goes through a service that writes the audit log with the admin's id.

``COMMANDS`` is the one list of admin commands: it registers them, orders /help, and names each
one's usage line (``admin.usage.<name>`` in locales/*/LC_MESSAGES/admin.po). Adding a command is
one entry here, one handler, and its usage line in both catalogs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from config import Settings
from handlers.admin import accounts, agenda, approval, catalog, notes, reports, staff, time_off
from handlers.admin import booking as booking_for
from handlers.admin.common import say
from handlers.admin.views import help_text
from handlers.callback_data import AdminAction, AdminBookingCb, DayOffAction, DayOffCb
from handlers.common import alert
from handlers.filters import inline
from handlers.middlewares import AdminContext
from handlers.roles import is_staff_here
from utils.i18n import Translations, Translator


@dataclass(frozen=True)
class AdminCommand:
    name: str
    handler: Callable[..., Awaitable[None]]


COMMANDS: tuple[AdminCommand, ...] = (
    # agenda and bookings
    AdminCommand("today", agenda.today_command),
    AdminCommand("tomorrow", agenda.tomorrow_command),
    AdminCommand("day", agenda.day_command),
    AdminCommand("week", agenda.week_command),
    AdminCommand("booking", agenda.booking_command),
    AdminCommand("cancel", agenda.cancel_command),
    AdminCommand("book", booking_for.book_command),
    AdminCommand("move", booking_for.move_command),
    AdminCommand("pending", approval.pending_command),
    # the catalog
    AdminCommand("services", catalog.services_command),
    AdminCommand("service_add", catalog.service_add_command),
    AdminCommand("service_edit", catalog.service_edit_command),
    AdminCommand("service_on", catalog.service_on_command),
    AdminCommand("service_off", catalog.service_off_command),
    AdminCommand("service_delete", catalog.service_delete_command),
    # staff and hours
    AdminCommand("specialists", staff.specialists_command),
    AdminCommand("specialist_add", staff.specialist_add_command),
    AdminCommand("specialist_rename", staff.specialist_rename_command),
    AdminCommand("specialist_services", staff.specialist_services_command),
    AdminCommand("specialist_off", staff.specialist_off_command),
    AdminCommand("specialist_on", staff.specialist_on_command),
    AdminCommand("specialist_delete", staff.specialist_delete_command),
    AdminCommand("specialist_link", accounts.specialist_link_command),
    AdminCommand("specialist_unlink", accounts.specialist_unlink_command),
    AdminCommand("hours", staff.hours_command),
    AdminCommand("hours_set", staff.hours_set_command),
    AdminCommand("dayoff", time_off.dayoff_command),
    AdminCommand("dayon", time_off.dayon_command),
    AdminCommand("hours_on", time_off.hours_on_command),
    AdminCommand("timeoff", time_off.timeoff_command),
    # clients and reports
    AdminCommand("client", reports.client_command),
    AdminCommand("note", notes.note_command),
    AdminCommand("block", approval.block_command),
    AdminCommand("unblock", approval.unblock_command),
    AdminCommand("stats", reports.stats_command),
    AdminCommand("export", reports.export_command),
)
COMMAND_NAMES = tuple(c.name for c in COMMANDS)

# One handler per button action.
BOOKING_BUTTONS: dict[AdminAction, Callable[..., Awaitable[None]]] = {
    AdminAction.CANCEL: agenda.ask_cancel_button,
    AdminAction.CANCEL_YES: agenda.cancel_yes_button,
    AdminAction.KEEP: agenda.keep_button,
    AdminAction.NO_SHOW: agenda.no_show_button,
    AdminAction.DONE: agenda.done_button,
    AdminAction.MOVE: booking_for.move_button,
    AdminAction.APPROVE: approval.approve_button,
    AdminAction.DECLINE: approval.decline_button,
}
# The choice about bookings left outside the hours (/dayoff, /hours_on, /hours_set).
OUTSIDE_HOURS_BUTTONS: dict[DayOffAction, Callable[..., Awaitable[None]]] = {
    DayOffAction.CANCEL_ALL: staff.outside_cancel_all_button,
    DayOffAction.KEEP: staff.outside_keep_button,
}


def _from_staff(settings: Settings) -> Callable[[Message], bool]:
    def check(message: Message) -> bool:
        user = message.from_user
        return is_staff_here(
            settings, user.id if user else None, message.chat.id, message.chat.type
        )

    return check


def _pressed_by_staff(settings: Settings) -> Callable[[CallbackQuery], bool]:
    def check(callback: CallbackQuery) -> bool:
        message = callback.message
        if message is None:
            return False
        return is_staff_here(settings, callback.from_user.id, message.chat.id, message.chat.type)

    return check


async def help_command(message: Message, t: Translator) -> None:
    await say(message, help_text(t, COMMAND_NAMES))


async def unknown_command(message: Message, t: Translator) -> None:
    await say(message, t("admin.unknown"))


async def not_admin_button(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("admin.alert.not_admin"))


async def stale_button(callback: CallbackQuery, t: Translator) -> None:
    await alert(callback, t("admin.alert.stale"))


def make_routers(settings: Settings, translations: Translations) -> list[Router]:
    """Fresh routers each call (a Router can belong to only one Dispatcher), in their order:
    the staff's, then the guard of admin buttons. Included in the Dispatcher as they are: a
    parent router around them would be one more level every update walks."""
    staff_router = Router(name="admin_staff")
    staff_router.message.filter(inline(_from_staff(settings)))
    staff_router.callback_query.filter(inline(_pressed_by_staff(settings)))
    context = AdminContext(translations(settings.default_language))
    staff_router.message.middleware(context)
    staff_router.callback_query.middleware(context)

    register = staff_router.message.register
    group_only = inline(F.chat.id == settings.admin_chat_id)
    register(help_command, Command("help"), group_only)
    register(help_command, Command("admin"))
    for command in COMMANDS:
        register(command.handler, Command(command.name))
    # In the admin group an unknown command is a typo; in a private chat it is the client's.
    register(unknown_command, group_only, inline(F.text.startswith("/")))
    for action, handler in BOOKING_BUTTONS.items():
        staff_router.callback_query.register(handler, AdminBookingCb.filter(F.action == action))
    for choice, choice_handler in OUTSIDE_HOURS_BUTTONS.items():
        staff_router.callback_query.register(choice_handler, DayOffCb.filter(F.action == choice))
    for data, step in booking_for.STEP_BUTTONS:
        staff_router.callback_query.register(step, data.filter())

    # Admin buttons pressed by anyone else (a forwarded card, a member of the group who is
    # not staff): told so, nothing changes.
    guard = Router(name="admin_guard")
    guard.callback_query.middleware(context)
    guard.callback_query.register(not_admin_button, AdminBookingCb.filter())
    guard.callback_query.register(not_admin_button, DayOffCb.filter())
    for data, _ in booking_for.STEP_BUTTONS:
        guard.callback_query.register(not_admin_button, data.filter())
    if settings.admin_chat_id is not None:
        # The client routers ignore groups: forged or outdated data in the admin chat ends here.
        guard.callback_query.register(
            stale_button, inline(F.message.chat.id == settings.admin_chat_id)
        )

    return [staff_router, guard]


__all__ = ["COMMANDS", "COMMAND_NAMES", "AdminCommand", "is_staff_here", "make_routers"]

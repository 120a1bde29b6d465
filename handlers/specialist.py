"""A specialist's own private chat: opening the one-time link the admin gave them
(/start sp-CODE), then /today, /tomorrow and /week with their own bookings only.

Who is a specialist is decided in handlers/roles.py. The commands are tried before the client's
own; for anyone who is not a linked specialist they fall through to the client's "unknown
command", exactly as any other unknown command does."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from domain.accounts import LINK_PREFIX, LinkOutcome
from domain.bookings import BookingDetails
from domain.catalog import Specialist
from domain.rules import Business
from handlers.admin.views import agenda_lines
from handlers.filters import inline
from handlers.roles import SpecialistHere
from services.accounts import AccountService
from utils.formatting import esc
from utils.i18n import Translator

WEEK_DAYS = 7


async def link_opened(
    message: Message, command: CommandObject, t: Translator, accounts: AccountService
) -> None:
    assert message.from_user is not None and command.args is not None
    redeemed = await accounts.redeem(command.args[len(LINK_PREFIX) :], message.from_user.id)
    name = esc(redeemed.specialist.name) if redeemed.specialist else ""
    text = {
        LinkOutcome.LINKED: lambda: t("specialist.linked", name=name),
        LinkOutcome.ALREADY_YOURS: lambda: t("specialist.already_linked", name=name),
        LinkOutcome.USED: lambda: t("specialist.link_used"),
        LinkOutcome.EXPIRED: lambda: t("specialist.link_expired"),
        LinkOutcome.UNKNOWN: lambda: t("specialist.link_unknown"),
    }[redeemed.outcome]()
    await message.answer(text)


async def _agenda(
    message: Message,
    t: Translator,
    business: Business,
    accounts: AccountService,
    specialist: Specialist,
    first: date,
    last: date,
) -> None:
    found = await accounts.agenda(specialist.id, first, last)
    await message.answer(agenda_text(t, business, first, last, found))


async def today_command(
    message: Message,
    t: Translator,
    business: Business,
    accounts: AccountService,
    specialist: Specialist,
) -> None:
    today = accounts.today()
    await _agenda(message, t, business, accounts, specialist, today, today)


async def tomorrow_command(
    message: Message,
    t: Translator,
    business: Business,
    accounts: AccountService,
    specialist: Specialist,
) -> None:
    tomorrow = accounts.today() + timedelta(days=1)
    await _agenda(message, t, business, accounts, specialist, tomorrow, tomorrow)


async def week_command(
    message: Message,
    t: Translator,
    business: Business,
    accounts: AccountService,
    specialist: Specialist,
) -> None:
    today = accounts.today()
    last = today + timedelta(days=WEEK_DAYS - 1)
    await _agenda(message, t, business, accounts, specialist, today, last)


def agenda_text(
    t: Translator, business: Business, first: date, last: date, found: list[BookingDetails]
) -> str:
    """The specialist's bookings, by day; no buttons: changes are the admins'."""
    if first == last:
        if not found:
            return t("specialist.agenda.empty", day=first)
        lines = [t("specialist.agenda.title", day=first, count=len(found)), ""]
        return "\n".join(lines + agenda_lines(t, business, found))
    if not found:
        return t("specialist.week.empty")
    lines = [t("specialist.week.title", count=len(found))]
    by_day: dict[date, list[BookingDetails]] = {}
    for d in found:
        by_day.setdefault(business.local(d.booking.start).date(), []).append(d)
    for day, of_day in by_day.items():
        lines += ["", t("specialist.week.day", day=day), *agenda_lines(t, business, of_day)]
    return "\n".join(lines)


def _opens_a_link(message: Message) -> bool:
    # A plain prefix test first: every /start of every client passes here.
    return (message.text or "").startswith(f"/start {LINK_PREFIX}")


def register_link(router: Router) -> None:
    """On the client's first router (handlers/start.py), before its own /start."""
    link = CommandStart(deep_link=True, magic=F.args.startswith(LINK_PREFIX))
    router.message.register(link_opened, inline(_opens_a_link), link)


def register_commands(router: Router, accounts: AccountService) -> None:
    """On the same router, after the client's own commands: tried only by the messages nothing
    before them took, so a client's /start never pays for them."""
    mine = SpecialistHere(accounts)
    router.message.register(today_command, Command("today"), mine)
    router.message.register(tomorrow_command, Command("tomorrow"), mine)
    router.message.register(week_command, Command("week"), mine)

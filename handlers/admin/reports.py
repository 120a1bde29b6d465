"""Clients and reports: a client's card and history, the statistics, the CSV export."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, Message

from domain.rules import Business
from handlers.admin import views as av
from handlers.admin.args import parse_id, parse_range, words
from handlers.admin.common import say, usage_error
from services.clients import ClientService
from services.export import ExportService
from services.staff import StaffService
from services.stats import StatsService, client_summary
from utils.formatting import esc
from utils.i18n import Translator


async def client_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    clients: ClientService,
    staff: StaffService,
) -> None:
    args = words(command.args)
    if len(args) != 1 or not (parse_id(args[0]) or args[0].startswith("@")):
        await usage_error(message, t, command)
        return
    client = await clients.find(args[0])
    if client is None:
        await say(message, t("admin.client.not_found", query=esc(args[0])))
        return
    history = await staff.history(client.id)
    await say(message, av.client_text(t, business, client, client_summary(history), history))


async def stats_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    staff: StaffService,
    stats: StatsService,
) -> None:
    days = parse_range(words(command.args), staff.today())
    if days is None:
        await usage_error(message, t, command)
        return
    await say(message, av.stats_text(t, business, await stats.stats(*days)))


async def export_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    staff: StaffService,
    export: ExportService,
) -> None:
    days = parse_range(words(command.args), staff.today())
    if days is None:
        await usage_error(message, t, command)
        return
    first, last = days
    data, count = await export.csv(first, last)
    await message.answer_document(
        BufferedInputFile(data, filename=f"bookings_{first.isoformat()}_{last.isoformat()}.csv"),
        caption=t(
            "admin.export.caption", first=first.isoformat(), last=last.isoformat(), count=count
        ),
    )

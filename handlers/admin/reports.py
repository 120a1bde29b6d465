"""Clients and reports: a client's card and history, the statistics, the CSV export."""

from __future__ import annotations

import asyncio

from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, Message

from domain.rules import Business
from handlers.admin import report_views
from handlers.admin.args import parse_id, parse_range, words
from handlers.admin.chart import chart_data, render_png
from handlers.admin.common import say, usage_error
from services.clients import ClientService
from services.export import ExportService
from services.notes import NotesService
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
    notes: NotesService,
) -> None:
    args = words(command.args)
    if len(args) != 1 or not (parse_id(args[0]) or args[0].startswith(("@", "+"))):
        await usage_error(message, t, command)
        return
    client = await clients.find(args[0])
    if client is None:
        await say(message, t("admin.client.not_found", query=esc(args[0])))
        return
    history = await staff.history(client.id)
    notes_of = await notes.of_client(client.id)
    summary = client_summary(history)
    await say(message, report_views.client_text(t, business, client, summary, history, notes_of))


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
    numbers = await stats.stats(*days)
    text = report_views.stats_text(t, business, numbers)
    figures = chart_data(t, business, numbers)
    if figures is None:
        await say(message, text + "\n\n" + t("admin.stats.no_chart"))
        return
    await say(message, text)
    png = await asyncio.to_thread(render_png, figures)  # a second of CPU: off the event loop
    first, last = days
    await message.answer_photo(
        BufferedInputFile(png, filename=f"stats_{first.isoformat()}_{last.isoformat()}.png"),
        caption=figures.title,
    )


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

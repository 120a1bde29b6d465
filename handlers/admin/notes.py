"""/note CLIENT text: a note about a client, for the staff (on /client and the booking cards)."""

from __future__ import annotations

from aiogram.filters import CommandObject
from aiogram.types import Message

from domain.actors import Actor
from domain.clients import MAX_NOTE_LENGTH
from handlers.admin.args import clean_text
from handlers.admin.common import say, usage_error
from services.clients import ClientService
from services.notes import NotesService
from utils.formatting import esc
from utils.i18n import Translator


async def note_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    clients: ClientService,
    notes: NotesService,
    actor: Actor,
) -> None:
    query, _, rest = (command.args or "").strip().partition(" ")
    text = clean_text(rest, MAX_NOTE_LENGTH)
    if not query or text is None:
        await usage_error(message, t, command)
        return
    client = await clients.find(query)
    note = None if client is None else await notes.add(client.id, text, actor)
    if note is None:
        await say(message, t("admin.client.not_found", query=esc(query)))
        return
    await say(message, t("admin.note.added", id=note.client_id))

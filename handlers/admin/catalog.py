"""The catalog: the services the business offers (/services, add, edit, on, off, delete)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiogram.filters import CommandObject
from aiogram.types import Message

from domain.actors import Actor
from domain.catalog import MAX_CAPACITY
from domain.outcomes import CatalogOutcome
from domain.rules import Business
from handlers.admin import views as av
from handlers.admin.args import (
    MAX_NAME,
    MAX_TEXT,
    clean_text,
    parse_id,
    parse_minutes,
    parse_price,
    parse_whole,
    words,
)
from handlers.admin.common import say, single_id, usage_error
from services.catalog import CatalogService
from utils.formatting import esc
from utils.i18n import Translator


async def services_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    business: Business,
    catalog: CatalogService,
) -> None:
    if command.args:
        await usage_error(message, t, command)
        return
    await say(message, av.services_text(t, business, await catalog.overview()))


async def service_add_command(
    message: Message, command: CommandObject, t: Translator, catalog: CatalogService, actor: Actor
) -> None:
    args = words(command.args)
    duration = parse_minutes(args[0], 1, 1440) if len(args) >= 3 else None
    price = parse_price(args[1]) if len(args) >= 3 else None
    name = clean_text(" ".join(args[2:]), MAX_NAME) if len(args) >= 3 else None
    if duration is None or price is None or name is None:
        await usage_error(message, t, command)
        return
    service = await catalog.add(actor, name=name, duration_minutes=duration, price=price)
    await say(message, t("admin.service.added", id=service.id, name=esc(service.name)))


APPROVAL_WORDS = frozenset({"on", "off", "default"})

# /service_edit ID FIELD VALUE: the field's word, its column, and how its value is read.
EDITABLE: dict[str, tuple[str, Callable[[str], str | int | None]]] = {
    "name": ("name", lambda raw: clean_text(raw, MAX_NAME)),
    "description": (
        "description",
        lambda raw: "" if raw.strip() == "-" else clean_text(raw, MAX_TEXT),
    ),
    "duration": ("duration_minutes", lambda raw: parse_minutes(raw.strip(), 1, 1440)),
    "buffer": ("buffer_minutes", lambda raw: parse_minutes(raw.strip(), 0, 1440)),
    "price": ("price", lambda raw: parse_price(raw.strip())),
    "capacity": ("capacity", lambda raw: parse_whole(raw.strip(), 1, MAX_CAPACITY)),
    # on / off: the service's own say on approval; default: APPROVAL decides (stored as NULL)
    "approval": (
        "approval",
        lambda raw: raw.strip().lower() if raw.strip().lower() in APPROVAL_WORDS else None,
    ),
}


async def service_edit_command(
    message: Message, command: CommandObject, t: Translator, catalog: CatalogService, actor: Actor
) -> None:
    args = (command.args or "").split(maxsplit=2)
    service_id = parse_id(args[0]) if len(args) == 3 else None
    editable = EDITABLE.get(args[1].lower()) if len(args) == 3 else None
    value = editable[1](args[2]) if editable is not None else None
    if service_id is not None and editable is EDITABLE["capacity"] and value is None:
        # Say what a capacity is: a number alone reads like any other field's.
        await say(message, t("admin.service.bad_capacity", max=MAX_CAPACITY))
        return
    if service_id is None or editable is None or value is None:
        await usage_error(message, t, command)
        return
    column = editable[0]
    stored = None if column == "approval" and value == "default" else value
    outcome = await catalog.update(service_id, actor, **{column: stored})
    if outcome is CatalogOutcome.NOT_FOUND:
        await say(message, t("admin.service.not_found", id=service_id))
        return
    await say(message, t("admin.service.updated", id=service_id))


async def _change(
    message: Message,
    command: CommandObject,
    t: Translator,
    change: Callable[[int], Awaitable[CatalogOutcome]],
    done: Callable[[int], str],
) -> None:
    """One service id, one change, and the answer: done, not found, or still in use."""
    if (service_id := await single_id(message, command, t)) is None:
        return
    outcome = await change(service_id)
    if outcome is CatalogOutcome.NOT_FOUND:
        await say(message, t("admin.service.not_found", id=service_id))
    elif outcome is CatalogOutcome.IN_USE:
        await say(message, t("admin.service.in_use", id=service_id))
    else:
        await say(message, done(service_id))


async def service_on_command(
    message: Message, command: CommandObject, t: Translator, catalog: CatalogService, actor: Actor
) -> None:
    change = partial(catalog.set_active, active=True, actor=actor)
    await _change(message, command, t, change, lambda sid: t("admin.service.on", id=sid))


async def service_off_command(
    message: Message, command: CommandObject, t: Translator, catalog: CatalogService, actor: Actor
) -> None:
    change = partial(catalog.set_active, active=False, actor=actor)
    await _change(message, command, t, change, lambda sid: t("admin.service.off", id=sid))


async def service_delete_command(
    message: Message, command: CommandObject, t: Translator, catalog: CatalogService, actor: Actor
) -> None:
    change = partial(catalog.delete, actor=actor)
    await _change(message, command, t, change, lambda sid: t("admin.service.deleted", id=sid))

"""/specialist_link ID: a one-time link (24 hours) that ties the Telegram account opening it to
the specialist; /specialist_unlink ID ends that."""

from __future__ import annotations

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import Message

from domain.accounts import LINK_PREFIX, LINK_VALID
from domain.actors import Actor
from handlers.admin.common import say, single_id
from services.accounts import AccountService
from utils.i18n import Translator


async def specialist_link_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    bot: Bot,
    accounts: AccountService,
    actor: Actor,
) -> None:
    specialist_id = await single_id(message, command, t)
    if specialist_id is None:
        return
    code = await accounts.create_link(specialist_id, actor)
    if code is None:
        await say(message, t("admin.specialist.not_found", id=specialist_id))
        return
    me = await bot.me()
    url = f"https://t.me/{me.username}?start={LINK_PREFIX}{code}"
    hours = int(LINK_VALID.total_seconds() // 3600)
    await say(message, t("admin.specialist.link", id=specialist_id, url=url, hours=hours))


async def specialist_unlink_command(
    message: Message,
    command: CommandObject,
    t: Translator,
    accounts: AccountService,
    actor: Actor,
) -> None:
    specialist_id = await single_id(message, command, t)
    if specialist_id is None:
        return
    unlinked = await accounts.unlink(specialist_id, actor)
    if unlinked is None:
        await say(message, t("admin.specialist.not_found", id=specialist_id))
    elif unlinked:
        await say(message, t("admin.specialist.unlinked", id=specialist_id))
    else:
        await say(message, t("admin.specialist.not_linked", id=specialist_id))

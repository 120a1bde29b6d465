"""Who someone is here: an admin (ADMIN_IDS, in the admin chat or their private chat), a
specialist (a Telegram account linked with /specialist_link, in their private chat), or a
client. The admin routers ask ``is_staff_here``; the specialist's commands ask
``SpecialistHere``; everything else is the client's. A refusal is never announced: a command
meant for another role falls through to the client's "unknown command"."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import Message

from config import Settings
from services.accounts import AccountService


def is_staff_here(settings: Settings, user_id: int | None, chat_id: int, chat_type: str) -> bool:
    """An admin in the admin chat, or in their own private chat with the bot."""
    if user_id is None or user_id not in settings.admin_ids:
        return False
    if settings.admin_chat_id is not None and chat_id == settings.admin_chat_id:
        return True
    return chat_type == ChatType.PRIVATE and chat_id == user_id


class SpecialistHere(Filter):
    """A linked specialist in their private chat: the handler gets ``specialist``. Asked only
    after the command matched, so other updates never pay for the lookup."""

    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        user = message.from_user
        if user is None or message.chat.type != ChatType.PRIVATE or message.chat.id != user.id:
            return False
        specialist = await self.accounts.specialist_of(user.id)
        return False if specialist is None else {"specialist": specialist}

"""The admin chat's word on scheduled backups (services/backups.py decides when to speak)."""

from __future__ import annotations

import logging

from aiogram import Bot

from config import Settings
from services.backups import Report
from utils.formatting import esc
from utils.i18n import Translations

logger = logging.getLogger(__name__)


def make_backup_report(bot: Bot, translations: Translations, settings: Settings) -> Report:
    async def report(reason: str | None) -> None:
        if settings.admin_chat_id is None:
            return  # logged by the service already
        t = translations(settings.default_language)
        folder = esc(str(settings.backup_dir))
        if reason is None:
            message = t("admin.backup.works_again", folder=folder)
        else:
            message = t("admin.backup.failed", folder=folder, reason=esc(reason))
        await bot.send_message(settings.admin_chat_id, message)

    return report

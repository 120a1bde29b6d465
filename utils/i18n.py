"""Translations: gettext catalogs (locales/<lang>/LC_MESSAGES/*.po) read with Babel.

Message ids are stable keys ("menu.book"); the catalogs hold the text for each language, with
``{placeholders}`` filled by ``str.format``. Each feature keeps its own file (bot.po for the
client conversation, admin.po, reminders.po, ...); a language's files are merged, and a key
defined twice is an error. Values inserted into HTML texts are escaped by the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


def load_catalog(language: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((locales_dir / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not (message.id and isinstance(message.id, str) and message.string):
                continue
            if message.id in merged:
                raise ValueError(f"{path}: key {message.id!r} is already defined in another file")
            merged[message.id] = str(message.string)
    return merged


def pick_language(code: str | None, default: Language) -> Language:
    """A Telegram language_code ("ru", "en-GB", ...) -> one of ours, else the default."""
    prefix = (code or "").split("-")[0].lower()
    for language in LANGUAGES:
        if prefix == language:
            return language
    return default


@dataclass(frozen=True)
class Translator:
    language: Language
    catalog: dict[str, str]

    def __call__(self, key: str, **values: object) -> str:
        template = self.catalog.get(key)
        if template is None:
            # tests/test_i18n.py keeps this from happening; never crash a user's action over it.
            logger.error("missing translation %r for %s", key, self.language)
            return key
        return template.format(**values) if values else template


class Translations:
    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._translators = {
            language: Translator(language, load_catalog(language, locales_dir))
            for language in LANGUAGES
        }

    def __call__(self, language: str | None, default: Language = "ru") -> Translator:
        return self._translators[pick_language(language, default)]

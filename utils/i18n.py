"""Translations: gettext catalogs (locales/<lang>/LC_MESSAGES/*.po) read with Babel.

Message ids are stable keys ("menu.book"); the catalogs hold the text for each language, with
``{placeholders}`` filled by ``str.format``. Each feature keeps its own file (bot.po for the
client conversation, admin.po, reminders.po, ...); a language's files are merged, and a key
defined twice is an error. Values inserted into HTML texts are escaped by the caller.

A date (``datetime.date``) given as a value is written by the Translator, in the form its
placeholder names: ``{day}`` 'суббота, 5 декабря', ``{day:from}`` 'с субботы, 5 декабря' (the
roles: utils/formatting.DateRole). So the sentence, in each language, decides the case, and
tests/test_date_cases.py checks every text that embeds a date.

A text that depends on a number is a gettext plural entry (``msgid_plural``, ``msgstr[0..n]``):
its ``{count}`` value picks the form by the catalog's Plural-Forms rule ("1 seat left",
"2 seats left"; in Russian "1 место", "2 места", "5 мест").
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import logging
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from babel.messages.pofile import read_po

from utils.formatting import DateRole, day_long

logger = logging.getLogger(__name__)

Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# Keys read here rather than through t("..."): a role's weekdays, the first specialist's name.
WEEKDAYS_KEY = "date.weekdays.{role}"
FIRST_SPECIALIST_KEY = "specialist.first_name"
RUNTIME_KEYS = frozenset(
    {FIRST_SPECIALIST_KEY} | {WEEKDAYS_KEY.format(role=r.value) for r in DateRole if r.value}
)


class Plural(str):
    """A text with plural forms. As a str it is its last form (what the catalog checks read);
    ``pick(n)`` is the form the language's Plural-Forms rule gives ``n``."""

    forms: tuple[str, ...]
    _rule: Callable[[int], int]

    def __new__(cls, forms: tuple[str, ...], rule: Callable[[int], int]) -> Plural:
        text = super().__new__(cls, forms[-1])
        text.forms = forms
        text._rule = rule
        return text

    def pick(self, n: int) -> str:
        index = self._rule(abs(n))
        return self.forms[index] if 0 <= index < len(self.forms) else self.forms[-1]


def load_catalog(language: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((locales_dir / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if not (key and isinstance(key, str) and message.string):
                continue
            if key in merged:
                raise ValueError(f"{path}: key {key!r} is already defined in another file")
            if isinstance(message.string, tuple):
                forms = tuple(str(form) for form in message.string)
                if len(forms) != catalog.num_plurals or not all(forms):
                    raise ValueError(f"{path}: {key!r} needs {catalog.num_plurals} plural forms")
                merged[key] = Plural(forms, gettext.c2py(catalog.plural_expr))
            else:
                merged[key] = str(message.string)
    return merged


def pick_language(code: str | None, default: Language) -> Language:
    """A Telegram language_code ("ru", "en-GB", ...) -> one of ours, else the default."""
    prefix = (code or "").split("-")[0].lower()
    for language in LANGUAGES:
        if prefix == language:
            return language
    return default


@functools.cache
def catalog_text(language: Language, key: str) -> str:
    """One text of a language's catalog, outside a conversation (read once per process)."""
    return load_catalog(language)[key]


def _is_day(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


class _DayFormatter(string.Formatter):
    """str.format, except that a date value is written by the Translator in its role."""

    def __init__(self, translator: Translator) -> None:
        self.translator = translator

    def format_field(self, value: Any, format_spec: str) -> Any:
        if _is_day(value):
            return self.translator.day(value, format_spec)
        if format_spec in _ROLE_NAMES and isinstance(value, str):
            # A date already written as text cannot take the case: a bug, not the user's fault.
            logger.error("a date role %r given text %r, not a date", format_spec, value)
            return value
        return super().format_field(value, format_spec)


_ROLE_NAMES = frozenset(r.value for r in DateRole if r.value)


@dataclass(frozen=True)
class Translator:
    language: Language
    catalog: dict[str, str]
    _formatter: _DayFormatter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_formatter", _DayFormatter(self))

    def __call__(self, key: str, **values: object) -> str:
        template = self.catalog.get(key)
        if template is None:
            # tests/test_i18n.py keeps this from happening; never crash a user's action over it.
            logger.error("missing translation %r for %s", key, self.language)
            return key
        if isinstance(template, Plural):
            count = values.get("count")
            if isinstance(count, int):
                template = template.pick(count)
            else:
                logger.error("the plural text %r needs a whole {count}, got %r", key, count)
        if not values:
            return template
        if not any(_is_day(v) for v in values.values()):
            # A date role given text fails here; the formatter below logs it and goes on.
            with contextlib.suppress(ValueError):
                return template.format(**values)
        return self._formatter.format(template, **values)

    def day(self, day: date, role: str = "") -> str:
        """The date as its sentence needs it: 'суббота, 5 декабря', 'с субботы, 5 декабря'."""
        try:
            known = DateRole(role)
        except ValueError:
            logger.error("unknown date role %r in a %s text", role, self.language)
            known = DateRole.NAMED
        if known is DateRole.NAMED:
            return day_long(day, self.language)
        names = self.catalog.get(WEEKDAYS_KEY.format(role=known.value), "").split("|")
        if len(names) != 7:
            logger.error("the %s catalog lacks the weekdays of the role %r", self.language, role)
            return day_long(day, self.language)
        return day_long(day, self.language, known, [n.strip() for n in names])


class Translations:
    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._translators = {
            language: Translator(language, load_catalog(language, locales_dir))
            for language in LANGUAGES
        }

    def __call__(self, language: str | None, default: Language = "ru") -> Translator:
        return self._translators[pick_language(language, default)]

"""Every text the code asks for exists in both languages, with the same placeholders."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from domain.outcomes import SUCCESS, Outcome
from handlers import COMMANDS
from handlers.admin.router import COMMAND_NAMES
from utils.formatting import day_long, month_title, weekday_names
from utils.i18n import LANGUAGES, RUNTIME_KEYS, Translations, load_catalog, pick_language

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("handlers", "services", "utils")


def keys_in_code() -> set[str]:
    """String keys passed as the first argument to a call of ``t(...)`` anywhere in the code."""
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "t"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
    # Keys built at run time.
    found |= {f"command.{c}" for c in COMMANDS}
    found |= {f"outcome.{o.value}" for o in Outcome if o not in SUCCESS}
    found |= {f"admin.usage.{c}" for c in COMMAND_NAMES}
    found |= RUNTIME_KEYS
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_code_uses_many_keys() -> None:
    assert len(keys_in_code()) > 60  # the scan itself works


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_in_the_code_is_translated(language: str) -> None:
    catalog = load_catalog(language)
    missing = sorted(k for k in keys_in_code() if not catalog.get(k))
    assert missing == [], f"missing in {language}: {missing}"


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    ru, en = load_catalog("ru"), load_catalog("en")
    assert sorted(set(ru) ^ set(en)) == []
    for key in ru:
        assert placeholders(ru[key]) == placeholders(en[key]), key


def test_no_catalog_key_is_left_unused() -> None:
    unused = sorted(set(load_catalog("en")) - keys_in_code())
    assert unused == []


def test_language_choice() -> None:
    assert pick_language("ru", "en") == "ru"
    assert pick_language("en-GB", "ru") == "en"
    assert pick_language("de", "ru") == "ru"
    assert pick_language(None, "en") == "en"
    tr = Translations()
    assert tr("uk", "en").language == "en"
    assert tr("ru")("nav.back") == "« Назад"


def test_localized_calendar_words() -> None:
    from datetime import date

    assert month_title(2026, 12, "ru") == "Декабрь 2026"
    assert month_title(2026, 12, "en") == "December 2026"
    assert weekday_names("ru")[0] == "Пн"
    assert weekday_names("en")[6] == "Su"
    assert day_long(date(2026, 12, 2), "ru") == "среда, 2 декабря"


def test_plural_texts_have_every_form_with_the_same_placeholders() -> None:
    from utils.i18n import Plural

    plurals = 0
    for language in LANGUAGES:
        catalog = load_catalog(language)
        for key, text in catalog.items():
            if isinstance(text, Plural):
                plurals += 1
                assert len(text.forms) == {"ru": 3, "en": 2}[language], key
                assert all(placeholders(f) == placeholders(text) for f in text.forms), key
    assert plurals >= 8  # the scan found the catalogs' plural entries


def test_plural_forms_follow_each_language() -> None:
    tr = Translations()
    ru, en = tr("ru"), tr("en")
    assert [ru("book.time_seats", time="10:00", count=n) for n in (1, 3, 5, 11, 21, 22)] == [
        "10:00 · 1 место",
        "10:00 · 3 места",
        "10:00 · 5 мест",
        "10:00 · 11 мест",
        "10:00 · 21 место",
        "10:00 · 22 места",
    ]
    assert en("book.time_seats", time="10:00", count=1) == "10:00 · 1 seat left"
    assert en("book.time_seats", time="10:00", count=2) == "10:00 · 2 seats left"
    assert ru("card.group", count=21) == "Групповое занятие, до 21 человека"

"""Dates inside Russian sentences take the case (and the preposition's form) the sentence needs:
"Перенос записи со среды", "на субботу", "в субботу". Every catalog text that embeds a date is
listed here with the form a Saturday takes in it, so a new text with a date cannot silently get
the nominative after a preposition; English stays as it was."""

from __future__ import annotations

import string
from datetime import date

import pytest

from utils.formatting import DateRole
from utils.i18n import LANGUAGES, WEEKDAYS_KEY, Translations, load_catalog

SATURDAY = date(2026, 12, 5)
TR = Translations()

# Placeholder names that carry a date. A text using one must be listed below.
DATE_FIELDS = {"day", "first", "last"}

# key -> what a Saturday reads like in the Russian sentence (preposition included).
EXPECTED_RU: dict[str, dict[str, str]] = {
    # Headings and labels: the plain (nominative) date.
    "book.choose_time": {"day": "суббота, 5 декабря\n"},
    "card.date": {"day": "Дата: суббота, 5 декабря"},
    "my.item": {"day": "1. суббота, 5 декабря, 10:00"},
    "feedback.ask": {"day": "мастер X, суббота, 5 декабря?"},
    "admin.agenda.empty": {"day": "<b>суббота, 5 декабря</b>: записей нет"},
    "admin.agenda.title": {"day": "<b>суббота, 5 декабря</b>: записей"},
    "admin.booking.card": {"day": "\nсуббота, 5 декабря, 10:00–"},
    "admin.dayoff.bookings": {"day": "суббота, 5 декабря — выходной"},
    "admin.dayoff.cancelled": {"day": "суббота, 5 декабря: отменено"},
    "admin.dayoff.done": {"day": "суббота, 5 декабря — выходной."},
    "admin.dayoff.kept": {"day": "суббота, 5 декабря: записи остаются"},
    "admin.dayon.done": {"day": "суббота, 5 декабря: день снова открыт"},
    "admin.hours_on.done": {"day": "суббота, 5 декабря: особые часы"},
    "admin.outside.none": {"day": "суббота, 5 декабря: предстоящих"},
    "notice.cancelled": {"day": "</b>, суббота, 5 декабря в 10:00."},
    "specialist.agenda.empty": {"day": "суббота, 5 декабря: у вас нет записей"},
    "specialist.agenda.title": {"day": "<b>суббота, 5 декабря</b>: ваши записи"},
    "specialist.week.day": {"day": "<b>суббота, 5 декабря</b>"},
    # After a preposition: its case, and the preposition's form before that weekday.
    "book.no_times": {"day": "Свободного времени на субботу, 5 декабря не осталось"},
    "admin.book.no_outside": {"day": "рабочих часов на субботу, 5 декабря не осталось"},
    "admin.book.outside_times": {"day": "суббота, 5 декабря\n"},
    "move.header": {"day": "Перенос записи <b>X</b> с субботы, 5 декабря, 10:00"},
    "my.cancel_ask": {"day": "Отменить запись <b>X</b> на субботу, 5 декабря, 10:00?"},
    "my.cancelled": {"day": "Запись <b>X</b> на субботу, 5 декабря, 10:00 отменена"},
    "notice.day_off": {"day": "К сожалению, в субботу, 5 декабря X не работает"},
    "admin.client.booking_blocked": {"day": "запись закрыта с субботы, 5 декабря"},
    "wait.ask": {"day": "Свободного времени на субботу, 5 декабря не осталось"},
    "wait.joined": {"day": "Вы в листе ожидания на субботу, 5 декабря ("},
    "wait.already": {"day": "Вы уже в листе ожидания на субботу, 5 декабря."},
    "admin.wait.title": {"day": "<b>Лист ожидания на субботу, 5 декабря</b>"},
    "wait.offer": {"day": "</b> (X), суббота, 5 декабря в 10:00."},
    "wait.my_item": {"day": "1. X, суббота, 5 декабря (X)"},
    "notice.declined": {"day": "</b>, суббота, 5 декабря в 10:00."},
    "notice.not_approved_in_time": {"day": "</b>, суббота, 5 декабря в 10:00."},
    "admin.week.empty": {
        "first": "Записей нет с субботы, 5 декабря",
        "last": "по субботу, 5 декабря.",
    },
}

# Texts whose date-named placeholder gets no weekday date (so no case): why, for each.
NOT_A_WEEKDAY_DATE = {
    "admin.stats.text",  # ISO dates, as typed in /stats
    "admin.stats.chart_caption",  # ISO dates, as typed in /stats
    "admin.export.caption",  # ISO dates, as typed in /export
    "admin.scope.weekday",  # "2 декабря — 6 января": no weekday name
    "admin.hours.set",  # {day} is a weekday code (mon) of /hours_set
    "admin.scope.span",  # "2 декабря 2026 — 6 января 2027": no weekday name
    "admin.timeoff.backwards",  # the dates as typed (2026-12-31..2026-12-01)
    "admin.timeoff.too_long",  # the dates as typed
    "admin.note.line",  # a short date heading a note's line ("ср, 2 дек."): nominative
}


def fields(text: str) -> dict[str, str]:
    """Placeholder name -> its format spec (the date role)."""
    return {name: spec or "" for _, name, spec, _ in string.Formatter().parse(text) if name}


def render(language: str, key: str) -> str:
    template = load_catalog(language)[key]
    values: dict[str, object] = dict.fromkeys(fields(template), "X")
    values.update(n=1, time="10:00", end="11:00")
    values.update({name: SATURDAY for name in fields(template) if name in DATE_FIELDS})
    return TR(language)(key, **values)


def dated_keys() -> set[str]:
    return {
        key
        for key, text in load_catalog("ru").items()
        if DATE_FIELDS & set(fields(text)) and key not in NOT_A_WEEKDAY_DATE
    }


def test_every_text_with_a_date_is_listed_with_its_form() -> None:
    assert sorted(dated_keys() - set(EXPECTED_RU)) == [], "add each new text's expected form"
    assert sorted(set(EXPECTED_RU) - dated_keys()) == []


@pytest.mark.parametrize("key", sorted(EXPECTED_RU))
def test_a_saturday_takes_the_form_its_russian_sentence_needs(key: str) -> None:
    shown = render("ru", key)
    for form in EXPECTED_RU[key].values():
        assert form in shown, shown


@pytest.mark.parametrize("key", sorted(EXPECTED_RU))
def test_english_dates_read_as_before(key: str) -> None:
    assert "Saturday, 5 December" in render("en", key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_role_a_text_names_exists(language: str) -> None:
    roles = {r.value for r in DateRole}
    for key, text in load_catalog(language).items():
        for name, spec in fields(text).items():
            if spec:
                assert name in DATE_FIELDS and spec in roles, (key, name, spec)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_role_has_seven_weekdays(language: str) -> None:
    catalog = load_catalog(language)
    for role in DateRole:
        if role.value:
            assert len(catalog[WEEKDAYS_KEY.format(role=role.value)].split("|")) == 7


@pytest.mark.parametrize(
    ("day", "role", "shown"),
    [
        # The preposition changes its own form before some weekdays.
        (date(2026, 12, 1), DateRole.FROM, "со вторника, 1 декабря"),
        (date(2026, 12, 2), DateRole.FROM, "со среды, 2 декабря"),
        (date(2026, 12, 6), DateRole.FROM, "с воскресенья, 6 декабря"),
        (date(2026, 12, 1), DateRole.ON, "во вторник, 1 декабря"),
        (date(2026, 12, 2), DateRole.ON, "в среду, 2 декабря"),
        (date(2026, 12, 4), DateRole.FOR, "на пятницу, 4 декабря"),
        (date(2026, 12, 7), DateRole.THROUGH, "по понедельник, 7 декабря"),
        (date(2026, 12, 2), DateRole.NAMED, "среда, 2 декабря"),
    ],
)
def test_a_date_in_each_role(day: date, role: DateRole, shown: str) -> None:
    assert TR("ru").day(day, role) == shown


def test_a_move_from_a_wednesday_reads_right() -> None:
    t = TR("ru")
    text = t("move.header", service="Стрижка", day=date(2026, 12, 2), time="10:00")
    assert text == "Перенос записи <b>Стрижка</b> со среды, 2 декабря, 10:00"
    en = TR("en")("move.header", service="Haircut", day=date(2026, 12, 2), time="10:00")
    assert en == "Moving <b>Haircut</b> from Wednesday, 2 December, 10:00"


def test_a_role_given_text_instead_of_a_date_still_shows_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A bug in the code (a date already written out) never breaks the user's screen: logged.
    text = TR("ru")("move.header", service="X", day="среда", time="10:00")
    assert text == "Перенос записи <b>X</b> среда, 10:00"
    assert "not a date" in caplog.text

"""The main menu, help, language, contacts and the price list."""

from __future__ import annotations

from collections.abc import Sequence

from domain.catalog import Service
from domain.rules import Business
from handlers.callback_data import Destination, LanguageCb, Nav
from handlers.views.base import Screen, button, fixed_keyboard, keyboard
from utils.formatting import esc, money
from utils.i18n import Translator

# The packed data of the fixed buttons, once (packing validates a pydantic model).
_NAV = {to: Nav(to=to).pack() for to in Destination}
_LANGUAGES = (("Русский", LanguageCb(code="ru").pack()), ("English", LanguageCb(code="en").pack()))


def main_menu(t: Translator, business: Business, first_name: str) -> Screen:
    return Screen(
        t("menu.greeting", name=esc(first_name), business=esc(business.name)),
        fixed_keyboard(
            ((t("menu.book"), _NAV[Destination.BOOK]), (t("menu.my"), _NAV[Destination.MY])),
            (
                (t("menu.services"), _NAV[Destination.SERVICES]),
                (t("menu.contacts"), _NAV[Destination.CONTACTS]),
            ),
            ((t("menu.language"), _NAV[Destination.LANGUAGE]),),
        ),
    )


def help_screen(t: Translator) -> Screen:
    return Screen(t("help.text"), fixed_keyboard(((t("nav.home"), _NAV[Destination.HOME]),)))


def language_screen(t: Translator) -> Screen:
    return Screen(
        t("lang.choose"),
        fixed_keyboard(_LANGUAGES, ((t("nav.back"), _NAV[Destination.HOME]),)),
    )


def contacts_screen(t: Translator, business: Business) -> Screen:
    lines = [f"<b>{esc(business.name)}</b>"]
    if business.address:
        lines.append(t("contacts.address", address=esc(business.address)))
    if business.phone:
        lines.append(t("contacts.phone", phone=esc(business.phone)))
    if len(lines) == 1:
        lines.append(t("contacts.none"))
    return Screen("\n".join(lines), keyboard([button(t("nav.back"), Nav(to=Destination.HOME))]))


def contacts_line(t: Translator, business: Business) -> str:
    parts = [p for p in (business.phone, business.address) if p]
    return esc(", ".join(parts)) if parts else t("contacts.none")


def price_list(t: Translator, business: Business, services: Sequence[Service]) -> Screen:
    if not services:
        return Screen(
            t("book.no_services"), keyboard([button(t("nav.back"), Nav(to=Destination.HOME))])
        )
    lines = [t("services.title"), ""]
    for s in services:
        lines.append(
            t(
                "services.item",
                name=esc(s.name),
                duration=s.duration_minutes,
                price=money(s.price, business.currency, t.language),
            )
        )
        if s.description:
            lines.append(f"<i>{esc(s.description)}</i>")
    return Screen(
        "\n".join(lines),
        keyboard(
            [
                button(t("menu.book"), Nav(to=Destination.BOOK)),
                button(t("nav.back"), Nav(to=Destination.HOME)),
            ]
        ),
    )

"""The main menu, help, language, contacts and the price list."""

from __future__ import annotations

from collections.abc import Sequence

from domain.catalog import Service
from domain.rules import Business
from handlers.callback_data import Destination, LanguageCb, Nav
from handlers.views.base import Screen, button, keyboard
from utils.formatting import esc, money
from utils.i18n import Translator


def main_menu(t: Translator, business: Business, first_name: str) -> Screen:
    return Screen(
        t("menu.greeting", name=esc(first_name), business=esc(business.name)),
        keyboard(
            [
                button(t("menu.book"), Nav(to=Destination.BOOK)),
                button(t("menu.my"), Nav(to=Destination.MY)),
            ],
            [
                button(t("menu.services"), Nav(to=Destination.SERVICES)),
                button(t("menu.contacts"), Nav(to=Destination.CONTACTS)),
            ],
            [button(t("menu.language"), Nav(to=Destination.LANGUAGE))],
        ),
    )


def help_screen(t: Translator) -> Screen:
    return Screen(t("help.text"), keyboard([button(t("nav.home"), Nav(to=Destination.HOME))]))


def language_screen(t: Translator) -> Screen:
    return Screen(
        t("lang.choose"),
        keyboard(
            [
                button("Русский", LanguageCb(code="ru")),
                button("English", LanguageCb(code="en")),
            ],
            [button(t("nav.back"), Nav(to=Destination.HOME))],
        ),
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

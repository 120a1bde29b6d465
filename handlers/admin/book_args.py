"""Whom /book is for: ``@username``, a Telegram id, a phone, or ``NAME, PHONE`` for a client the
business does not know yet (who may have no Telegram at all). Pure: None means "malformed", and
the usage line is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.clients import NameProblem, clean_name
from domain.phones import clean_phone

_USERNAME = re.compile(r"@[A-Za-z0-9_]{1,32}")
_TELEGRAM_ID = re.compile(r"[0-9]{1,15}")


@dataclass(frozen=True)
class Known:
    """An existing client by ``@username`` or Telegram id (what ClientService.find reads)."""

    query: str


@dataclass(frozen=True)
class ByPhone:
    phone: str


@dataclass(frozen=True)
class NewClient:
    """Added unless a client with that phone exists."""

    name: str
    phone: str


ClientArg = Known | ByPhone | NewClient


def parse_client(args: str | None) -> ClientArg | None:
    """Digits alone are a Telegram id; a phone has a leading + or separators (+7 999 123-45-67)."""
    text = " ".join((args or "").split())
    if not text:
        return None
    if "," in text:
        head, _, tail = text.rpartition(",")
        name, phone = clean_name(head), clean_phone(tail)
        if isinstance(name, NameProblem) or name.startswith(("/", "@")) or phone is None:
            return None
        return NewClient(name, phone)
    if _USERNAME.fullmatch(text) or (_TELEGRAM_ID.fullmatch(text) and int(text) > 0):
        return Known(text)
    phone = clean_phone(text)
    return ByPhone(phone) if phone is not None else None

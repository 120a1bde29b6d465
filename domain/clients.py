"""Clients: who they are (from Telegram), how they want to be addressed, their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class Client:
    id: int  # the Telegram user id
    username: str | None
    first_name: str
    name: str | None
    phone: str | None
    language: str | None
    is_reachable: bool
    blocked_at: datetime | None = None  # /block: the client may not book (staff still may)
    block_reason: str | None = None

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None


@dataclass(frozen=True)
class Standing:
    """What decides how a client's new booking is treated (``Rules.needs_approval``)."""

    blocked: bool
    visited: bool  # has a completed visit: not a new client
    recent_no_shows: int  # within ``Rules.no_show_window_days``


MAX_NOTE_LENGTH = 500


@dataclass(frozen=True)
class ClientNote:
    """What the staff wrote about a client (/note); shown to staff only."""

    id: int
    client_id: int
    author_id: int | None
    text: str
    created_at: datetime


class NameProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


def clean_name(text: str) -> str | NameProblem:
    """The name a client typed, tidied (printable characters, single spaces), or what is wrong."""
    name = " ".join("".join(ch for ch in text if ch.isprintable()).split())
    if not name:
        return NameProblem.EMPTY
    if len(name) > MAX_NAME_LENGTH:
        return NameProblem.TOO_LONG
    return name


class RegistrationStep(StrEnum):
    """What a client must still tell us before booking."""

    NAME = "name"
    PHONE = "phone"

"""Specialists' own chats: the one-time link that ties a Telegram account to a specialist, and
what opening one can come to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from domain.catalog import Specialist

LINK_VALID = timedelta(hours=24)
LINK_PREFIX = "sp-"  # /start sp-<code>: a specialist's link, not a client's deep link


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ALREADY_YOURS = "already_yours"  # the same person opened the link they used again
    USED = "used"  # by someone else
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # never issued, or replaced by a newer link


@dataclass(frozen=True)
class Redeemed:
    outcome: LinkOutcome
    specialist: Specialist | None = None


def code_hash(code: str) -> str:
    """Links are stored as hashes: the database never holds a working link."""
    return hashlib.sha256(code.encode()).hexdigest()

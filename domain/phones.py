"""Phone numbers as staff type them and as Telegram shares them: compared by their digits only,
so "+7 999 123-45-67", "79991234567" and "+7 (999) 1234567" are one number."""

from __future__ import annotations

import re

MIN_DIGITS, MAX_DIGITS = 7, 15  # a short local number .. E.164's longest
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-.]*")


def phone_digits(text: str) -> str:
    """The digits of a phone, in order (ASCII only: str.isdigit() takes '²' and '١' too)."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


def clean_phone(text: str) -> str | None:
    """A phone as typed (digits, spaces, brackets, dashes, dots, an optional leading +) and
    trimmed; None when it is not one."""
    text = " ".join(text.split())
    if not _PHONE.fullmatch(text):
        return None
    return text if MIN_DIGITS <= len(phone_digits(text)) <= MAX_DIGITS else None

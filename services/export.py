"""Bookings as a CSV file for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from pytz.tzinfo import BaseTzInfo

from domain.bookings import BookingDetails
from services.stats import StatsService
from utils.timeutil import to_local

COLUMNS = (
    "id",
    "date",
    "time",
    "duration_minutes",
    "service",
    "specialist",
    "client_id",
    "client",
    "username",
    "phone",
    "price",
    "status",
    "cancelled_by",
    "cancel_reason",
    "rescheduled_from",
    "confirmed",
)


def _cell(value: str) -> str:
    """Text typed by people (names, reasons) must not run as a formula in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def bookings_csv(rows: Sequence[BookingDetails], tz: BaseTzInfo, delimiter: str = ",") -> bytes:
    """UTF-8 with a BOM: without it Excel reads the file as ANSI and garbles Cyrillic."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(COLUMNS)
    for d in rows:
        b = d.booking
        start = to_local(tz, b.start)
        writer.writerow(
            [
                b.id,
                start.date().isoformat(),
                start.strftime("%H:%M"),
                b.duration_minutes,
                _cell(d.service_name),
                _cell(d.specialist_name),
                b.client_id,
                _cell(d.client_name),
                d.client_username or "",
                _cell(d.client_phone or ""),
                b.price,
                b.status.value,
                b.cancelled_by_role.value if b.cancelled_by_role else "",
                _cell(b.cancel_reason or ""),
                b.rescheduled_from or "",
                "yes" if b.confirmed_at else "no",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


class ExportService:
    def __init__(self, stats: StatsService, tz: BaseTzInfo, *, delimiter: str = ",") -> None:
        self.stats = stats
        self.tz = tz
        self.delimiter = delimiter

    async def csv(self, first: date, last: date) -> tuple[bytes, int]:
        """The CSV of every booking starting on the local days first..last, and how many."""
        rows = await self.stats.bookings(first, last)
        return bookings_csv(rows, self.tz, self.delimiter), len(rows)

"""The staff's reports as text: a client's card (/client) and the numbers of /stats. Pure, like
the other views."""

from __future__ import annotations

from collections.abc import Sequence

from babel.numbers import format_decimal, format_percent

from domain.bookings import BookingDetails
from domain.clients import Client, ClientNote
from domain.rules import Business
from handlers.admin.views import booking_line, phone_text
from services.stats import ClientSummary, Stats
from utils.formatting import day_short, esc, hhmm, money
from utils.hours import WEEKDAYS
from utils.i18n import Translator


def client_text(
    t: Translator,
    business: Business,
    client: Client,
    summary: ClientSummary,
    history: Sequence[BookingDetails],
    notes: Sequence[ClientNote] = (),
) -> str:
    lines = [
        t(
            "admin.client.card",
            name=esc(client.name or client.first_name) or "—",
            username=f"@{esc(client.username)}" if client.username else "",
            id=client.id,
            phone=phone_text(t, client.phone),
            language=client.language or "—",
            bookings=summary.bookings,
            upcoming=summary.upcoming,
            completed=summary.completed,
            no_shows=summary.no_shows,
            by_client=summary.cancelled_by_client,
            by_admin=summary.cancelled_by_admin,
        )
    ]
    lines.append(ratings_line(t, summary.ratings, summary.rating_average))
    if not client.is_reachable:
        lines.append(t("admin.client.blocked"))
    if client.blocked_at is not None:
        since = business.local(client.blocked_at).date()
        lines.append(t("admin.client.booking_blocked", day=since))
        if client.block_reason:
            lines.append(t("admin.block.reason", reason=esc(client.block_reason)))
    if notes:
        lines += ["", t("admin.client.notes")]
        lines += [note_line(t, business, note) for note in notes]
    if history:
        lines += ["", t("admin.client.recent")]
        lines += [booking_line(t, business, d, with_day=True) for d in history[:10]]
    return "\n".join(lines)


def note_line(t: Translator, business: Business, note: ClientNote) -> str:
    written = business.local(note.created_at)
    return t(
        "admin.note.line",
        day=day_short(written.date(), t.language),
        time=hhmm(written),
        author=note.author_id or "—",
        text=esc(note.text),
    )


def ratings_line(t: Translator, count: int, average: float | None) -> str:
    if average is None:
        return t("admin.ratings.none")
    return t("admin.ratings.line", count=count, average=f"{average:.1f}")


def stats_text(t: Translator, business: Business, stats: Stats) -> str:
    def top(items: Sequence[tuple[str, int]]) -> str:
        return ", ".join(f"{esc(name)} ({count})" for name, count in items) or "—"

    text = t(
        "admin.stats.text",
        first=stats.first.isoformat(),
        last=stats.last.isoformat(),
        bookings=stats.bookings,
        active=stats.active,
        completed=stats.completed,
        no_shows=stats.no_shows,
        by_client=stats.cancelled_by_client,
        by_admin=stats.cancelled_by_admin,
        revenue=money(stats.revenue, business.currency, t.language),
        services=top(stats.services),
        weekdays=top([(WEEKDAYS[d], n) for d, n in stats.weekdays]),
        hours=top([(f"{h:02d}:00", n) for h, n in stats.hours]),
    )
    ratings = ratings_line(t, stats.ratings, stats.rating_average)
    return "\n".join([text, fill_line(t, stats), ratings])


def fill_line(t: Translator, stats: Stats) -> str:
    """Booked / working hours over the range: the heatmap's numbers summed."""
    fill = stats.fill
    if fill is None:
        return t("admin.stats.no_hours")
    booked = sum(map(sum, stats.load.booked)) / 60
    working = sum(map(sum, stats.load.working)) / 60
    return t(
        "admin.stats.fill",
        percent=format_percent(fill, locale=t.language),
        booked=format_decimal(round(booked, 1), locale=t.language),
        working=format_decimal(round(working, 1), locale=t.language),
    )

"""/stats's chart: bookings and revenue per day and how full the schedule was per weekday and
hour, computed once (services/stats.report) and shown twice, as the text and as a PNG.

Pixels are not compared: the numbers the renderer is given are, against the text's, and the PNG
is checked to be one of the promised size. Hours: DEFAULT_HOURS (mon-fri 10-14, 15-19)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from domain.rules import Business, Rules
from handlers.admin import report_views
from handlers.admin.chart import HEIGHT, WIDTH, ChartData, chart_data, render_png
from services.booking import ClientBookingService
from services.stats import Stats, StatsService
from tests.conftest import AddService, at
from tests.test_admin_flow import GROUP, Chat, booked, group, world  # noqa: F401 - fixtures
from tests.test_flow_client import (  # noqa: F401 - fixtures used by name
    BOB,
    World,
    ann,
    make_world,
    no_handler_errors,
    text_of,
)
from utils.i18n import Translations

WED, THU = date(2026, 12, 2), date(2026, 12, 3)
TR = Translations()
PNG = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG) and content[12:16] == b"IHDR", "not a PNG"
    return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")


def number_after(label: str, text: str) -> int:
    found = re.search(re.escape(label) + r"\s*([\d\xa0 ]+)", text)
    assert found is not None, (label, text)
    return int(re.sub(r"\D", "", found.group(1)))


@pytest.fixture
def business(rules: Rules) -> Business:
    return Business(name="Studio", address="", phone="", currency="₽", rules=rules)


async def two_days(
    db: Database, booking: ClientBookingService, add_service: AddService, tz: BaseTzInfo
) -> Stats:
    """Wed: Haircut 10:00-11:00, Nails 11:30-12:00. Thu: Haircut 12:30-13:30, and one at 10:00
    the client cancelled."""
    cut = await add_service("Haircut", 60, 1500)
    nails = await add_service("Nails", 30, 800)
    for client, (day, hhmm, service) in enumerate(
        [(WED, "10:00", cut), (WED, "11:30", nails), (THU, "12:30", cut), (THU, "10:00", cut)],
        start=1,
    ):
        made = await booking.book(client, service.id, at(tz, day, hhmm))
        assert made.booking is not None, made.outcome
        last = made.booking.id
    cancelled = await booking.cancel(last, 4)
    assert cancelled.ok
    return await StatsService(db, tz).stats(WED, THU)


async def test_the_days_and_the_schedules_load_come_from_the_same_bookings_as_the_totals(
    db: Database,
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
) -> None:
    stats = await two_days(db, booking, add_service, tz)

    assert (stats.bookings, stats.revenue) == (4, 3800)
    assert [(d.day, d.bookings, d.revenue) for d in stats.daily] == [
        (WED, 2, 2300),
        (THU, 2, 1500),  # the cancelled one is a booking, earning nothing
    ]
    assert sum(d.bookings for d in stats.daily) == stats.bookings
    assert sum(d.revenue for d in stats.daily) == stats.revenue
    load = stats.load
    # Wednesday and Thursday worked 10-14 and 15-19; nobody worked at 14 or on other days.
    for weekday in (2, 3):
        assert [load.working[weekday][h] for h in range(9, 20)] == [
            0, 60, 60, 60, 60, 0, 60, 60, 60, 60, 0,
        ]  # fmt: skip
    assert sum(map(sum, load.working)) == 2 * 8 * 60
    assert load.booked[2][10] == 60 and load.booked[2][11] == 30
    assert load.booked[3][12] == 30 and load.booked[3][13] == 30  # 12:30-13:30 spans two hours
    assert load.booked[3][10] == 0  # cancelled: the time was free again
    assert load.fill(2, 10) == 1.0 and load.fill(2, 11) == 0.5
    assert load.fill(2, 14) is None and load.fill(0, 10) is None
    assert stats.fill == 150 / 960


async def test_the_chart_draws_the_texts_numbers(
    db: Database,
    booking: ClientBookingService,
    add_service: AddService,
    tz: BaseTzInfo,
    business: Business,
) -> None:
    stats = await two_days(db, booking, add_service, tz)
    t = TR("ru")
    text = report_views.stats_text(t, business, stats)
    data = chart_data(t, business, stats)
    assert data is not None

    assert sum(data.bookings) == number_after("Записей:", text) == 4
    assert sum(data.revenue) == number_after("Выручка (по ценам записи):", text) == 3800
    assert data.days == ("2 дек.", "3 дек.")
    assert data.weekdays[2] == "Ср"
    assert data.hours == tuple(range(10, 19))  # the hours anyone worked or was booked
    wednesday = dict(zip(data.hours, data.fill[2], strict=True))
    assert (wednesday[10], wednesday[11], wednesday[12], wednesday[14]) == (100.0, 50.0, 0.0, None)
    # The text's load is the heatmap's minutes summed: 2.5 h booked of 16 h worked.
    assert "Занятость расписания: 16\xa0% (занято 2,5 ч из 16 ч работы)" in text

    width, height = png_size(render_png(data))
    assert (width, height) == (WIDTH, HEIGHT) == (1000, 800)


async def test_english_labels_and_a_range_without_bookings(
    db: Database, add_service: AddService, tz: BaseTzInfo, business: Business
) -> None:
    await add_service("Haircut", 60, 1500)
    stats = await StatsService(db, tz).stats(WED, THU)
    t = TR("en")
    assert [(d.bookings, d.revenue) for d in stats.daily] == [(0, 0), (0, 0)]
    assert chart_data(t, business, stats) is None  # nothing to draw
    text = report_views.stats_text(t, business, stats)
    assert "Schedule filled: 0% (0 h booked of 16 h worked)" in text


def test_days_without_working_hours_say_so(business: Business) -> None:
    empty = Stats(WED, WED, 0, 0, 0, 0, 0, 0, 0, [], [], [])
    assert "no working hours on these days" in report_views.stats_text(TR("en"), business, empty)


# ------------------------------------------------------------------ in the admin chat


def photos(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in sent if "photo" in m]


async def test_stats_in_the_admin_chat_sends_the_numbers_then_their_chart(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await booked(world, ann("ru"), "10:00")
    await booked(world, BOB, "12:00")
    drawn: list[ChartData] = []

    def spy(data: ChartData) -> bytes:
        drawn.append(data)
        return render_png(data)

    monkeypatch.setattr("handlers.admin.reports.render_png", spy)

    answer, chart = await group.send("/stats 2026-12-01 2026-12-31")

    text = text_of(answer)
    assert number_after("Записей:", text) == 2
    (photo,) = chart["photo"]
    assert (photo["width"], photo["height"]) == (1000, 800)
    upload = world.flow.emulator.file(photo["file_id"])
    assert png_size(upload.content) == (1000, 800)
    assert upload.filename == "stats_2026-12-01_2026-12-31.png"
    assert chart["caption"] == TR("ru")(
        "admin.stats.chart_caption", first="2026-12-01", last="2026-12-31"
    )
    # What was drawn is what the text says.
    (data,) = drawn
    assert len(data.days) == 31
    assert sum(data.bookings) == 2
    assert sum(data.revenue) == number_after("Выручка (по ценам записи):", text) == 3000
    assert [m["chat"]["id"] for m in (answer, chart)] == [GROUP, GROUP]


async def test_stats_of_days_without_bookings_says_there_is_nothing_to_chart(
    world: World,  # noqa: F811 - the fixture
    group: Chat,  # noqa: F811 - the fixture
) -> None:
    await booked(world, ann("ru"), "10:00")  # on 2 December, outside the range asked for
    sent = await group.send("/stats 2027-01-01 2027-01-31")
    assert photos(sent) == []
    (answer,) = sent
    text = text_of(answer)
    assert "Записей: 0 (предстоит 0, состоялось 0)" in text
    assert "Занятость расписания: 0\xa0%" in text  # the hours were there, nobody booked them
    assert text.endswith(TR("ru")("admin.stats.no_chart"))
    assert not [c for c in world.flow.calls if c.method == "sendPhoto"]

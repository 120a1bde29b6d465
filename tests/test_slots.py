"""The slot engine on its own: pure functions, real pytz zones, DST days of 2026."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import pytz

from domain.bookings import BusyInterval
from domain.rules import Rules
from domain.schedule import ScheduleException
from services.slots import (
    BusyIndex,
    SessionIndex,
    SlotQuery,
    SpecialistSchedule,
    available_days,
    free_starts,
    hours_for_day,
)
from utils.hours import WeeklyHours, parse_weekly
from utils.timeutil import day_bounds_utc, get_tz, to_local, to_ts

RULES = Rules(pytz.utc, step_minutes=30, min_lead_minutes=0, horizon_days=400)
NIGHT_AND_DAY = parse_weekly("mon-sun 00:00-06:00,10:00-12:00")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def starts(
    zone: str,
    day: date,
    weekly: str | WeeklyHours = NIGHT_AND_DAY,
    duration: int = 30,
    busy: list[BusyInterval] | None = None,
    now: datetime | None = None,
    rules: Rules = RULES,
    exceptions: list[ScheduleException] | None = None,
) -> list[datetime]:
    tz = get_tz(zone)
    hours = parse_weekly(weekly) if isinstance(weekly, str) else weekly
    query = SlotQuery(replace(rules, tz=tz), duration, 0, now or utc("2026-01-01T00:00"))
    schedule = SpecialistSchedule(1, hours, BusyIndex(busy or []))
    return list(free_starts(day, [schedule], exceptions or [], query))


def local_labels(zone: str, moments: list[datetime]) -> list[str]:
    return [to_local(get_tz(zone), m).strftime("%H:%M") for m in moments]


def test_normal_day_in_moscow() -> None:
    day = date(2026, 12, 2)
    found = starts("Europe/Moscow", day, "mon-fri 10:00-14:00,15:00-19:00", duration=60)
    labels = local_labels("Europe/Moscow", found)
    assert labels == [
        "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00",
        "15:00", "15:30", "16:00", "16:30", "17:00", "17:30", "18:00",
    ]  # fmt: skip
    assert found[0] == utc("2026-12-02T07:00")  # Moscow has no DST: always UTC+3
    assert found[-1] == utc("2026-12-02T15:00")


@pytest.mark.parametrize(
    ("zone", "day", "gap"),
    [
        ("Europe/Berlin", date(2026, 3, 29), ["02:00", "02:30"]),
        ("America/New_York", date(2026, 3, 8), ["02:00", "02:30"]),
    ],
)
def test_spring_forward_never_offers_a_time_that_does_not_exist(
    zone: str, day: date, gap: list[str]
) -> None:
    found = starts(zone, day)
    labels = local_labels(zone, found)
    for missing in gap:
        assert missing not in labels
    assert labels[:6] == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]
    # Right around the jump, consecutive offered starts are 30 real minutes apart.
    assert found[4] - found[3] == timedelta(minutes=30)
    assert len(labels) == len(set(labels))


def test_berlin_spring_forward_offsets() -> None:
    day = date(2026, 3, 29)
    offered = starts("Europe/Berlin", day)
    found = dict(zip(local_labels("Europe/Berlin", offered), offered, strict=True))
    assert found["01:30"] == utc("2026-03-29T00:30")  # CET, UTC+1
    assert found["03:00"] == utc("2026-03-29T01:00")  # CEST, UTC+2
    assert found["10:00"] == utc("2026-03-29T08:00")
    # The day before, the same wall time is an hour later in UTC.
    before = starts("Europe/Berlin", date(2026, 3, 28))
    assert before[local_labels("Europe/Berlin", before).index("10:00")] == utc("2026-03-28T09:00")
    start, end = day_bounds_utc(get_tz("Europe/Berlin"), day)
    assert end - start == timedelta(hours=23)


def test_a_service_spanning_the_gap_takes_real_minutes() -> None:
    # 60 minutes from 01:30 CET end at 03:30 CEST; the 00:00-06:00 interval still fits them.
    zone, day = "Europe/Berlin", date(2026, 3, 29)
    found = starts(zone, day, "sun 00:00-03:30", duration=60)
    # 01:30 + 60 real minutes = 03:30 local: the last start that fits before closing.
    assert local_labels(zone, found) == ["00:00", "00:30", "01:00", "01:30"]


@pytest.mark.parametrize(
    ("zone", "day", "first_pass_utc"),
    [
        ("Europe/Berlin", date(2026, 10, 25), {"02:00": "00:00", "02:30": "00:30"}),
        ("America/New_York", date(2026, 11, 1), {"01:00": "05:00", "01:30": "05:30"}),
    ],
)
def test_fall_back_offers_the_repeated_hour_once_as_its_first_occurrence(
    zone: str, day: date, first_pass_utc: dict[str, str]
) -> None:
    found = starts(zone, day)
    labels = local_labels(zone, found)
    assert len(labels) == len(set(labels)), "a wall time offered twice"
    by_label = dict(zip(labels, found, strict=True))
    for label, hhmm in first_pass_utc.items():
        assert by_label[label] == utc(f"{day.isoformat()}T{hhmm}")
    start, end = day_bounds_utc(get_tz(zone), day)
    assert end - start == timedelta(hours=25)


def test_fall_back_day_working_hours_in_new_york() -> None:
    day = date(2026, 11, 1)
    found = starts("America/New_York", day, "sun 10:00-12:00", duration=60)
    assert found[0] == utc("2026-11-01T15:00")  # 10:00 EST, UTC-5 after the change
    assert starts("America/New_York", date(2026, 10, 31), "sat 10:00-12:00")[0] == utc(
        "2026-10-31T14:00"
    )  # 10:00 EDT the day before


def test_busy_intervals_and_lead_time() -> None:
    zone, day = "Europe/Moscow", date(2026, 12, 2)
    hours = "wed 10:00-13:00"
    # 11:00-12:15 local is taken (a 60-minute booking plus a 15-minute buffer).
    busy = [BusyInterval(1, to_ts(utc("2026-12-02T08:00")), to_ts(utc("2026-12-02T09:15")), 7)]
    # 10:00-11:00 ends exactly when the booking starts; every later hour overlaps it.
    assert local_labels(zone, starts(zone, day, hours, duration=60, busy=busy)) == ["10:00"]
    now = utc("2026-12-02T06:40")  # 09:40 local; 60 minutes of notice -> 10:40 at the earliest
    rules = Rules(pytz.utc, step_minutes=30, min_lead_minutes=60, horizon_days=30)
    later = starts(zone, day, hours, duration=30, now=now, rules=rules, busy=busy)
    assert local_labels(zone, later) == ["12:30"]


def test_a_start_a_fraction_of_a_second_too_soon_is_not_offered() -> None:
    """The list and the check at Confirm agree to the microsecond: a start the check would
    refuse as too soon (by half a second) is not offered."""
    zone, day = "Europe/Moscow", date(2026, 12, 2)
    rules = Rules(get_tz(zone), step_minutes=30, min_lead_minutes=60, horizon_days=30)
    now = utc("2026-12-02T06:00:00.5")  # 09:00:00.5 local: 10:00 is half a second too soon
    offered = starts(zone, day, "wed 10:00-12:00", now=now, rules=rules)
    assert local_labels(zone, offered) == ["10:30", "11:00", "11:30"]
    ten = utc("2026-12-02T07:00")
    assert ten < rules.earliest_start(now)  # what Confirm checks (services/placement.py)
    on_time = starts(zone, day, "wed 10:00-12:00", now=utc("2026-12-02T06:00"), rules=rules)
    assert local_labels(zone, on_time)[0] == "10:00"


def test_busy_index_edges() -> None:
    index = BusyIndex([BusyInterval(1, 100, 200, 1), BusyInterval(1, 300, 400, 2)])
    assert index.is_free(0, 100)  # touching the start is fine
    assert index.is_free(200, 300)  # exactly between two bookings
    assert not index.is_free(150, 160)
    assert not index.is_free(50, 101)
    assert not index.is_free(399, 500)
    assert index.is_free(400, 500)
    # Overlapping old rows (from an imported database) still block their whole span.
    messy = BusyIndex([BusyInterval(1, 0, 1000, 1), BusyInterval(1, 10, 20, 2)])
    assert not messy.is_free(500, 600)


def test_exceptions_close_or_replace_a_day() -> None:
    weekly = parse_weekly("mon-sun 10:00-18:00")
    day = date(2026, 12, 2)
    off = ScheduleException(1, None, day, None, "holiday")
    custom = ScheduleException(2, None, day, (12 * 60, 16 * 60), "short day")
    own = ScheduleException(3, 2, day, (9 * 60, 11 * 60), "")
    assert hours_for_day(day, 1, weekly, []) == [(600, 1080)]
    assert hours_for_day(day, 1, weekly, [off, custom]) == []
    assert hours_for_day(day, 1, weekly, [custom, own]) == [(720, 960)]
    assert hours_for_day(day, 2, weekly, [custom, own]) == [(540, 660)]
    assert hours_for_day(day + timedelta(days=1), 1, weekly, [off]) == [(600, 1080)]


def test_horizon_and_past_days() -> None:
    zone = "Europe/Moscow"
    now = utc("2026-12-01T05:00")  # 08:00 local on Tuesday 1 December
    rules = Rules(pytz.utc, step_minutes=60, min_lead_minutes=0, horizon_days=30)
    weekly = "mon-sun 10:00-12:00"
    assert starts(zone, date(2026, 11, 30), weekly, now=now, rules=rules) == []
    assert starts(zone, date(2026, 12, 31), weekly, now=now, rules=rules) != []
    assert starts(zone, date(2027, 1, 1), weekly, now=now, rules=rules) == []


def test_month_calendar_marks_only_days_with_a_free_start() -> None:
    tz = get_tz("Europe/Moscow")
    now = utc("2026-12-01T05:00")
    rules = Rules(pytz.utc, step_minutes=60, min_lead_minutes=0, horizon_days=30)
    weekly = parse_weekly("mon-fri 10:00-12:00")
    # Wednesday 2 December is fully booked: 10:00-12:00 local.
    full = BusyInterval(1, to_ts(utc("2026-12-02T07:00")), to_ts(utc("2026-12-02T09:00")), 1)
    schedule = SpecialistSchedule(1, weekly, BusyIndex([full]))
    query = SlotQuery(replace(rules, tz=tz), 60, 0, now)
    closed = ScheduleException(1, None, date(2026, 12, 3), None, "")
    days = available_days(2026, 12, [schedule], [closed], query)
    assert date(2026, 12, 1) in days
    assert date(2026, 12, 2) not in days  # full
    assert date(2026, 12, 3) not in days  # closed
    assert date(2026, 12, 5) not in days  # Saturday
    assert date(2026, 12, 4) in days
    assert max(days) == date(2026, 12, 31)
    # Two specialists: the day is open if either has time.
    other = SpecialistSchedule(2, weekly, BusyIndex([]))
    assert date(2026, 12, 2) in available_days(2026, 12, [schedule, other], [], query)


def test_free_besides_ignores_only_what_starts_there() -> None:
    index = BusyIndex([BusyInterval(1, 100, 200, 1), BusyInterval(1, 200, 300, 2)])
    assert not index.is_free(100, 200)
    assert index.is_free_besides(100, 200)  # only the interval starting at 100 was in the way
    assert not index.is_free_besides(100, 250)  # the one starting at 200 still is
    assert not index.is_free_besides(150, 160)  # inside an interval that began before
    messy = BusyIndex([BusyInterval(1, 0, 1000, 1), BusyInterval(1, 100, 200, 2)])
    assert not messy.is_free_besides(100, 200)  # old overlapping data: still busy


def test_a_session_index_takes_clients_until_full_and_nothing_overlapping() -> None:
    yoga, cut = 7, 8
    hour = 3600
    busy = [
        BusyInterval(1, 0, hour, 1, yoga),
        BusyInterval(1, 0, hour, 2, yoga),
        BusyInterval(1, 3 * hour, 4 * hour, 3, cut),
    ]
    three = SessionIndex(busy, yoga, 3)
    assert three.taken(0) == 2 and three.is_free(0, hour)  # one seat left
    assert not SessionIndex(busy, yoga, 2).is_free(0, hour)  # full
    assert not three.is_free(hour // 2, hour + hour // 2)  # another session inside it
    assert three.is_free(hour, 2 * hour)  # right after it
    assert not three.is_free(3 * hour, 4 * hour)  # another service's booking
    longer = three.is_free(0, 3 * hour + 1)  # joining with a longer stay reaching the haircut
    assert not longer
    # Seen by another service, the session is simply busy.
    assert not BusyIndex(busy).is_free(0, hour)

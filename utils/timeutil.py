"""Time helpers: the only place that turns local wall-clock times into instants and back.

Rules (see docs/ARCHITECTURE.md, "Time"):
- instants are timezone-aware UTC datetimes; they are stored as integer Unix seconds;
- local times are made with pytz ``localize()`` and ``normalize()``, never ``replace(tzinfo=)``;
- a local time inside a spring-forward gap does not exist and is never offered;
- an ambiguous local time (autumn fall-back) means its first occurrence (``is_dst=True``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytz
from pytz.tzinfo import BaseTzInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def get_tz(name: str) -> BaseTzInfo:
    return pytz.timezone(name)


def to_ts(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given where an instant is needed")
    return int(moment.timestamp())


def from_ts(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def localize_strict(tz: BaseTzInfo, naive: datetime) -> datetime | None:
    """The instant of a wall-clock time, or None when that time does not exist (DST gap).

    An ambiguous time resolves to its first occurrence (the earlier instant).
    """
    try:
        return tz.localize(naive, is_dst=None)
    except pytz.NonExistentTimeError:
        return None
    except pytz.AmbiguousTimeError:
        return tz.localize(naive, is_dst=True)


def localize_boundary(tz: BaseTzInfo, naive: datetime) -> datetime:
    """Like localize_strict, but a boundary inside a DST gap is the instant the clocks jump."""
    moment = localize_strict(tz, naive)
    if moment is not None:
        return moment
    # Walk back to the last wall minute before the gap (gaps last minutes to a few hours).
    minute = timedelta(minutes=1)
    probe = naive - minute
    while (before := localize_strict(tz, probe)) is None:
        probe -= minute
    return tz.normalize(before + minute)


def local_midnight(tz: BaseTzInfo, day: date) -> datetime:
    return localize_boundary(tz, datetime.combine(day, time(0, 0)))


@functools.lru_cache(maxsize=4096)
def day_bounds_utc(tz: BaseTzInfo, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day as UTC instants (23 or 25 hours on DST days).

    Cached: a zone's rules do not change while the process runs, and pytz is slow."""
    start = local_midnight(tz, day)
    end = local_midnight(tz, day + timedelta(days=1))
    return start.astimezone(UTC), end.astimezone(UTC)


def to_local(tz: BaseTzInfo, moment: datetime) -> datetime:
    # astimezone() runs the zone's fromutc(), which picks the offset of that instant: the
    # normalize() pytz needs after arithmetic on local times would change nothing here.
    return moment.astimezone(tz)


def local_today(tz: BaseTzInfo, now: datetime) -> date:
    return to_local(tz, now).date()

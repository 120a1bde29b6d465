"""The month calendar: which days a client can still pick, in well under the time it takes to
read a month of bookings.

What a specialist's month looks like to the slot engine (the latest free start of each day,
``slots.last_free_starts``) changes only when their bookings, hours or days off change, or the
business's days off. Triggers raise a version number for each of those changes in the same
transaction (``calendar_versions``; row 0 is the business). Each process keeps the months it
computed, stamped with the versions it read first; every read checks the stamps against the
database (one indexed query) and recomputes only the specialists whose stamp moved, from one
query for all of them. Reading the versions before the bookings means a change landing in
between can only make the next read recompute, never keep an old month under a new stamp.

The clock is applied on every read (``slots.open_days``): today's earliest start and the
bookable range never make a kept month wrong.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date

from pytz.tzinfo import BaseTzInfo

from database.engine import Conn
from database.repo import schedule
from services import placement
from services.slots import SlotQuery, last_free_starts, month_days, open_days

# specialist, zone, service length, buffer, step, year, month
Key = tuple[int, BaseTzInfo, int, int, int, int, int]
Stamp = tuple[int, int]  # the specialist's version, the business's


class MonthCache:
    """Months of each specialist, least recently used dropped beyond ``size``.

    Shared by the threads that run database reads, hence the lock; it guards dictionary
    operations only, never a query.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._months: OrderedDict[Key, tuple[Stamp, Mapping[date, int]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._months)

    def open_days(
        self, conn: Conn, specialist_ids: Sequence[int], year: int, month: int, q: SlotQuery
    ) -> set[date]:
        """``slots.available_days`` for the specialists, from kept months where still valid."""
        days = month_days(year, month)
        versions = schedule.calendar_versions(conn, specialist_ids)
        business = versions.get(schedule.BUSINESS, 0)
        shape = (q.tz, q.duration_minutes, q.buffer_minutes, q.rules.step_minutes, year, month)
        lasts: list[Mapping[date, int]] = []
        stale: dict[int, Stamp] = {}
        with self._lock:
            for sid in specialist_ids:
                stamp = (versions.get(sid, 0), business)
                kept = self._months.get((sid, *shape))
                if kept is not None and kept[0] == stamp:
                    self._months.move_to_end((sid, *shape))
                    lasts.append(kept[1])
                else:
                    stale[sid] = stamp
            self.hits += len(lasts)
            self.misses += len(stale)
        if stale:
            found, exceptions = placement.schedules(conn, q.rules, list(stale), days[0], days[-1])
            fresh = {s.specialist_id: last_free_starts(days, s, exceptions, q) for s in found}
            with self._lock:
                for sid, month_of in fresh.items():
                    self._months[(sid, *shape)] = (stale[sid], month_of)
                    self._months.move_to_end((sid, *shape))
                while len(self._months) > self.size:
                    self._months.popitem(last=False)
            lasts.extend(fresh.values())
        return open_days(days, lasts, q)

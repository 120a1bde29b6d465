"""Group sessions: a service with a capacity above 1 takes several clients at one start.

A session is one specialist, one service, one start; its seats are its active bookings. Whether
a start can take one more client is the slot engine's (``slots.SessionIndex``, the same answer
for the times listed and the booking placed); this module decides what follows from it: which
specialist's session a booking joins when the client lets us choose, and how many seats a time
shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.slots import Busy, SlotQuery, seats_taken


@dataclass(frozen=True)
class FreeTime:
    """A start that can be booked: who can take it, and (a group service) the seats left in
    the session a booking would join."""

    specialists: list[int]
    seats_left: int | None = None


def filling(start: datetime, free: Sequence[int], index: Mapping[int, Busy]) -> list[int]:
    """Among the free specialists, those whose session at ``start`` is the fullest one that
    already has people (sessions fill before new ones open); all of them when none has."""
    taken = {sid: seats_taken(start, index[sid]) or 0 for sid in free}
    most = max(taken.values(), default=0)
    if most == 0:
        return list(free)
    return [sid for sid in free if taken[sid] == most]


def seats_left(
    start: datetime, free: Sequence[int], index: Mapping[int, Busy], q: SlotQuery
) -> int | None:
    """The seats left in the session a booking at ``start`` would join (the fullest that has
    people, as ``filling`` picks); None for a one-client service."""
    if not q.is_group or not free:
        return None
    joined = filling(start, free, index)[0]
    return q.capacity - (seats_taken(start, index[joined]) or 0)


def free_times(
    found: Mapping[datetime, list[int]], index: Mapping[int, Busy], q: SlotQuery
) -> dict[datetime, FreeTime]:
    """The engine's free starts with the seats each shows."""
    return {start: FreeTime(ids, seats_left(start, ids, index, q)) for start, ids in found.items()}

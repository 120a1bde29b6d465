"""Working time: weekly hours (utils.hours) and the dates that differ from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from utils.hours import Interval


@dataclass(frozen=True)
class ScheduleException:
    """A date's override. ``hours`` None means closed; otherwise one custom interval.

    ``specialist_id`` None means the whole business.
    """

    id: int
    specialist_id: int | None
    day: date
    hours: Interval | None
    reason: str

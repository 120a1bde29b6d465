"""What the business offers and who does it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    """One item of the catalog (a haircut, a consultation)."""

    id: int
    name: str
    description: str
    duration_minutes: int
    price: int
    buffer_minutes: int
    is_active: bool
    sort_order: int


@dataclass(frozen=True)
class Specialist:
    id: int
    name: str
    is_active: bool
    sort_order: int


@dataclass(frozen=True)
class SpecialistInfo:
    """A specialist with the ids of the services they offer."""

    specialist: Specialist
    service_ids: list[int]

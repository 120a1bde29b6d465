from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    """Asked once, before a client's first booking."""

    name = State()
    phone = State()

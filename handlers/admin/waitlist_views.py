"""A day's waitlist as the staff read it under the day's agenda: pure, like the other views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.waitlist import WaitDetails, WaitStatus
from handlers.views.waitlist import part_text
from utils.formatting import esc
from utils.i18n import Translator


def waiting_text(t: Translator, day: date, waiting: Sequence[WaitDetails]) -> str:
    lines = [t("admin.wait.title", day=day, count=len(waiting))]
    for n, w in enumerate(waiting, 1):
        line = t(
            "admin.wait.line",
            n=n,
            client=esc(w.client_name) or "—",
            service=esc(w.service_name),
            specialist=esc(w.specialist_name) if w.specialist_name else t("book.any_specialist"),
            part=part_text(t, w.entry.part),
        )
        if w.entry.status is WaitStatus.OFFERED:
            line += t("admin.wait.offered", id=w.entry.booking_id)
        lines.append(line)
    return "\n".join(lines)

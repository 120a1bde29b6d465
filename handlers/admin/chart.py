"""/stats's chart: bookings and revenue per day, and how full the schedule was per weekday and
hour, drawn from the same ``Stats`` as the text (services/stats.report).

``chart_data`` (pure) turns the numbers into what is drawn, in the admin chat's language;
``render_png`` draws it with matplotlib's Agg canvas and no pyplot (no global figure state, so it
can run on a worker thread: the handler calls it through ``asyncio.to_thread``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from babel.dates import format_date

from domain.rules import Business
from services.stats import HOURS, Stats
from utils.formatting import weekday_names
from utils.i18n import Translator

WIDTH, HEIGHT, DPI = 1000, 800, 100  # pixels of the PNG
MAX_DAY_LABELS = 12  # more days than this get a label every few days


@dataclass(frozen=True)
class ChartData:
    """What the chart draws: the renderer's whole input."""

    title: str
    days: tuple[str, ...]  # x labels, one per day of the range
    bookings: tuple[int, ...]  # per day, adding up to Stats.bookings
    revenue: tuple[int, ...]  # per day, adding up to Stats.revenue
    bookings_label: str
    revenue_label: str
    load_label: str
    weekdays: tuple[str, ...]  # heatmap rows, Monday first
    hours: tuple[int, ...]  # heatmap columns: the local hours anyone worked or was booked
    fill: tuple[tuple[float | None, ...], ...]  # [weekday][column]: percent; None: nobody worked


def chart_data(t: Translator, business: Business, stats: Stats) -> ChartData | None:
    """None when the range has no bookings: there is nothing to draw."""
    if stats.bookings == 0:
        return None
    load = stats.load
    used = [
        h for h in range(HOURS) if any(load.working[d][h] or load.booked[d][h] for d in range(7))
    ]
    hours = tuple(range(used[0], used[-1] + 1)) if used else tuple(range(HOURS))

    def percent(weekday: int, hour: int) -> float | None:
        fill = load.fill(weekday, hour)
        return None if fill is None else round(fill * 100, 1)

    return ChartData(
        title=t(
            "admin.stats.chart_caption",
            first=stats.first.isoformat(),
            last=stats.last.isoformat(),
        ),
        days=tuple(format_date(d.day, "d MMM", locale=t.language) for d in stats.daily),
        bookings=tuple(d.bookings for d in stats.daily),
        revenue=tuple(d.revenue for d in stats.daily),
        bookings_label=t("admin.chart.bookings"),
        revenue_label=t("admin.chart.revenue", currency=business.currency),
        load_label=t("admin.chart.load"),
        weekdays=tuple(weekday_names(t.language)),
        hours=hours,
        fill=tuple(tuple(percent(d, h) for h in hours) for d in range(7)),
    )


def render_png(data: ChartData) -> bytes:
    """A WIDTH x HEIGHT PNG: bookings (bars) and revenue (line) per day above, the heatmap below."""
    # Imported here: matplotlib takes a while to import, and only /stats needs it.
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    daily, heat = figure.subplots(2, 1, height_ratios=[1, 1.2])
    figure.suptitle(data.title)

    x = np.arange(len(data.days))
    daily.bar(x, data.bookings, color="#4c72b0", label=data.bookings_label)
    daily.set_ylabel(data.bookings_label)
    daily.yaxis.get_major_locator().set_params(integer=True)
    step = max(1, -(-len(data.days) // MAX_DAY_LABELS))
    daily.set_xticks(x[::step], data.days[::step])
    money = daily.twinx()
    money.plot(x, data.revenue, color="#dd8452", marker="o" if len(x) <= 62 else "")
    money.set_ylabel(data.revenue_label)
    money.set_ylim(bottom=0)

    grid = np.array([[np.nan if v is None else v for v in row] for row in data.fill], dtype=float)
    colours = colormaps["YlOrRd"].with_extremes(bad="#eeeeee")  # grey: nobody worked then
    heat.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=colours, vmin=0, vmax=100)
    heat.set_title(data.load_label)
    heat.set_yticks(range(7), data.weekdays)
    heat.set_xticks(range(len(data.hours)), [f"{h:02d}" for h in data.hours])
    if len(data.hours) <= 16:
        for row, values in enumerate(data.fill):
            for column, value in enumerate(values):
                if value is not None:
                    heat.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=8)

    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()

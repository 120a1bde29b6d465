"""What GET /metrics shows (Prometheus text format, prometheus-client), defined in one place.

Each metric is recorded where its event is decided: updates and handler latency by a
Dispatcher middleware, Bot API calls by a session middleware (handlers/middlewares.py),
transactions and their retries by the database layer, booking outcomes by the client booking
service, outbox rows by the outbox service. The backlog is counted when /metrics is read.

One registry per process (``REGISTRY``); the process's own CPU and memory are in it too.
"""

from __future__ import annotations

from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

# Seconds; from a fast in-memory answer to a slow Telegram round trip.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Seconds a reminder left after its due time: the poll interval, a backlog, downtime.
LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600)

UPDATES = Counter(
    "bot_updates",
    "Updates handled, by type (message, callback_query) and result (ok, unhandled, error, "
    "throttled)",
    ["type", "result"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "bot_handler_seconds",
    "Time from an update's arrival in the Dispatcher to the end of its handling",
    ["type"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
BOOKINGS = Counter(
    "bot_booking_attempts",
    "Clients' Confirm taps (bookings and moves), by outcome (booked, slot_taken, limit, ...)",
    ["action", "outcome"],
    registry=REGISTRY,
)
OUTBOX = Counter(
    "bot_outbox_rows",
    "Outbox rows (reminders, rating requests, cards, notices) by kind and how they ended "
    "(sent, skipped, failed, postponed)",
    ["kind", "status"],
    registry=REGISTRY,
)
REMINDER_LATENESS = Histogram(
    "bot_reminder_lateness_seconds",
    "From a reminder's due time to its delivery",
    buckets=LATENESS_BUCKETS,
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "bot_outbox_backlog",
    "Outbox rows due and not yet delivered (pending or being sent), by kind",
    ["kind"],
    registry=REGISTRY,
)
DB_SECONDS = Histogram(
    "bot_db_transaction_seconds",
    "Database transactions (units of work), by label and whether they wrote",
    ["label", "mode"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
DB_RETRIES = Counter(
    "bot_db_retries",
    "Units of work run again after a lock conflict, by label",
    ["label"],
    registry=REGISTRY,
)
API_CALLS = Counter(
    "bot_telegram_api_calls",
    "Bot API calls by method and result (ok, 429, 403, 4xx, 5xx, network)",
    ["method", "result"],
    registry=REGISTRY,
)


M = TypeVar("M", bound=MetricWrapperBase)
_children: dict[tuple[MetricWrapperBase, tuple[str, ...]], MetricWrapperBase] = {}


def labelled(metric: M, *values: str) -> M:
    """``metric.labels(*values)``, looked up once: ``labels()`` takes a lock and checks its
    arguments on every call, and the per-update metrics are recorded several times an update.
    The label values are few and fixed (update types, results, Bot API method names)."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child  # type: ignore[return-value]


def render() -> tuple[bytes, str]:
    """(the body, its content type) for GET /metrics."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

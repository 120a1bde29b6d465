"""Builds the services from settings; shared by bot.py and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from database.connection import Database
from database.db_retry import RetryPolicy
from services.booking import BookingRules, BookingService
from services.catalog import CatalogService
from services.clients import ClientService
from services.export import ExportService
from services.schedule import ScheduleService
from services.slots import SlotRules
from services.specialists import SpecialistService
from services.stats import StatsService
from utils.timeutil import Clock, get_tz, system_clock


@dataclass(frozen=True)
class Services:
    booking: BookingService
    catalog: CatalogService
    schedule: ScheduleService
    clients: ClientService
    specialists: SpecialistService
    stats: StatsService
    export: ExportService


def booking_rules(settings: Settings) -> BookingRules:
    return BookingRules(
        slots=SlotRules(
            step_minutes=settings.slot_step_minutes,
            min_lead_minutes=settings.min_lead_minutes,
            horizon_days=settings.booking_horizon_days,
        ),
        max_active_per_client=settings.max_active_bookings_per_user,
        cancel_cutoff_minutes=settings.cancel_cutoff_minutes,
        reminder_offsets=tuple(settings.reminder_offsets),
        feedback_delay_minutes=settings.feedback_delay_minutes,
    )


def database_for(settings: Settings) -> Database:
    return Database(
        settings.database_path,
        busy_timeout_ms=settings.db_busy_timeout_ms,
        retry=RetryPolicy(
            max_retries=settings.db_max_retries,
            delay=settings.db_retry_delay,
            backoff=settings.db_retry_backoff,
        ),
    )


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Services:
    tz = get_tz(settings.timezone)
    stats = StatsService(db, tz)
    return Services(
        booking=BookingService(db, tz, booking_rules(settings), clock),
        catalog=CatalogService(db, clock),
        schedule=ScheduleService(db, clock),
        clients=ClientService(db, settings.default_language, clock),
        specialists=SpecialistService(db, clock),
        stats=stats,
        export=ExportService(stats, tz),
    )

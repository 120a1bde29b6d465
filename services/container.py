"""Builds the services from settings, once: the one place they are made (bot.py and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from config import Settings
from database.db_retry import RetryPolicy
from database.engine import Database, require_module
from database.observe import TxWatch
from database.sqlite import SqliteDatabase
from domain.rules import Business, Rules
from services.accounts import AccountService
from services.approvals import ApprovalService
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.clients import ClientService
from services.export import ExportService
from services.jobs import JobsService
from services.notes import NotesService
from services.outbox import OutboxService
from services.schedule import ScheduleService
from services.specialists import SpecialistService
from services.staff import StaffService
from services.stats import StatsService
from services.visits import VisitService
from services.waitlist import WaitlistService
from utils.i18n import FIRST_SPECIALIST_KEY, catalog_text
from utils.timeutil import Clock, get_tz, system_clock


@dataclass(frozen=True)
class Container:
    business: Business
    booking: ClientBookingService  # the client flow
    staff: StaffService  # the admin chat's changes and lists
    visits: VisitService  # "I'll come", ratings
    jobs: JobsService  # background work
    outbox: OutboxService  # reminders, cards and notices: the outbox dispatcher
    catalog: CatalogService
    schedule: ScheduleService
    clients: ClientService
    specialists: SpecialistService
    stats: StatsService
    export: ExportService
    notes: NotesService  # staff notes about clients
    accounts: AccountService  # specialists' own chats: links, their agenda
    approvals: ApprovalService  # pending bookings: Approve, Decline, the timeout
    waitlist: WaitlistService  # joining, leaving, the holds offered: Book, No thanks, expiry

    @property
    def rules(self) -> Rules:
        return self.business.rules

    def by_name(self) -> dict[str, object]:
        """The services handlers ask for by name (aiogram's dependency injection)."""
        return {
            "business": self.business,
            "booking": self.booking,
            "staff": self.staff,
            "visits": self.visits,
            "catalog": self.catalog,
            "schedule": self.schedule,
            "clients": self.clients,
            "specialists": self.specialists,
            "stats": self.stats,
            "export": self.export,
            "notes": self.notes,
            "accounts": self.accounts,
            "approvals": self.approvals,
            "waitlist": self.waitlist,
        }


def rules_from(settings: Settings) -> Rules:
    return Rules(
        tz=get_tz(settings.timezone),
        step_minutes=settings.slot_step_minutes,
        min_lead_minutes=settings.min_lead_minutes,
        horizon_days=settings.booking_horizon_days,
        max_active_per_client=settings.max_active_bookings_per_user,
        cancel_cutoff_minutes=settings.cancel_cutoff_minutes,
        reminder_offsets=tuple(settings.reminder_offsets),
        feedback_delay_minutes=settings.feedback_delay_minutes,
        require_phone=settings.require_phone,
        admin_cards=settings.admin_chat_id is not None,
        admin_cards_per_client_hour=settings.admin_cards_per_client_hour,
        approval=settings.approval,
        approval_timeout_minutes=settings.approval_timeout_minutes,
        no_show_limit=settings.no_show_limit,
        waitlist_hold_minutes=settings.waitlist_hold_minutes,
    )


def business_from(settings: Settings) -> Business:
    return Business(
        name=settings.business_name,
        address=settings.business_address,
        phone=settings.business_phone,
        currency=settings.currency,
        rules=rules_from(settings),
    )


def database_for(settings: Settings) -> Database:
    """The engine DATABASE_URL names (not opened yet). PostgreSQL's driver is imported only
    here, only when it is asked for."""
    retry = RetryPolicy(
        max_retries=settings.db_max_retries,
        delay=settings.db_retry_delay,
        backoff=settings.db_retry_backoff,
    )
    watch = TxWatch(slow_after=settings.slow_transaction_ms / 1000)
    url = settings.database
    if url.dialect == "postgresql":
        postgres = require_module("database.postgres", "PostgreSQL")
        database: Database = postgres.PostgresDatabase(
            url.dsn, pool_size=settings.db_pool_size, retry=retry, watch=watch
        )
        return database
    assert url.path is not None
    return SqliteDatabase(
        url.path, busy_timeout_ms=settings.db_busy_timeout_ms, retry=retry, watch=watch
    )


def build_services(settings: Settings, db: Database, clock: Clock = system_clock) -> Container:
    business = business_from(settings)
    rules = business.rules
    stats = StatsService(db, rules.tz)
    return Container(
        business=business,
        booking=ClientBookingService(db, rules, clock),
        staff=StaffService(db, rules, clock),
        visits=VisitService(db, clock),
        jobs=JobsService(db, rules, clock),
        outbox=OutboxService(
            db, rules, clock=clock, lease=timedelta(seconds=settings.reminder_lease_seconds)
        ),
        catalog=CatalogService(db, clock),
        schedule=ScheduleService(
            db,
            clock,
            first_specialist_name=catalog_text(settings.default_language, FIRST_SPECIALIST_KEY),
            rules=rules,
        ),
        # One polling process per token sees every update of a client, so it may remember
        # them; replicas behind a webhook each see only some, so they read the database.
        clients=ClientService(
            db, settings.default_language, clock, remember=settings.webhook_url is None
        ),
        specialists=SpecialistService(db, clock),
        stats=stats,
        export=ExportService(stats, rules.tz, delimiter=settings.csv_delimiter),
        notes=NotesService(db, clock),
        accounts=AccountService(db, rules, clock),
        approvals=ApprovalService(db, rules, clock),
        waitlist=WaitlistService(db, rules, clock),
    )

"""Settings: the only place environment variables (and .env) are read."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import pytz
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from database.engine import DatabaseUrl, DatabaseUrlError, parse_database_url
from domain.rules import Approval
from utils.hours import HoursFormatError, WeeklyHours, parse_time, parse_weekly

TOKEN_RE = re.compile(r"^[0-9]{3,}:[A-Za-z0-9_-]{20,}$")
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DEFAULT_API_URL = "https://api.telegram.org"


def _split_ints(value: object) -> object:
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError:
            raise ValueError("must be comma-separated integers, e.g. 12345,67890") from None
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Telegram
    bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_API_URL
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    admin_chat_id: int | None = None

    # Storage and locale
    database_url: str = Field("sqlite:///data/bot.db", repr=False)  # may hold a password
    timezone: str = "Europe/Moscow"
    default_language: Literal["ru", "en"] = "ru"

    # Booking rules
    working_hours: str = "mon-fri 10:00-14:00,15:00-19:00; sat 11:00-16:00"
    slot_step_minutes: int = Field(30, ge=5, le=240)
    booking_horizon_days: int = Field(30, ge=1, le=366)
    min_lead_minutes: int = Field(60, ge=0, le=7 * 24 * 60)
    max_active_bookings_per_user: int = Field(3, ge=1, le=100)
    cancel_cutoff_minutes: int = Field(120, ge=0, le=30 * 24 * 60)
    reminder_offsets: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [1440, 120])
    reminder_poll_seconds: int = Field(30, ge=1, le=3600)
    # Claimed reminders are this process's to send for this long; a crash frees them after it.
    reminder_lease_seconds: int = Field(60, ge=5, le=3600)
    feedback_delay_minutes: int = Field(120, ge=0, le=30 * 24 * 60)
    admin_digest_time: str | None = "09:00"  # local; empty: no morning digest
    # Which clients' bookings wait for the staff's Approve (a service may say otherwise:
    # /service_edit ID approval on|off); unanswered ones are declined after the timeout.
    approval: Approval = Approval.OFF
    approval_timeout_minutes: int = Field(120, ge=1, le=30 * 24 * 60)
    # This many no-shows within 180 days: the client's new bookings need approval; 0: never.
    no_show_limit: int = Field(2, ge=0, le=100)
    # A time that frees up is held this long for the first client waiting for that day.
    waitlist_hold_minutes: int = Field(15, ge=1, le=24 * 60)

    # The business, as clients see it
    business_name: str = "Our studio"
    business_address: str = ""
    business_phone: str = ""
    currency: str = "₽"
    require_phone: bool = False
    # The CSV export's column separator; empty: ";" for ru (what Excel expects in Russian
    # locales), "," otherwise.
    export_delimiter: Literal[";", ",", "tab"] | None = None

    # Database resilience
    db_max_retries: int = Field(3, ge=0, le=20)
    db_retry_delay: float = Field(0.5, ge=0, le=60)
    db_retry_backoff: float = Field(2.0, ge=1, le=10)
    db_busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    db_pool_size: int = Field(10, ge=1, le=200)  # PostgreSQL connections per process

    # Several processes: shared FSM state, webhooks, the bot's own HTTP server
    redis_url: str | None = Field(None, repr=False)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(8080, ge=1, le=65535)

    # Operations
    sentry_dsn: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_file: str | None = None
    log_format: Literal["text", "json"] = "text"
    # A database transaction slower than this is logged as slow.
    slow_transaction_ms: int = Field(500, ge=1, le=600_000)
    # Incoming updates per user per second (a token bucket with a burst of RATE_BURST);
    # 0: no throttling. Admins are exempt.
    rate_limit: float = Field(3.0, ge=0, le=1000)
    rate_burst: int = Field(10, ge=1, le=10_000)
    # Cards about one client's changes in the admin chat per hour; past it, one summary.
    # 0: no cap.
    admin_cards_per_client_hour: int = Field(10, ge=0, le=10_000)
    # Scheduled online backups of the SQLite database: a copy a day at BACKUP_TIME (local),
    # the newest BACKUP_KEEP kept in BACKUP_DIR. Empty BACKUP_DIR: none.
    backup_dir: str | None = None
    backup_time: str = "03:30"
    backup_keep: int = Field(7, ge=1, le=1000)

    @field_validator("admin_ids", "reminder_offsets", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_ints(value)

    @field_validator("reminder_offsets")
    @classmethod
    def _positive_offsets(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("offsets are minutes before the start and must be positive")
        return sorted(set(value), reverse=True)

    @field_validator(
        "bot_token",
        "sentry_dsn",
        "log_file",
        "admin_chat_id",
        "admin_digest_time",
        "redis_url",
        "webhook_url",
        "webhook_secret",
        "web_port",
        "export_delimiter",
        "backup_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # An empty line in .env means "not set", not "set to the empty string".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("approval", mode="before")
    @classmethod
    def _approval_word(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower().replace("-", "_") or Approval.OFF
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_RE.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (123456:ABC-...)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL, e.g. https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value not in pytz.all_timezones_set:
            raise ValueError(f"unknown time zone '{value}' (use an IANA name like Europe/Moscow)")
        return value

    @field_validator("admin_digest_time", "backup_time")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            minutes = parse_time(value)
        except HoursFormatError as exc:
            raise ValueError(str(exc)) from None
        if minutes >= 24 * 60:
            raise ValueError("must be a time of day, 00:00-23:59")
        return value.strip()

    @property
    def backup_at(self) -> tuple[int, int]:
        """(hour, minute) of the daily backup, local time."""
        hour, minute = divmod(parse_time(self.backup_time), 60)
        return hour, minute

    @property
    def digest_at(self) -> tuple[int, int] | None:
        """(hour, minute) of the admin chat's morning digest, or None when switched off."""
        if self.admin_digest_time is None:
            return None
        return divmod(parse_time(self.admin_digest_time), 60)

    @field_validator("working_hours")
    @classmethod
    def _hours_shape(cls, value: str) -> str:
        try:
            parse_weekly(value)
        except HoursFormatError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def weekly_hours(self) -> WeeklyHours:
        return parse_weekly(self.working_hours)

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        try:
            parse_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @property
    def database(self) -> DatabaseUrl:
        return parse_database_url(self.database_url)

    @property
    def database_path(self) -> Path:
        """The SQLite file (for SQLite URLs)."""
        path = self.database.path
        if path is None:
            raise SettingsError("DATABASE_URL names PostgreSQL, not a SQLite file")
        return path

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise ValueError("has a port that is not a number") from None
        if parts.scheme not in ("redis", "rediss", "unix") or not (parts.hostname or parts.path):
            raise ValueError("must look like redis://host:6379/0")
        return value.strip()

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                "must be the full URL Telegram posts to, e.g. https://bot.example.com/tg/hook"
            )
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_RE.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_URL needs WEBHOOK_SECRET (1-256 characters of A-Z, a-z, 0-9, _ and -)"
            )
        return self

    @property
    def csv_delimiter(self) -> str:
        if self.export_delimiter is None:
            return ";" if self.default_language == "ru" else ","
        return "\t" if self.export_delimiter == "tab" else self.export_delimiter

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL, where the bot's own server takes Telegram's POSTs."""
        return urlsplit(self.webhook_url or "").path or "/"

    def require_bot_token(self) -> str:
        if self.bot_token is None:
            raise SettingsError(
                "BOT_TOKEN is not set: put the token from @BotFather in the environment or .env"
            )
        return self.bot_token.get_secret_value().strip()


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line meant for the operator."""


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one SettingsError line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(f"Bad configuration: {describe_validation_error(exc)}") from None


def load_settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None

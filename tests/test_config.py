"""Settings: defaults, parsing, and one clear line for every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import Settings, SettingsError, load_settings
from utils.hours import HoursFormatError, parse_weekly

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper() in {f.upper() for f in Settings.model_fields}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_defaults() -> None:
    s = load_settings()
    assert s.bot_token is None
    assert s.database_url == "sqlite:///data/bot.db"
    assert s.database_path == Path("data/bot.db")
    assert (s.timezone, s.default_language) == ("Europe/Moscow", "ru")
    assert (s.slot_step_minutes, s.booking_horizon_days, s.min_lead_minutes) == (30, 30, 60)
    assert (s.max_active_bookings_per_user, s.cancel_cutoff_minutes) == (3, 120)
    assert (s.db_max_retries, s.db_retry_delay, s.db_retry_backoff) == (3, 0.5, 2.0)
    assert s.reminder_offsets == [1440, 120]
    assert (s.reminder_poll_seconds, s.feedback_delay_minutes) == (30, 120)
    assert s.digest_at == (9, 0)
    assert load_settings(admin_digest_time="").digest_at is None
    assert s.weekly_hours[0] == [(600, 840), (900, 1140)]
    assert s.weekly_hours[5] == [(660, 960)]
    assert 6 not in s.weekly_hours


def test_values_from_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nADMIN_IDS=1, 2,3\nADMIN_CHAT_ID=\n")
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("REMINDER_OFFSETS", "60,1440,60")
    s = load_settings()
    assert s.require_bot_token() == TOKEN
    assert s.admin_ids == [1, 2, 3]
    assert s.admin_chat_id is None
    assert s.timezone == "Europe/Berlin"
    assert s.reminder_offsets == [1440, 60]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BOT_TOKEN", "12345:secret", "BOT_TOKEN: does not look like a bot token"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS: must be comma-separated integers"),
        ("SLOT_STEP_MINUTES", "0", "SLOT_STEP_MINUTES: Input should be greater than or equal to 5"),
        ("DATABASE_URL", "mysql://x/db", "DATABASE_URL: must start with sqlite:///"),
        ("DATABASE_URL", "postgresql://127.0.0.1", "DATABASE_URL: a PostgreSQL URL needs a host"),
        ("DATABASE_URL", "postgresql://h:port/db", "DATABASE_URL: cannot read the PostgreSQL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL: must look like redis://host:6379/0"),
        ("REDIS_URL", "redis://h:six/0", "REDIS_URL: has a port that is not a number"),
        ("WEBHOOK_URL", "bot.example.com/hook", "WEBHOOK_URL: must be the full URL"),
        ("WEBHOOK_URL", "https://bot.example.com/hook", "WEBHOOK_URL needs WEBHOOK_SECRET"),
        ("WEBHOOK_SECRET", "has spaces", "WEBHOOK_SECRET: must be 1-256 characters"),
        ("WEB_PORT", "70000", "WEB_PORT: Input should be less than or equal to 65535"),
        ("WORKING_HOURS", "mon 10:00-09:00", "WORKING_HOURS: '10:00-09:00' ends before it starts"),
        ("DEFAULT_LANGUAGE", "de", "DEFAULT_LANGUAGE: Input should be 'ru' or 'en'"),
        ("REMINDER_OFFSETS", "120,-5", "REMINDER_OFFSETS: offsets are minutes before the start"),
        ("TELEGRAM_API_URL", "localhost:8081", "TELEGRAM_API_URL: must be an http(s) URL"),
        ("ADMIN_DIGEST_TIME", "9am", "ADMIN_DIGEST_TIME: '9am' is not a time HH:MM"),
        ("ADMIN_DIGEST_TIME", "24:00", "ADMIN_DIGEST_TIME: must be a time of day"),
        ("FEEDBACK_DELAY_MINUTES", "-1", "FEEDBACK_DELAY_MINUTES: Input should be greater"),
    ],
)
def test_bad_values_are_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    if name == "BOT_TOKEN":
        assert value not in text  # even a malformed token is never echoed


def test_server_settings_are_read() -> None:
    s = load_settings(
        database_url="postgresql://bot:secret@db.internal:5432/salon",
        redis_url="redis://cache:6379/2",
        webhook_url="https://bot.example.com/tg/hook",
        webhook_secret="s3cret_token-1",
        web_port="",
    )
    assert s.database.dialect == "postgresql"
    assert str(s.database) == "postgresql://bot@db.internal:5432/salon"  # no password in logs
    assert (s.redis_url, s.webhook_path, s.web_port) == ("redis://cache:6379/2", "/tg/hook", None)
    assert load_settings().web_port == 8080


def test_missing_token_is_reported_only_where_needed() -> None:
    s = load_settings()  # migrations and backups run without a token
    with pytest.raises(SettingsError, match="BOT_TOKEN is not set"):
        s.require_bot_token()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("mon-fri", "needs days and hours"),
        ("mon 10:00-12:00; mon 13:00-14:00", "mon is given twice"),
        ("fri-mon 10:00-12:00", "runs backwards"),
        ("xyz 10:00-12:00", "'xyz' is not a weekday"),
        ("mon 10:00-12:00,11:00-13:00", "overlap"),
        ("mon 25:00-26:00", "not a time"),
    ],
)
def test_working_hours_errors(text: str, error: str) -> None:
    with pytest.raises(HoursFormatError, match=error):
        parse_weekly(text)


def test_working_hours_forms() -> None:
    weekly = parse_weekly("mon-wed,fri 09:00-13:00 ,14:00-18:00; sat 10:00-24:00; sun off")
    assert weekly[0] == weekly[2] == weekly[4] == [(540, 780), (840, 1080)]
    assert 3 not in weekly
    assert weekly[5] == [(600, 1440)]
    assert weekly[6] == []


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bot_without_token_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_bot({}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "BOT_TOKEN is not set: put the token from @BotFather in the environment or .env"
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_bot_with_a_bad_setting_names_it(tmp_path: Path) -> None:
    result = run_bot({"BOT_TOKEN": TOKEN, "MIN_LEAD_MINUTES": "soon"}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "MIN_LEAD_MINUTES" in lines[0]
    assert TOKEN not in result.stderr

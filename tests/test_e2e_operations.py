"""End to end: the bot's own HTTP server as a host's monitoring sees it. `python bot.py` with
WEB_PORT and LOG_FORMAT=json books once for a client; /healthz names every check, /metrics
shows the booking, the update and the Bot API calls; the log is JSON lines naming the update,
the user and the booking; and /healthz answers 503 naming the database once its file is gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.botapi_emulator import BotAPIEmulator, FakeUser
from tests.test_e2e import (
    bot_env,
    closed_port,
    first_time,
    polling_started,
    prepare_db,
    press,
    running_bot,
    t,
    to_calendar,
)

pytestmark = pytest.mark.slow


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_health_metrics_and_json_logs_over_http(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "bot.db"
    service_id = await prepare_db(db_path)
    ann = FakeUser(id=611, first_name="Ann")
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    env = bot_env("", db_path, WEB_PORT=str(port), LOG_FORMAT="json", REMINDER_POLL_SECONDS="1")
    async with BotAPIEmulator() as api:
        env["TELEGRAM_API_URL"] = api.base_url
        async with running_bot(env, tmp_path) as bot:
            await polling_started(api, bot)
            calendar = await to_calendar(api, ann, service_id)
            times, chosen = await first_time(api, ann, calendar)
            card = await press(api, ann, times, chosen)
            booked = await press(api, ann, card, text=t("book.confirm"))
            assert booked["text"].startswith(t("book.done"))

            status, body = await bot.while_running(get(f"{base}/healthz"), "/healthz")
            health = json.loads(body)
            assert status == 200, body
            assert health["checks"] == {
                "migrations": "ok",
                "bot_api": "ok",
                "scheduler": "ok",
                "database": "ok",
            }
            assert set(health["seconds_since"]) == {"bot_api", "scheduler"}

            status, body = await bot.while_running(get(f"{base}/metrics"), "/metrics")
            assert status == 200
            found = samples(body)
            assert value(found, "bot_booking_attempts_total", action="book", outcome="booked") == 1
            assert value(found, "bot_updates_total", type="callback_query", result="ok") >= 3
            assert value(found, "bot_updates_total", type="message", result="ok") >= 1
            assert (
                value(found, "bot_telegram_api_calls_total", method="sendMessage", result="ok") >= 1
            )
            assert value(found, "bot_telegram_api_calls_total", method="getUpdates", result="ok")
            assert value(found, "bot_db_transaction_seconds_count", label="book", mode="write") == 1
            assert value(found, "bot_handler_seconds_count", type="callback_query") >= 3
            assert ("bot_outbox_backlog", frozenset({("kind", "reminder")})) in found
            assert value(found, "process_resident_memory_bytes") > 0

            # The database file is deleted under the running bot: the check names it.
            for path in db_path.parent.iterdir():
                path.unlink()
            status, body = await bot.while_running(get(f"{base}/healthz"), "/healthz")
            assert status == 503, body
            checks = json.loads(body)["checks"]
            assert checks["database"].startswith("failed: DatabaseGone"), checks
            assert checks["bot_api"] == "ok"
            await bot.kill()

    lines = [json.loads(line) for line in bot.stdout if line.strip()]  # every line is JSON
    booking_lines = [line for line in lines if line.get("message") == "client book: booked"]
    assert len(booking_lines) == 1, bot.output
    (line,) = booking_lines
    assert line["user_id"] == ann.id and line["booking_id"] == 1
    assert isinstance(line["update_id"], int) and line["level"] == "INFO"

"""Secrets never reach logs or Sentry: the bot token is masked wherever it appears."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from utils.logging_setup import MASK, scrub, setup_logging
from utils.sentry import before_breadcrumb, before_send, init_sentry, scrub_value

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghijk"
URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


class Captured(Transport):
    """Keeps envelopes in memory: what Sentry would have sent over the network."""

    sent: ClassVar[list[str]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        Captured.sent.append(envelope.serialize().decode("utf-8", "replace"))


def test_scrub_masks_tokens_in_nested_structures() -> None:
    event: dict[str, Any] = {
        "message": f"POST {URL} failed",
        "extra": {"urls": [URL, ("x", URL)], "token": TOKEN},
        "n": 1,
    }
    clean = scrub_value(event)
    assert TOKEN not in json.dumps(clean, default=str)
    assert clean["extra"]["urls"][0] == f"https://api.telegram.org/bot{MASK}/sendMessage"
    assert clean["n"] == 1
    assert before_send(event, {}) == clean
    assert TOKEN not in json.dumps(before_breadcrumb({"data": {"url": URL}}, {}))
    assert scrub("no secrets here 12:34") == "no secrets here 12:34"


def test_sentry_events_and_breadcrumbs_leave_without_the_token() -> None:
    Captured.sent = []
    assert init_sentry(None) is False  # without a DSN nothing is set up at all
    assert init_sentry(
        "https://public@sentry.invalid/1", transport=Captured, default_integrations=False
    )
    try:
        sentry_sdk.add_breadcrumb(category="httplib", data={"url": URL, "method": "POST"})
        try:
            raise RuntimeError(f"request to {URL} failed")
        except RuntimeError:
            sentry_sdk.capture_exception()
        sentry_sdk.capture_message(f"token is {TOKEN}")
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_client().close(timeout=1)
        sentry_sdk.init()  # back to a client that sends nothing
    assert len(Captured.sent) >= 2
    everything = "\n".join(Captured.sent)
    assert TOKEN not in everything
    assert MASK in everything


def test_log_lines_mask_the_token(tmp_path: Path, capsys) -> None:
    log_file = tmp_path / "logs" / "bot.log"
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        setup_logging("INFO", str(log_file))
        logging.getLogger("aiogram.session").warning("Request to %s failed", URL)
        for handler in root.handlers:
            handler.flush()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    printed = capsys.readouterr().out
    written = log_file.read_text(encoding="utf-8")
    for text in (printed, written):
        assert "Request to https://api.telegram.org/bot<BOT_TOKEN>/sendMessage failed" in text
        assert TOKEN not in text


def test_a_password_in_a_server_url_never_reaches_a_log_line_or_settings_repr() -> None:
    from config import load_settings

    line = scrub("PostgreSQL not reachable: postgresql://bot:s3cr3t@db.internal:5432/bot")
    assert "s3cr3t" not in line and "postgresql://bot:***@db.internal" in line
    assert "pw" not in scrub("redis://:pw@cache:6379/0")
    settings = load_settings(
        _env_file=None,
        database_url="postgresql://bot:s3cr3t@h:5432/db",
        redis_url="redis://:s3cr3t@h/0",
    )
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in repr(settings.database)
    assert "s3cr3t" not in str(settings.database)

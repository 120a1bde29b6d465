"""Logging to stdout and, when LOG_FILE is set, to a rotating file; secrets are masked."""

from __future__ import annotations

import io
import logging
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from utils.files import private_file

# The bot token travels inside Bot API URLs (https://api.telegram.org/bot<TOKEN>/method).
TOKEN_PATTERN = re.compile(r"[0-9]{3,}:[A-Za-z0-9_-]{20,}")
MASK = "<BOT_TOKEN>"
# A password inside a server URL (DATABASE_URL, REDIS_URL): scheme://user:PASSWORD@host
URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")


def scrub(text: str) -> str:
    return URL_PASSWORD.sub(r"\1***@", TOKEN_PATTERN.sub(MASK, text))


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class PrivateRotatingFileHandler(RotatingFileHandler):
    """The log holds clients' names and ids: every file of it is 0600, rotated ones too."""

    def _open(self) -> io.TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(level: str = "INFO", log_file: str | None = None) -> None:
    formatter = ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_file:
        handlers.append(
            PrivateRotatingFileHandler(
                log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO: one line a poll is noise, not news.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))

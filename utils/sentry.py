"""Sentry, with the bot token scrubbed from everything that leaves the process."""

from __future__ import annotations

from typing import Any

import sentry_sdk

from utils.logging_setup import scrub


def scrub_value(value: Any) -> Any:
    """The same structure with every bot token in every string masked."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_value(k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(v) for v in value)
    return value


def before_send(event: Any, hint: Any) -> Any:
    return scrub_value(event)


def before_breadcrumb(crumb: Any, hint: Any) -> Any:
    return scrub_value(crumb)


def init_sentry(dsn: str | None, **options: Any) -> bool:
    """Start Sentry when a DSN is set; without one nothing is sent anywhere."""
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        **options,
    )
    return True

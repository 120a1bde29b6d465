"""Failures every layer may meet and must not mistake for a bug."""

from __future__ import annotations


class StorageUnavailable(RuntimeError):
    """The database cannot be reached (or stayed locked through every retry) right now: the
    user is asked to try again in a minute; nothing was changed."""

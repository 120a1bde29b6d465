"""How long each unit of work's transaction took (BEGIN to COMMIT or ROLLBACK, on the thread that
ran it): recorded in the metrics, and logged as slow past a threshold (SLOW_TRANSACTION_MS)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from utils.metrics import DB_SECONDS

logger = logging.getLogger("database.slow")

T = TypeVar("T")
Mode = Literal["write", "read"]


@dataclass(frozen=True)
class TxWatch:
    slow_after: float = 0.5  # seconds

    def run(self, label: str, mode: Mode, transaction: Callable[[], T]) -> T:
        """Run ``transaction`` (a whole one, BEGIN to its end), timing it."""
        started = time.perf_counter()
        try:
            return transaction()
        finally:
            elapsed = time.perf_counter() - started
            DB_SECONDS.labels(label, mode).observe(elapsed)
            if elapsed >= self.slow_after:
                logger.warning("slow transaction %s (%s): %.0f ms", label, mode, elapsed * 1000)

"""Progress lines for long runs: done/total, percent, rate and ETA, at most every few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable


class ProgressLog:
    def __init__(
        self,
        what: str,
        total: int,
        emit: Callable[[str], None],
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.what = what
        self.total = total
        self.done = 0
        self._emit = emit
        self._interval = interval_s
        self._clock = clock
        self._started = clock()
        self._last = self._started

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = self._clock()
        if now - self._last >= self._interval and self.done < self.total:
            self._last = now
            self._emit(self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max((now if now is not None else self._clock()) - self._started, 1e-9)
        rate = self.done / elapsed
        percent = 100.0 * self.done / self.total if self.total else 100.0
        remaining = (self.total - self.done) / rate if rate else float("inf")
        eta = f"{remaining:.0f}s" if remaining != float("inf") else "unknown"
        return (
            f"{self.what}: {self.done}/{self.total} ({percent:.1f}%), {rate:.1f} docs/s, ETA {eta}"
        )

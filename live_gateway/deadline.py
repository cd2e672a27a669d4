"""The time left of a bound, shared by every request a check makes within it.

azure-core gives each request a connection timeout of 300 s and a read timeout of 300 s by default
(azure/core/pipeline/transport/_base.py, ConnectionConfiguration) and an LRO poller with no limit at
all (`LROPoller.result()` waits for ever): a bound held only by the waiting loop is not a bound.
So every request, token and poll asks the deadline how long it may take.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Deadline:
    """A bound of `seconds` from now on `clock`, plus `grace` for the last look begun within it.

    A check looks while the bound lasts (`looking()`), and a look begun at its end still has
    `grace` (one poll interval) to finish: every request is given `remaining()`, the time to the
    bound plus the grace, so the whole wait ends within the bound plus one poll interval.
    `sleep` is the one every wait within it uses, so tests can drive it with a clock of their own.
    """

    def __init__(
        self,
        seconds: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        grace: float = 0,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.start = clock()
        self.end = self.start + seconds
        self.hard_end = self.end + grace

    def remaining(self) -> float:
        """Seconds any request may still take."""
        return max(0.0, self.hard_end - self.clock())

    def looking(self) -> float:
        """Seconds left in which a new look may begin."""
        return max(0.0, self.end - self.clock())

    def elapsed(self) -> float:
        return self.clock() - self.start

    def passed(self) -> bool:
        return self.clock() >= self.hard_end

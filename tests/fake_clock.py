"""A monotonic clock that moves only when a wait sleeps.

The waits take their clock and sleep as arguments (live_gateway/deadline.py), so a bound of ten
minutes is tested in no time, and a bound of one second is measured on this clock rather than on
the wall time of a loaded machine, where a first TLS handshake alone can take longer.
"""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        # A wait that sleeps nothing or less than nothing would spin past its bound.
        assert seconds > 0, f"asked to sleep {seconds} s"
        self.sleeps.append(seconds)
        self.now += seconds

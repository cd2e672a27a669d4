"""The request loop: one request at a time on a fixed schedule, until told or bounded to stop.

Requests start every `interval` seconds on a fixed grid, one in flight at a time, as the
runbook's `curl` loop runs. A request slower than the interval delays the next one, which then
starts at once; missed slots are dropped, never sent in a burst.

Stopping: a count or a duration bounds the run. A stop request (Ctrl-C, SIGTERM) ends it after
the request in flight. With a settle rule, the first SIGTERM instead keeps probing until the
named cluster has answered `count` times in a row (the cut-over has landed), or until the
settle timeout; the last `count` answers all unattributed also end it, since waiting cannot then
show a cluster. A second stop request, or Ctrl-C, ends it at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from probe.attribution import UNKNOWN
from probe.record import Observation, Record, iso


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def wall(self) -> float: ...
    def wait(self, event: threading.Event, seconds: float) -> bool: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)


@dataclass(frozen=True)
class Schedule:
    interval: float = 0.1
    count: int | None = None
    duration: float | None = None


@dataclass(frozen=True)
class Settle:
    cluster: str
    count: int = 20
    timeout: float = 300.0


class StopSwitch:
    """Set from a signal handler; read by the loop between requests."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.requests = 0
        self.immediate = False

    def request(self, *, immediate: bool = False) -> None:
        self.requests += 1
        self.immediate = self.immediate or immediate
        self.wake.set()


@dataclass(frozen=True)
class Result:
    records: tuple[Record, ...]
    # count, duration, stopped, settled, settle-timeout, unattributed
    ended_by: str
    settle: Settle | None


def run(
    attempt: Callable[[], Observation],
    schedule: Schedule,
    *,
    clock: Clock | None = None,
    stop: StopSwitch | None = None,
    settle: Settle | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> Result:
    clock = clock or SystemClock()
    stop = stop or StopSwitch()
    records: list[Record] = []
    start = clock.monotonic()
    start_wall = clock.wall()
    due = start
    settling_since: float | None = None
    ended_by = ""
    while not ended_by:
        now = clock.monotonic()
        ended_by = _bound_reached(schedule, len(records), now - start)
        if ended_by:
            break
        t = now - start
        observation = attempt()
        latency = clock.monotonic() - now
        record = Record(
            seq=len(records) + 1,
            t=round(t, 6),
            at=iso(start_wall + t),
            latency_ms=round(latency * 1000, 3),
            kind=observation.kind,
            status=observation.status,
            cluster=observation.cluster,
            detail=observation.detail,
        )
        records.append(record)
        if on_record is not None:
            on_record(record)
        due += schedule.interval
        while True:
            now = clock.monotonic()
            if stop.requests:
                if stop.immediate or stop.requests > 1 or settle is None:
                    ended_by = "stopped"
                    break
                if settling_since is None:
                    settling_since = now
                ended_by = _settled(records, settle, now - settling_since)
                if ended_by:
                    break
            if now >= due:
                # Behind schedule (a slow request): start at once, drop the missed slots.
                due = max(due, now)
                break
            if clock.wait(stop.wake, due - now):
                # Woken by a stop request: decide again before the next request.
                stop.wake.clear()
    return Result(tuple(records), ended_by, settle)


def _bound_reached(schedule: Schedule, sent: int, elapsed: float) -> str:
    if schedule.count is not None and sent >= schedule.count:
        return "count"
    if schedule.duration is not None and elapsed >= schedule.duration:
        return "duration"
    return ""


def _settled(records: list[Record], settle: Settle, waited: float) -> str:
    tail = records[-settle.count :]
    if len(tail) == settle.count:
        if all(r.ok and r.cluster == settle.cluster for r in tail):
            return "settled"
        if all(r.ok and r.cluster in (None, UNKNOWN) for r in tail):
            return "unattributed"
    if waited >= settle.timeout:
        return "settle-timeout"
    return ""

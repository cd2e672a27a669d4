"""One line of the probe's log: one request, what came back, when and how fast."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from probe.classify import OK


@dataclass(frozen=True)
class Observation:
    """What one request produced, before it is placed in time."""

    kind: str
    status: int | None = None
    cluster: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Record:
    seq: int
    # Seconds from the probe's start to this request's start (monotonic clock).
    t: float
    # Wall-clock start of the request, UTC, ISO 8601 with milliseconds.
    at: str
    latency_ms: float
    kind: str
    status: int | None
    cluster: str | None
    detail: str | None

    @property
    def ok(self) -> bool:
        return self.kind == OK

    @property
    def answered(self) -> bool:
        """An HTTP answer arrived, accepted or not."""
        return self.status is not None

    @property
    def end(self) -> float:
        return self.t + self.latency_ms / 1000

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Record:
        data: dict[str, Any] = json.loads(line)
        data.pop("ok", None)
        return cls(**data)


def iso(wall: float) -> str:
    return (
        datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class JsonLog:
    """JSON Lines, one object per request, flushed as it goes: a killed probe keeps its log."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, record: Record) -> None:
        self._stream.write(record.to_json() + "\n")
        self._stream.flush()


def read_log(path: Path) -> list[Record]:
    return [Record.from_json(line) for line in path.read_text().splitlines() if line.strip()]

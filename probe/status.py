"""The live one-line status: rewritten in place on a terminal, a line every few seconds in a log."""

from __future__ import annotations

from typing import TextIO

from probe.record import Record
from probe.summary import plural


class StatusLine:
    def __init__(self, stream: TextIO, *, interactive: bool, every: float = 10.0) -> None:
        self._stream = stream
        self._interactive = interactive
        self._every = every
        self._next_line = 0.0
        self.requests = 0
        self.failed = 0

    def update(self, record: Record) -> None:
        self.requests += 1
        self.failed += 0 if record.ok else 1
        what = f"{record.status}" if record.status is not None else record.kind
        if record.cluster:
            what += f" {record.cluster}"
        text = (
            f"probe: {plural(self.requests, 'request')}, {self.failed} failed, "
            f"last {record.latency_ms:.0f} ms {what}"
        )
        if self._interactive:
            self._stream.write(f"\r\x1b[2K{text}")
            self._stream.flush()
        elif record.t >= self._next_line or not record.ok:
            self._stream.write(text + "\n")
            self._stream.flush()
            self._next_line = record.t + self._every

    def finish(self) -> None:
        if self._interactive and self.requests:
            self._stream.write("\n")
            self._stream.flush()

"""What a failed request is, and of which kind.

A request fails when no complete HTTP answer arrives within the per-request timeout, or when the
answer's status is outside the accepted set (by default 200-399: a redirect is an answer the
gateway gave on purpose, curl without -f counts it as one, and a flip never produces one).
Every failure has exactly one kind:

- `status`: an HTTP answer with a status outside the accepted set (the gateway's 502 while a
  pool is empty, a 404 for a missing route);
- `timeout`: no complete answer within the timeout (connect, headers or body);
- `refused`: the connection was refused (nothing listening);
- `reset`: the connection was reset or closed before a complete answer;
- `error`: anything else (name resolution, TLS, a malformed answer).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass

OK = "ok"
FAILURE_KINDS: tuple[str, ...] = ("status", "timeout", "refused", "reset", "error")

_RANGE = re.compile(r"^(\d{3})(?:-(\d{3}))?\Z")


@dataclass(frozen=True)
class StatusPolicy:
    """The HTTP statuses that count as success, as inclusive ranges."""

    ranges: tuple[tuple[int, int], ...] = ((200, 399),)

    def accepts(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.ranges)

    @classmethod
    def parse(cls, text: str) -> StatusPolicy:
        """`200-299,304`: comma-separated statuses or inclusive ranges of three-digit codes."""
        ranges: list[tuple[int, int]] = []
        for part in text.split(","):
            match = _RANGE.match(part.strip())
            if not match:
                raise ValueError(
                    f"'{part.strip()}' is not a status or a range; write e.g. 200-399 or 200,204"
                )
            low = int(match.group(1))
            high = int(match.group(2) or low)
            if not 100 <= low <= high <= 599:
                raise ValueError(f"'{part.strip()}' is not a range of HTTP statuses (100-599)")
            ranges.append((low, high))
        return cls(tuple(ranges))

    def describe(self) -> str:
        return ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in self.ranges)


def kind_of_exception(err: BaseException) -> tuple[str, str]:
    """The failure kind of a request that raised, and a short detail for the log."""
    detail = f"{type(err).__name__}: {err}".strip().rstrip(":")
    # Order matters: RemoteDisconnected is both a ConnectionResetError and an HTTPException, and
    # socket.timeout is TimeoutError (an OSError) since Python 3.10.
    if isinstance(err, ConnectionRefusedError):
        return "refused", detail
    if isinstance(err, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset", detail
    if isinstance(err, http.client.IncompleteRead):
        # The peer closed the connection in the middle of the body.
        return "reset", f"IncompleteRead: {len(err.partial)} bytes read"
    if isinstance(err, TimeoutError):
        return "timeout", detail
    if isinstance(err, (socket.gaierror, ssl.SSLError, http.client.HTTPException, OSError)):
        return "error", detail
    return "error", detail

"""One HTTP request with a whole-request deadline, on a new connection unless kept alive.

The standard library's http.client is used directly, so "a new connection each time" is real:
every request opens its own TCP connection and sends `Connection: close`, as the runbook's
`curl` loop does. With keep-alive one connection is reused; a reused connection the server
closed while idle is retried once on a new one, as curl and browsers do for a GET.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

USER_AGENT = "aks-bluegreen-probe"
# Enough of any page to find the serving pod's address; the rest is drained only when the
# connection is kept alive.
BODY_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Target:
    url: str
    host_header: str | None = None
    timeout: float = 2.0
    keep_alive: bool = False
    # Where to connect instead of what the URL's host resolves to (curl's --resolve): for a name
    # whose DNS record does not point at the gateway yet. SNI, the Host header and certificate
    # verification still use the URL's host.
    address: str | None = None
    # https only: verification is on unless this is set; ca_file replaces the system's CAs.
    insecure: bool = False
    ca_file: str | None = None
    scheme: str = field(init=False)
    host: str = field(init=False)
    port: int = field(init=False)
    path: str = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{self.url}' is not an http:// or https:// URL")
        if self.timeout <= 0:
            raise ValueError("the timeout must be positive")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"'{self.url}' has an invalid port") from None
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        object.__setattr__(self, "scheme", parts.scheme)
        object.__setattr__(self, "host", parts.hostname)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "path", path)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Requester:
    """Sends GETs to one target; raises on any transport failure (see classify.py)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._conn: http.client.HTTPConnection | None = None

    def get(self) -> Answer:
        reused = self._conn is not None
        deadline = time.monotonic() + self.target.timeout
        try:
            try:
                return self._get_once(deadline)
            except (ConnectionResetError, BrokenPipeError):  # RemoteDisconnected is one too
                if not reused:
                    raise
                # The server closed the idle kept-alive connection between two requests: that
                # is not the gateway failing, so the GET is sent again on a new connection,
                # within the same timeout.
                self.close()
                return self._get_once(deadline)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _get_once(self, deadline: float) -> Answer:
        t = self.target
        conn = self._conn or self._connect()
        self._conn = conn
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if t.host_header:
            headers["Host"] = t.host_header
        if not t.keep_alive:
            headers["Connection"] = "close"
        if conn.sock is None:
            conn.connect()
        _limit(conn, deadline)
        conn.request("GET", t.path, headers=headers)
        _limit(conn, deadline)
        response = conn.getresponse()
        body = b""
        # read() with a size stops at the declared length or the last chunk and then marks the
        # answer complete (read1 does not), which a kept-alive connection needs before reuse.
        while not response.isclosed() and len(body) < BODY_LIMIT:
            _limit(conn, deadline)
            chunk = response.read(min(65536, BODY_LIMIT - len(body)))
            if not chunk:
                break
            body += chunk
        if t.keep_alive:
            while not response.isclosed():
                _limit(conn, deadline)
                if not response.read(65536):
                    break
        complete = response.isclosed()
        answer = Answer(response.status, tuple(response.getheaders()), body)
        if not (t.keep_alive and complete and not response.will_close):
            self.close()
        return answer

    def _connect(self) -> http.client.HTTPConnection:
        t = self.target
        conn: http.client.HTTPConnection
        if t.scheme == "https":
            # http.client sends the connection's host as SNI and, with a default context, checks
            # the chain and that the certificate names that host (ssl.create_default_context:
            # CERT_REQUIRED, check_hostname): what a browser does for the same URL.
            conn = http.client.HTTPSConnection(
                t.host, t.port, timeout=t.timeout, context=tls_context(t)
            )
        else:
            conn = http.client.HTTPConnection(t.host, t.port, timeout=t.timeout)
        if t.address is not None:
            address = t.address
            # HTTPConnection.connect opens its socket through this attribute (CPython
            # Lib/http/client.py), so only the TCP destination changes; the TLS wrap that
            # follows still names the URL's host.
            conn._create_connection = lambda _where, *rest, **kw: socket.create_connection(  # type: ignore[attr-defined]
                (address, t.port), *rest, **kw
            )
        return conn


def tls_context(target: Target) -> ssl.SSLContext:
    """The TLS client settings of one target: verified against the system's (or the given) CAs
    unless insecure."""
    context = ssl.create_default_context(cafile=target.ca_file)
    if target.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _limit(conn: http.client.HTTPConnection, deadline: float) -> None:
    """Gives the next socket operation only the time left of the whole request."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no complete answer within the timeout")
    if conn.sock is not None:
        conn.sock.settimeout(left)

"""A threaded HTTPS server on loopback answering JSON, for the Azure SDK clients under test.

azure-core refuses to send a bearer token over plain HTTP, so the loopback ARM, GitHub and Entra
ID all serve TLS with a throwaway CA (trustme) that the client under test is pointed at.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

# method, path, headers, body -> status, response headers, JSON body (None: no body) or a Raw
Respond = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]


@dataclass(frozen=True)
class Raw:
    """An answer that is not well-formed JSON, or not on time: `body` sent as it is, after
    `delay_seconds`, with `Content-Length: declared_length` when given (more than the body: a
    connection cut mid-answer) and `content_type`."""

    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    delay_seconds: float = 0
    declared_length: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class TlsJsonServer:
    def __init__(self, ca: trustme.CA, respond: Respond) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(respond))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(respond: Respond) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, answer = respond(
                self.command, self.path, dict(self.headers.items()), body
            )
            raw = answer if isinstance(answer, Raw) else None
            if raw is not None:
                payload, content_type = raw.body, raw.content_type
                headers = {**headers, **raw.headers}
                time.sleep(raw.delay_seconds)
            else:
                payload = b"" if answer is None else json.dumps(answer).encode()
                content_type = "application/json; charset=utf-8"
            length = raw.declared_length if raw and raw.declared_length else len(payload)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            except OSError:  # the client gave up waiting, as it should
                return
            if length != len(payload):
                self.close_connection = True

        do_GET = _serve  # noqa: N815 - http.server's dispatch names
        do_POST = _serve  # noqa: N815
        do_HEAD = _serve  # noqa: N815

        def log_message(self, *_: Any) -> None:
            pass

    return Handler

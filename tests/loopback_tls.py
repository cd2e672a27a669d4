"""A threaded HTTPS server on loopback answering JSON, for the Azure SDK clients under test.

azure-core refuses to send a bearer token over plain HTTP, so the loopback ARM, GitHub and Entra
ID all serve TLS with a throwaway CA (trustme) that the client under test is pointed at.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

# method, path, headers, body -> status, response headers, JSON body (None: no body)
Respond = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]


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
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve  # noqa: N815 - http.server's dispatch names
        do_POST = _serve  # noqa: N815

        def log_message(self, *_: Any) -> None:
            pass

    return Handler

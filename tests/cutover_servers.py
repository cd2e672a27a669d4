"""A cut-over on loopback: two backends (blue and green pods) behind a switcher that plays the
gateway, and that can be told, request by request, to forward to either backend or to fail the
way a gateway and a network fail: a 502, an answer that never comes, a refused connection, a
reset one. Everything listens on 127.0.0.1 only and stops with its context manager.
"""

from __future__ import annotations

import http.client
import select
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POD_IPS = {"blue": "10.240.0.37", "green": "10.241.0.12"}
SUBNETS = {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"}
MODES = ("blue", "green", "502", "hang", "refuse", "reset")


def aspnetapp_page(pod_ip: str) -> bytes:
    # The shape of the sample app's page (dotnet/dotnet-docker samples/aspnetapp, Index.cshtml):
    # the pod's host name, identical in both clusters but for its random suffix, and its IP.
    return (
        "<html><body><h1>Welcome to .NET</h1><table>"
        "<tr><td>Host name</td><td>aspnetapp-7d4b9c6f5d-x2k4p</td></tr>"
        '<tr><td style="vertical-align: top">Server IP address</td><td>'
        f"{pod_ip}\n<br />\n</td></tr></table></body></html>"
    ).encode()


class _Pod(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive when the client asks for it

    def do_GET(self) -> None:
        server: Backend = self.server  # type: ignore[assignment]
        server.connections.add(self.client_address)
        server.hosts.append(self.headers.get("Host", ""))
        body = aspnetapp_page(server.pod_ip)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Backend(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pod_ip: str) -> None:
        super().__init__(("127.0.0.1", 0), _Pod)
        self.pod_ip = pod_ip
        self.connections: set[tuple[str, int]] = set()
        self.hosts: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@dataclass
class Switcher:
    """The gateway stand-in. `mode` applies to the next request it receives."""

    backends: dict[str, Backend]
    mode: str = "blue"
    # False: answer without `Connection: close` and close anyway, as a server closing an idle
    # kept-alive connection does.
    announce_close: bool = True
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listener: socket.socket | None = None
    _running: bool = True
    _release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listen()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def set(self, mode: str) -> None:
        assert mode in MODES, mode
        with self._lock:
            if mode == "refuse" and self._listener is not None:
                self._listener.close()  # nothing listens: the next connect is refused
                self._listener = None
            elif mode != "refuse" and self._listener is None:
                self._listen()
            self.mode = mode

    def close(self) -> None:
        self._running = False
        self._release.set()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._thread.join(timeout=5)

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _accept_loop(self) -> None:
        while self._running:
            with self._lock:
                listener = self._listener
                conn = None
                if listener is not None:
                    ready, _, _ = select.select([listener], [], [], 0.01)
                    if ready:
                        conn, _ = listener.accept()
            if conn is not None:
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()
            elif listener is None:
                threading.Event().wait(0.005)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            mode = self.mode
            if mode in self.backends:
                conn.sendall(self._forward(self.backends[mode], request, self.announce_close))
            elif mode == "502":
                body = b"<html><head><title>502 Bad Gateway</title></head></html>"
                conn.sendall(_response(502, "Bad Gateway", body))
            elif mode == "hang":
                self._release.wait(5)
            elif mode == "reset":
                # Linger 0: close sends a RST instead of a FIN.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    @staticmethod
    def _forward(backend: Backend, request: bytes, announce_close: bool) -> bytes:
        head = request.split(b"\r\n\r\n", 1)[0].decode()
        path = head.split(" ")[1]
        host = next(
            (line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
             if line.lower().startswith("host:")),
            "",
        )  # fmt: skip
        upstream = http.client.HTTPConnection("127.0.0.1", backend.server_address[1], timeout=5)
        try:
            upstream.request("GET", path, headers={"Host": host})
            answer = upstream.getresponse()
            return _response(answer.status, answer.reason, answer.read(), announce_close)
        finally:
            upstream.close()


def _response(status: int, reason: str, body: bytes, announce_close: bool = True) -> bytes:
    close = "Connection: close\r\n" if announce_close else ""
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html\r\n"
        f"Content-Length: {len(body)}\r\n{close}\r\n"
    )
    return head.encode() + body


@dataclass
class CutOver:
    blue: Backend
    green: Backend
    switcher: Switcher


@contextmanager
def cut_over() -> Iterator[CutOver]:
    backends = {color: Backend(ip) for color, ip in POD_IPS.items()}
    threads = [
        threading.Thread(target=b.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for b in backends.values()
    ]
    for thread in threads:
        thread.start()
    switcher = Switcher(backends)
    try:
        yield CutOver(backends["blue"], backends["green"], switcher)
    finally:
        switcher.close()
        for backend in backends.values():
            backend.shutdown()
            backend.server_close()

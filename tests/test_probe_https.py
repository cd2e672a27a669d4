"""`bin/probe https://host/` against a loopback HTTPS server whose certificate a throwaway CA
(trustme) issued: SNI, verification on by default, a wrong name, --insecure, --resolve."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from probe.cli import main
from probe.record import Record

HOST = "shop.example.com"


@dataclass
class Gateway:
    """What the loopback gateway saw: the SNI of each handshake and the Host of each request."""

    port: int
    ca_file: str
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)

    def url(self, host: str = HOST) -> str:
        return f"https://{host}:{self.port}/"

    def resolve(self, host: str = HOST) -> list[str]:
        return ["--resolve", f"{host}:{self.port}:127.0.0.1"]


def _serve(tmp_path: Path, certificate_for: str) -> Iterator[Gateway]:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(certificate_for).configure_cert(context)
    seen = Gateway(0, str(ca_file))

    def remember_sni(_sock: Any, server_name: str | None, _context: Any) -> None:
        seen.server_names.append(server_name)

    context.sni_callback = remember_sni

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.hosts.append(self.headers.get("Host", ""))
            body = b"served by 10.241.0.4"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    seen.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    yield from _serve(tmp_path, HOST)


@pytest.fixture
def wrong_name(tmp_path: Path) -> Iterator[Gateway]:
    yield from _serve(tmp_path, "other.example.com")


def probe(argv: list[str]) -> tuple[int, list[Record]]:
    records: list[Record] = []
    code = main([*argv, "--count", "2", "--interval", "0.01"], on_record=records.append)
    return code, records


def test_https_to_a_name_not_yet_in_dns_is_verified_with_sni_at_the_given_address(
    gateway: Gateway,
) -> None:
    code, records = probe([gateway.url(), *gateway.resolve(), "--cacert", gateway.ca_file])
    assert code == 0, [r.detail for r in records]
    assert [r.status for r in records] == [200, 200]
    assert gateway.server_names == [HOST, HOST]
    assert gateway.hosts == [f"{HOST}:{gateway.port}"] * 2


def test_verification_is_on_by_default(gateway: Gateway) -> None:
    # The system's CAs do not know the throwaway CA: the same gateway is then not trusted.
    code, records = probe([gateway.url(), *gateway.resolve()])
    assert code == 1
    assert {r.kind for r in records} == {"error"}
    assert all("CERTIFICATE_VERIFY_FAILED" in (r.detail or "") for r in records)


def test_a_certificate_for_another_name_fails(wrong_name: Gateway) -> None:
    code, records = probe([wrong_name.url(), *wrong_name.resolve(), "--cacert", wrong_name.ca_file])
    assert code == 1
    assert {r.kind for r in records} == {"error"}
    assert all("Hostname mismatch" in (r.detail or "") for r in records), records[0].detail


def test_insecure_turns_verification_off_and_says_so(wrong_name: Gateway, capsys) -> None:
    code, records = probe([wrong_name.url(), *wrong_name.resolve(), "--insecure"])
    assert code == 0, [r.detail for r in records]
    err = capsys.readouterr().err
    assert f"probe: --insecure: the certificate of {HOST} is NOT verified" in err
    # Still SNI for the URL's host: the gateway picks its listener by it.
    assert wrong_name.server_names == [HOST, HOST]


def test_insecure_over_plain_http_says_nothing(capsys) -> None:
    assert main(["http://127.0.0.1:9/", "--insecure", "--count", "1"]) == 1
    assert "NOT verified" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("resolve", "message"),
    [
        ("shop.example.com:443", "is not HOST:PORT:ADDRESS"),
        ("other.example.com:443:127.0.0.1", "does not match the URL's shop.example.com:443"),
        ("shop.example.com:80:127.0.0.1", "does not match the URL's shop.example.com:443"),
    ],
)
def test_a_resolve_for_another_host_or_port_is_refused(resolve: str, message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([f"https://{HOST}/", "--resolve", resolve])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err

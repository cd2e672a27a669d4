"""`bin/probe URL`: the runbook's curl loop, measured.

Exit status: 0 when every request succeeded, 1 when any failed, 2 on invalid arguments
(an output file that cannot be written among them, found before the first request).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from probe import outputs
from probe.attribution import Attribution, Rule
from probe.classify import StatusPolicy
from probe.loop import Clock, Result, Schedule, Settle, StopSwitch, run
from probe.observe import observer
from probe.record import JsonLog, Record
from probe.request import Requester, Target
from probe.status import StatusLine
from probe.summary import Summary, render_markdown, render_text, summarize

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)\Z")


def seconds(text: str) -> float:
    """`0.1`, `30s`, `5m`, `2h`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration; write e.g. 0.1, 30s, 5m")
    value = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be more than zero")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be at least 1")
    return value


def _rule(text: str) -> Rule:
    try:
        return Rule.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _resolve(text: str) -> tuple[str, int, str]:
    host, _, rest = text.partition(":")
    port, _, address = rest.partition(":")
    if not host or not port.isdigit() or not address:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not HOST:PORT:ADDRESS; write e.g. shop.example.com:443:203.0.113.10"
        )
    return host.lower(), int(port), address.strip("[]")


def _policy(text: str) -> StatusPolicy:
    try:
        return StatusPolicy.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="probe",
        description="Request URL at a fixed interval and report every failure: the runbook's "
        "curl loop, measured. Exit 0 when no request failed, 1 when any did.",
    )
    p.add_argument("url", help="http:// or https:// URL, e.g. http://<gatewayPublicIp>/")
    p.add_argument("--host", help="Host header to send (an app routed by host name)")
    p.add_argument(
        "--resolve",
        type=_resolve,
        metavar="HOST:PORT:ADDRESS",
        help="connect to ADDRESS for the URL's HOST:PORT, as curl --resolve (a name whose DNS "
        "record is not there yet); SNI, Host and certificate checks still use HOST",
    )
    p.add_argument(
        "--insecure",
        "-k",
        action="store_true",
        help="https: do not verify the certificate (verification is on by default)",
    )
    p.add_argument(
        "--cacert", type=Path, help="https: trust this CA bundle instead of the system's"
    )
    p.add_argument("--interval", type=seconds, default=0.1, help="between request starts (0.1)")
    p.add_argument("--timeout", type=seconds, default=2.0, help="per request, whole answer (2)")
    p.add_argument(
        "--keep-alive",
        action="store_true",
        help="reuse one connection (default: a new connection per request, as curl)",
    )
    p.add_argument("--count", type=positive_int, help="stop after this many requests")
    p.add_argument("--duration", type=seconds, help="stop after this long (e.g. 90s, 10m)")
    p.add_argument(
        "--ok-status",
        type=_policy,
        default=StatusPolicy(),
        metavar="RANGES",
        help="statuses that count as success (200-399)",
    )
    p.add_argument(
        "--cluster",
        type=_rule,
        action="append",
        default=[],
        metavar="LABEL=PATTERN",
        help="name the cluster whose answer matches PATTERN (a regex, or an IPv4 CIDR matched "
        "against every address in the text); repeat per cluster, first match wins",
    )
    p.add_argument(
        "--cluster-header",
        metavar="NAME",
        help="match --cluster patterns on this response header instead of the body",
    )
    p.add_argument(
        "--settle-on",
        metavar="LABEL",
        help="on SIGTERM, keep probing until LABEL answered --settle-count times in a row",
    )
    p.add_argument("--settle-count", type=positive_int, default=20)
    p.add_argument("--settle-timeout", type=seconds, default=300.0)
    p.add_argument("--log", type=Path, help="JSON Lines file, one object per request")
    p.add_argument("--picture", type=Path, help="PNG timeline picture")
    p.add_argument("--summary-json", type=Path, help="the summary as JSON")
    p.add_argument("--summary-markdown", type=Path, help="the summary as Markdown")
    p.add_argument("--title", help="title of the picture and the Markdown summary")
    p.add_argument(
        "--status-every",
        type=seconds,
        default=10.0,
        help="when stderr is not a terminal, a status line this often (10s)",
    )
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    on_record: Callable[[Record], None] | None = None,
    stop: StopSwitch | None = None,
) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        target = Target(
            args.url,
            args.host,
            args.timeout,
            args.keep_alive,
            address=_address_for(args.url, args.resolve),
            insecure=args.insecure,
            ca_file=str(args.cacert) if args.cacert else None,
        )
    except ValueError as err:
        p.error(str(err))
    if args.insecure and target.scheme == "https":
        sys.stderr.write(
            f"probe: --insecure: the certificate of {target.host} is NOT verified; a success "
            "says nothing about the certificate the gateway presents\n"
        )
    attribution = Attribution(tuple(args.cluster), args.cluster_header)
    settle = None
    if args.settle_on is not None:
        if args.settle_on not in attribution.labels():
            p.error(f"--settle-on {args.settle_on}: name one of the --cluster labels")
        settle = Settle(args.settle_on, args.settle_count, args.settle_timeout)
    title = args.title or f"probe {args.url}" + (f" (Host: {args.host})" if args.host else "")
    unusable = outputs.check(_outputs(args))
    if unusable:
        print(f"{p.prog}: error: {unusable}", file=sys.stderr)
        return 2
    try:
        log_file = args.log.open("w", encoding="utf-8") if args.log else None
    except OSError as err:
        print(f"{p.prog}: error: --log {args.log}: {err.strerror or err}", file=sys.stderr)
        return 2

    stop = stop or StopSwitch()
    status = StatusLine(sys.stderr, interactive=sys.stderr.isatty(), every=args.status_every)
    requester = Requester(target)
    log = JsonLog(log_file) if log_file else None

    def record(rec: Record) -> None:
        if log is not None:
            log.write(rec)
        status.update(rec)
        if on_record is not None:
            on_record(rec)

    with _Signals(stop):
        try:
            result = run(
                observer(requester, args.ok_status, attribution),
                Schedule(args.interval, args.count, args.duration),
                clock=clock,
                stop=stop,
                settle=settle,
                on_record=record,
            )
        finally:
            requester.close()
            status.finish()
            if log_file is not None:
                log_file.close()
    return _report(result, args, title)


def _outputs(args: argparse.Namespace) -> dict[str, Path | None]:
    return {
        "--log": args.log,
        "--picture": args.picture,
        "--summary-json": args.summary_json,
        "--summary-markdown": args.summary_markdown,
    }


def _address_for(url: str, resolve: tuple[str, int, str] | None) -> str | None:
    """The --resolve address, refused when it names another host or port than the URL's (curl
    would silently ignore it and probe what DNS says)."""
    if resolve is None:
        return None
    probe_of = Target(url)
    host, port, address = resolve
    if (host, port) != (probe_of.host.lower(), probe_of.port):
        raise ValueError(
            f"--resolve {host}:{port}:{address} does not match the URL's {probe_of.host}:"
            f"{probe_of.port}; name the URL's host and port"
        )
    return address


def _report(result: Result, args: argparse.Namespace, title: str) -> int:
    summary = summarize(
        result.records, args.url, result.ended_by, result.settle.cluster if result.settle else None
    )
    sys.stdout.write(render_text(summary))
    # Exit 1 says a request failed; a file that cannot be written after the run only warns.
    for option, path, write in (
        ("--summary-json", args.summary_json, lambda p: p.write_text(_json(summary))),
        (
            "--summary-markdown",
            args.summary_markdown,
            lambda p: p.write_text(render_markdown(summary, title)),
        ),
        ("--picture", args.picture, lambda p: _draw(result, summary, p, title)),
    ):
        if path is None:
            continue
        # Any failure to write (a vanished directory, a full disk, matplotlib) is reported.
        try:
            write(path)
        except Exception as err:
            print(f"warning: {option} {path}: not written: {err}", file=sys.stderr)
    return 0 if summary.passed else 1


def _json(summary: Summary) -> str:
    return json.dumps(summary.to_dict(), indent=2) + "\n"


def _draw(result: Result, summary: Summary, path: Path, title: str) -> None:
    from probe.picture import draw

    draw(result.records, summary, path, title)


class _Signals:
    """Ctrl-C stops after the request in flight; SIGTERM too, or first settles (loop.py)."""

    def __init__(self, stop: StopSwitch) -> None:
        self._stop = stop
        self._saved: dict[int, object] = {}

    def __enter__(self) -> None:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread (tests run the loop)
        self._saved[signal.SIGINT] = signal.signal(signal.SIGINT, self._interrupt)
        self._saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._terminate)

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        self._stop.request(immediate=True)

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        self._stop.request()

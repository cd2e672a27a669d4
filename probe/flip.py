"""Measuring a deploy from CI: one probe per app of a stack, started before `pulumi up` and
stopped after it.

    python -m probe.flip start --stack-file Pulumi.<stack>.yaml --address <gatewayPublicIp> --dir D
    python -m probe.flip stop --dir D [--summary "$GITHUB_STEP_SUMMARY"]

`start` launches `python -m probe` in the background for every workload of the stack (its path,
its host as the Host header), attributing answers to a cluster by the clusters' subnets (the
sample app prints its pod IP), and returns once each probe has logged its first request. The
probes outlive the step: a GitHub runner ends a job's leftover processes only when the job
completes (actions/runner src/Runner.Worker/JobExtension.cs, "Cleaning up orphan processes").

`stop` sends each probe SIGTERM. A probe then settles: it keeps probing until the active cluster
has answered 20 times in a row, because AGIC rewrites the gateway after the up has finished
(its pod reports ready when its cache syncs, not when the gateway is written), so stopping
at once would miss the switch itself. It then appends each summary to the job summary and
exits 1 if any request failed or any probe misbehaved.

What is measured is whether the deploy breaks what worked: an app that does not answer
before the deploy (it is new in this change, or the gateway does not serve yet) is not probed,
and the log says so. With no address (a stack's first deploy, before a gateway exists) `start`
probes nothing and `stop` finds nothing to report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probe.attribution import Attribution
from probe.classify import OK, StatusPolicy
from probe.observe import observer
from probe.record import read_log
from probe.request import Requester, Target
from probe.summary import render_markdown, render_text, summarize

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "probes.json"


@dataclass(frozen=True)
class ProbeSpec:
    app: str
    url: str
    host: str | None
    clusters: tuple[tuple[str, str], ...]
    settle_on: str


def specs(stack_file: Path, address: str) -> list[ProbeSpec]:
    """One probe per workload of the stack, from the stack file as the program reads it."""
    from config import COLORS, parse_qualified
    from config.stack_file import read_config

    cfg = parse_qualified(read_config(stack_file))
    clusters = tuple((color, str(cfg.clusters[color].subnet_cidr)) for color in COLORS)
    return [
        ProbeSpec(
            app=workload.name,
            url=f"http://{address}{workload.path}",
            host=workload.host,
            clusters=clusters,
            settle_on=cfg.active,
        )
        for workload in cfg.workloads
    ]


def probe_argv(spec: ProbeSpec, out: Path, args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, "-m", "probe", spec.url]
    if spec.host:
        argv += ["--host", spec.host]
    for label, cidr in spec.clusters:
        argv += ["--cluster", f"{label}={cidr}"]
    argv += [
        "--interval", str(args.interval),
        "--timeout", str(args.timeout),
        "--duration", str(args.max_duration),
        "--settle-on", spec.settle_on,
        "--settle-count", str(args.settle_count),
        "--settle-timeout", str(args.settle_timeout),
        "--log", str(out / f"{spec.app}.jsonl"),
        "--picture", str(out / f"{spec.app}.png"),
        "--summary-json", str(out / f"{spec.app}.summary.json"),
        "--summary-markdown", str(out / f"{spec.app}.summary.md"),
        "--title", f"{spec.app}: {spec.url}" + (f" (Host: {spec.host})" if spec.host else ""),
    ]  # fmt: skip
    return argv


def start(args: argparse.Namespace) -> int:
    if not args.address:
        print("No gateway address (a first deploy, or no output yet): nothing to probe.")
        return 0
    try:
        planned = specs(args.stack_file, args.address)
    except Exception as err:  # a config or stack-file problem, reported in one line
        print(f"probe.flip: {err}", file=sys.stderr)
        return 2
    out: Path = args.dir
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    started = []
    for spec in planned:
        if not _serves(spec, args.timeout):
            print(
                f"Not probing {spec.app}: {spec.url} does not answer before the deploy (a new "
                "app, or a gateway not serving yet): there is nothing for the deploy to break."
            )
            continue
        with (out / f"{spec.app}.out").open("w") as output:
            process = subprocess.Popen(
                probe_argv(spec, out, args),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own session: signals meant for this step's shell never reach the probe.
                start_new_session=True,
            )
        started.append({"app": spec.app, "pid": process.pid, "url": spec.url, "host": spec.host})
        print(f"Probing {spec.app}: {spec.url} (pid {process.pid}, settles on {spec.settle_on})")
    if not started:
        return 0
    (out / MANIFEST).write_text(json.dumps({"probes": started}, indent=2) + "\n")
    return _await_first_requests(out, started, args.start_timeout)


def _serves(spec: ProbeSpec, timeout: float, attempts: int = 3) -> bool:
    requester = Requester(Target(spec.url, spec.host, timeout))
    attempt = observer(requester, StatusPolicy(), Attribution())
    try:
        return any(attempt().kind == OK for _ in range(attempts))
    finally:
        requester.close()


def _await_first_requests(out: Path, started: list[dict[str, Any]], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    waiting = {p["app"]: p["pid"] for p in started}
    while waiting and time.monotonic() < deadline:
        for app, pid in list(waiting.items()):
            log = out / f"{app}.jsonl"
            if log.exists() and log.stat().st_size > 0:
                del waiting[app]
            elif not _alive(pid):
                print(f"The probe of {app} exited at once:", file=sys.stderr)
                print((out / f"{app}.out").read_text(), file=sys.stderr)
                return 1
        time.sleep(0.05)
    if waiting:
        print(f"No request logged within {timeout:g} s by: {', '.join(waiting)}", file=sys.stderr)
        return 1
    return 0


def stop(args: argparse.Namespace) -> int:
    out: Path = args.dir
    manifest = out / MANIFEST
    if not manifest.exists():
        print("No probes were started: nothing to report.")
        return 0
    probes = json.loads(manifest.read_text())["probes"]
    for probe in probes:
        _signal(probe["pid"], signal.SIGTERM)
    deadline = time.monotonic() + args.wait
    while any(_alive(p["pid"]) for p in probes) and time.monotonic() < deadline:
        time.sleep(0.1)
    failed = []
    sections = []
    for probe in probes:
        app = probe["app"]
        killed = _alive(probe["pid"])
        if killed:
            _signal(probe["pid"], signal.SIGKILL)
        summary_json = out / f"{app}.summary.json"
        markdown = out / f"{app}.summary.md"
        log = out / f"{app}.jsonl"
        records = read_log(log) if log.exists() else []
        if not killed and summary_json.exists():
            data = json.loads(summary_json.read_text())
            passed = bool(data["passed"])
            summary = summarize(records, probe["url"], data["ended_by"], data["settle_cluster"])
            sections.append(markdown.read_text())
            print(f"{app}:")
            print(render_text(summary), end="")
        else:
            # The probe did not finish its own report: rebuild the summary from the log, which
            # it flushed line by line (its picture is not drawn), and count the run as failed.
            passed = False
            reason = "did not stop in time and was killed" if killed else "left no summary"
            summary = summarize(records, probe["url"], "killed")
            sections.append(render_markdown(summary, f"{app}: the probe {reason}"))
            print(f"{app}: the probe {reason}")
            print(render_text(summary), end="")
        if not passed:
            failed.append(app)
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as summary_file:
            summary_file.write("## Gateway probes during this deploy\n\n")
            summary_file.write("\n".join(sections))
            summary_file.write(
                "\nTimeline pictures and per-request JSON logs are in this run's artifacts.\n\n"
            )
    if failed:
        print(f"Requests failed during the deploy for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    try:
        # Our own child (start and stop in one process, as in tests): reap it if it exited.
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m probe.flip", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start", help="start one background probe per app of the stack")
    s.add_argument("--stack-file", type=Path, required=True)
    s.add_argument("--address", default="", help="the stack's gatewayPublicIp output")
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--interval", type=float, default=0.1)
    s.add_argument("--timeout", type=float, default=2.0)
    s.add_argument("--settle-count", type=int, default=20)
    s.add_argument("--settle-timeout", type=float, default=300.0)
    s.add_argument("--max-duration", type=float, default=3 * 3600.0)
    s.add_argument("--start-timeout", type=float, default=30.0)
    t = sub.add_parser("stop", help="stop the probes, report, exit 1 if any request failed")
    t.add_argument("--dir", type=Path, required=True)
    t.add_argument("--summary", type=Path, help="append the Markdown summaries here")
    t.add_argument("--wait", type=float, default=360.0, help="seconds to wait for the probes")
    args = p.parse_args(argv)
    return start(args) if args.command == "start" else stop(args)


if __name__ == "__main__":
    sys.exit(main())

"""The probe against a real cut-over on loopback, and its parts on scripted input.

The loopback run drives the switcher request by request from the probe's own record callback,
so every count, kind, streak and attribution is exact; time-dependent figures (the failure
window) are asserted against the probe's own JSON log, and exact windows are asserted on the
loop with a scripted clock.
"""

from __future__ import annotations

import http.client
import json
import struct
import threading
from pathlib import Path

import pytest

from cutover_servers import SUBNETS, Backend, cut_over
from probe.attribution import UNKNOWN, Attribution, Rule
from probe.classify import OK, StatusPolicy, kind_of_exception
from probe.cli import main
from probe.loop import Schedule, Settle, StopSwitch, run
from probe.record import Observation, Record, read_log
from probe.summary import Latency, Segment, render_markdown, render_text, summarize

# Request by request: what the switcher does with request n (1-based) is MODES[n - 1].
SCENARIO = (
    ["blue"] * 4 + ["502"] * 3 + ["blue"] * 2 + ["hang"] * 2 + ["refuse"] * 2 + ["reset"]
    + ["green"] * 4
)  # fmt: skip
EXPECTED_KIND = {"blue": OK, "green": OK, "502": "status", "hang": "timeout"}
EXPECTED_KIND |= {"refuse": "refused", "reset": "reset"}
TIMEOUT = 0.25


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_probe_measures_a_cut_over_through_every_kind_of_failure(tmp_path: Path, capsys) -> None:
    files = {name: tmp_path / name for name in ("log.jsonl", "t.png", "s.json", "s.md")}
    with cut_over() as loop:
        loop.switcher.set(SCENARIO[0])

        def drive(record: Record) -> None:
            if record.seq < len(SCENARIO):
                loop.switcher.set(SCENARIO[record.seq])

        code = main(
            [
                loop.switcher.url,
                "--interval",
                "0.01",
                "--timeout",
                str(TIMEOUT),
                "--count",
                str(len(SCENARIO)),
                "--cluster",
                f"blue={SUBNETS['blue']}",
                "--cluster",
                f"green={SUBNETS['green']}",
                "--log",
                str(files["log.jsonl"]),
                "--picture",
                str(files["t.png"]),
                "--summary-json",
                str(files["s.json"]),
                "--summary-markdown",
                str(files["s.md"]),
            ],
            on_record=drive,
        )
    assert code == 1

    # The JSON log: one line per request, in order, each classified as the switcher behaved.
    lines = files["log.jsonl"].read_text().splitlines()
    assert len(lines) == len(SCENARIO)
    records = [Record.from_json(line) for line in lines]
    assert [r.seq for r in records] == list(range(1, len(SCENARIO) + 1))
    assert [r.kind for r in records] == [EXPECTED_KIND[m] for m in SCENARIO]
    assert [r.status for r in records] == [
        200 if m in ("blue", "green") else 502 if m == "502" else None for m in SCENARIO
    ]
    assert [r.cluster for r in records] == [
        m if m in ("blue", "green") else UNKNOWN if m == "502" else None for m in SCENARIO
    ]
    assert all(
        json.loads(line)["ok"] == (r.kind == OK) for line, r in zip(lines, records, strict=True)
    )
    assert all(TIMEOUT * 1000 <= r.latency_ms < TIMEOUT * 1000 + 200 for r in records[9:11])
    assert all(r.detail for r in records if not r.ok)

    # The summary, exactly.
    summary = json.loads(files["s.json"].read_text())
    assert summary["requests"] == 18 and summary["failed"] == 8 and not summary["passed"]
    assert summary["by_kind"] == {"status": 3, "timeout": 2, "refused": 2, "reset": 1, "error": 0}
    assert summary["failed_statuses"] == {"502": 3}
    streak = summary["longest_streak"]
    assert (streak["length"], streak["first_seq"], streak["last_seq"]) == (5, 10, 14)
    assert streak["kinds"] == {"timeout": 2, "refused": 2, "reset": 1}
    assert streak["start"] == records[9].t
    assert streak["end"] == pytest.approx(records[13].end, abs=1e-6)
    assert streak["start_at"] == records[9].at
    assert summary["clusters"] == {"blue": 6, "green": 4}
    assert [
        (s["cluster"], s["first_seq"], s["last_seq"], s["answers"]) for s in summary["segments"]
    ] == [("blue", 1, 9, 6), ("green", 15, 18, 4)]
    answered = sorted(r.latency_ms for r in records if r.status is not None)
    assert summary["latency_ms"]["max"] == answered[-1]
    assert len(answered) == 13  # 10 pages and 3 502s; timeouts and refusals have no answer
    assert summary["latency_ms"]["p50"] == answered[6]  # nearest rank: the 7th of 13
    assert summary["ended_by"] == "count"
    # The summary is a function of the log: the log alone reproduces it.
    again = summarize(read_log(files["log.jsonl"]), loop.switcher.url, "count")
    assert json.loads(json.dumps(again.to_dict())) == summary

    out = capsys.readouterr().out
    assert "FAIL: 8 of 18 requests failed" in out
    assert "status 3 (502 x3), timeout 2, refused 2, reset 1, error 0" in out
    assert "5 requests (#10-#14)" in out
    assert "blue #1-#9 (6 answers" in out and "green #15-#18 (4 answers" in out
    assert "### ❌" in files["s.md"].read_text()

    width, height = png_size(files["t.png"])
    assert (width, height) == (1200, 600)
    assert files["t.png"].stat().st_size > 20_000  # axes, points, markers, legend: not blank


def test_a_new_connection_per_request_unless_kept_alive(tmp_path: Path) -> None:
    pod = Backend("10.240.0.5")
    threading.Thread(target=pod.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        base = [pod.url, "--interval", "0.01", "--count", "4", "--host", "app.example.com"]
        assert main(base) == 0
        assert len(pod.connections) == 4
        pod.connections.clear()
        assert main([*base, "--keep-alive"]) == 0
        assert len(pod.connections) == 1
        assert pod.hosts == ["app.example.com"] * 8
    finally:
        pod.shutdown()
        pod.server_close()


def test_kept_alive_a_connection_the_server_closed_while_idle_is_not_a_failure() -> None:
    with cut_over() as loop:
        loop.switcher.announce_close = False
        argv = [loop.switcher.url, "--interval", "0.01", "--count", "4", "--keep-alive"]
        assert main(argv) == 0


# --- the loop, on a scripted clock -----------------------------------------------------------


class ScriptedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_800_000_000.0 + self.now

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        self.now += seconds
        return False


def scripted(clock: ScriptedClock, steps: list[tuple[float, Observation]]):
    script = iter(steps)

    def attempt() -> Observation:
        latency, observation = next(script)
        clock.now += latency
        return observation

    return attempt


BLUE = Observation(OK, 200, "blue")
GREEN = Observation(OK, 200, "green")
BAD = Observation("status", 502, UNKNOWN, "HTTP 502")
TIMED_OUT = Observation("timeout", detail="TimeoutError")


def test_requests_start_on_a_fixed_grid_and_a_slow_one_delays_without_a_burst() -> None:
    clock = ScriptedClock()
    steps = [(0.01, BLUE), (0.25, TIMED_OUT), (0.02, BLUE), (0.01, BLUE)]
    result = run(scripted(clock, steps), Schedule(interval=0.1, count=4), clock=clock)
    assert [r.t for r in result.records] == [0.0, 0.1, 0.35, 0.45]
    assert result.records[1].latency_ms == 250.0
    assert result.records[0].at == "2027-01-15T08:00:00.000Z"
    assert result.ended_by == "count"


def test_the_failure_window_runs_from_the_first_failed_start_to_the_last_failed_end() -> None:
    clock = ScriptedClock()
    steps = [(0.01, BLUE), (0.02, BAD), (0.25, TIMED_OUT), (0.03, BAD), (0.01, GREEN)]
    result = run(scripted(clock, steps), Schedule(interval=0.1, count=5), clock=clock)
    summary = summarize(result.records, "http://gw/", result.ended_by)
    streak = summary.longest_streak
    assert streak is not None
    assert (streak.length, streak.first_seq, streak.last_seq) == (3, 2, 4)
    assert (streak.start, streak.end) == (0.1, 0.48)
    assert streak.start_at == "2027-01-15T08:00:00.100Z"
    assert summary.segments == (
        Segment("blue", 1, 1, 1, 0.0, 0.01),
        Segment("green", 5, 5, 1, 0.55, 0.56),
    )
    assert "3 requests (#2-#4), 0.100-0.480 s after start" in render_text(summary)


def test_a_duration_bounds_the_run() -> None:
    clock = ScriptedClock()
    result = run(scripted(clock, [(0.01, BLUE)] * 20), Schedule(0.1, duration=0.5), clock=clock)
    assert len(result.records) == 5 and result.ended_by == "duration"


def test_sigterm_settles_on_the_expected_cluster_then_stops() -> None:
    clock = ScriptedClock()
    stop = StopSwitch()
    steps = [(0.01, BLUE)] * 3 + [(0.01, BAD)] + [(0.01, GREEN)] * 10
    result = run(
        scripted(clock, steps),
        Schedule(0.1),
        clock=clock,
        stop=stop,
        settle=Settle("green", count=3, timeout=60),
        on_record=lambda r: stop.request() if r.seq == 2 else None,
    )
    # Stopped after #2, but kept going until green answered three times in a row.
    assert len(result.records) == 7 and result.ended_by == "settled"


def test_settling_gives_up_at_the_timeout_and_a_second_signal_stops_at_once() -> None:
    clock = ScriptedClock()
    stop = StopSwitch()
    settle = Settle("green", count=3, timeout=0.5)
    result = run(
        scripted(clock, [(0.01, BLUE)] * 20),
        Schedule(0.1),
        clock=clock,
        stop=stop,
        settle=settle,
        on_record=lambda r: stop.request() if r.seq == 1 else None,
    )
    assert result.ended_by == "settle-timeout" and len(result.records) == 6

    clock, stop = ScriptedClock(), StopSwitch()
    result = run(
        scripted(clock, [(0.01, BLUE)] * 20),
        Schedule(0.1),
        clock=clock,
        stop=stop,
        settle=settle,
        on_record=lambda r: stop.request() if r.seq in (1, 2) else None,
    )
    assert result.ended_by == "stopped" and len(result.records) == 2


def test_settling_ends_when_no_answer_names_a_cluster() -> None:
    clock, stop = ScriptedClock(), StopSwitch()
    plain = Observation(OK, 200, UNKNOWN)
    result = run(
        scripted(clock, [(0.01, plain)] * 20),
        Schedule(0.1),
        clock=clock,
        stop=stop,
        settle=Settle("green", count=4, timeout=60),
        on_record=lambda r: stop.request() if r.seq == 1 else None,
    )
    assert result.ended_by == "unattributed" and len(result.records) == 4


def test_ctrl_c_stops_at_once_even_with_a_settle_rule() -> None:
    clock, stop = ScriptedClock(), StopSwitch()
    result = run(
        scripted(clock, [(0.01, BLUE)] * 20),
        Schedule(0.1),
        clock=clock,
        stop=stop,
        settle=Settle("green"),
        on_record=lambda r: stop.request(immediate=True) if r.seq == 3 else None,
    )
    assert result.ended_by == "stopped" and len(result.records) == 3


# --- the summary -----------------------------------------------------------------------------


def record(seq: int, latency: float, kind: str = OK, status: int | None = 200) -> Record:
    return Record(seq, seq * 0.1, "2027-01-15T08:00:00.000Z", latency, kind, status, None, None)


def test_latency_percentiles_are_nearest_rank_over_answered_requests() -> None:
    records = [record(i, float(i)) for i in range(1, 101)]
    records.append(record(101, 2000.0, "timeout", None))
    summary = summarize(records, "http://gw/", "count")
    assert summary.latency_ms == Latency(p50=50.0, p95=95.0, p99=99.0, max=100.0)
    assert summary.clusters == {} and summary.segments == ()
    assert "not attributed" in render_text(summary)


def test_a_clean_run_passes_with_no_streak() -> None:
    summary = summarize([record(1, 5.0), record(2, 6.0)], "http://gw/", "stopped")
    assert summary.passed and summary.longest_streak is None
    assert "PASS: 2 requests, none failed" in render_text(summary)
    assert render_markdown(summary, "app").startswith("### ✅ app")


def test_an_empty_run_summarizes() -> None:
    summary = summarize([], "http://gw/", "stopped")
    assert summary.requests == 0 and summary.latency_ms is None and summary.duration == 0.0


# --- classification and attribution ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "refused"),
        (ConnectionResetError(104, "Connection reset by peer"), "reset"),
        (http.client.RemoteDisconnected("Remote end closed connection"), "reset"),
        (BrokenPipeError(32, "Broken pipe"), "reset"),
        (http.client.IncompleteRead(b"abc", 10), "reset"),
        (TimeoutError("timed out"), "timeout"),
        (http.client.BadStatusLine("garbage"), "error"),
        (OSError(113, "No route to host"), "error"),
    ],
)
def test_transport_failures_have_one_kind_each(error: BaseException, kind: str) -> None:
    assert kind_of_exception(error)[0] == kind


def test_status_policy_accepts_ranges_and_refuses_nonsense() -> None:
    policy = StatusPolicy.parse("200-299, 304")
    assert policy.accepts(204) and policy.accepts(304) and not policy.accepts(301)
    assert StatusPolicy().accepts(302) and not StatusPolicy().accepts(404)
    for bad in ("2xx", "300-200", "99", ""):
        with pytest.raises(ValueError):
            StatusPolicy.parse(bad)


def test_attribution_by_subnet_regex_or_header() -> None:
    by_subnet = Attribution((Rule.parse("blue=10.240.0.0/16"), Rule.parse("green=10.241.0.0/16")))
    page = b"<td>Host name</td><td>aspnetapp-1</td><td>10.241.3.4\n<br /></td>"
    assert by_subnet.cluster_of((), page) == "green"
    assert by_subnet.cluster_of((), b"no address here, nor 310.240.1.1") == UNKNOWN
    by_regex = Attribution((Rule.parse(r"blue=pod-b\d"),))
    assert by_regex.cluster_of((), b"served by pod-b7") == "blue"
    by_header = Attribution((Rule.parse("green=10.241.0.0/16"),), header="X-Served-By")
    assert by_header.cluster_of([("x-served-by", "10.241.0.9:8080")], page) == "green"
    assert by_header.cluster_of([], page) == UNKNOWN
    assert Attribution().cluster_of((), page) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ftp://gw/"], "not an http:// or https:// URL"),
        (["http://gw/", "--cluster", "blue"], "is not LABEL=PATTERN"),
        (["http://gw/", "--cluster", "blue=("], "is not a regular expression"),
        (["http://gw/", "--cluster", "unknown=x"], "reserved"),
        (["http://gw/", "--interval", "0"], "must be more than zero"),
        (["http://gw/", "--ok-status", "2xx"], "is not a status or a range"),
        (["http://gw/", "--settle-on", "green"], "name one of the --cluster labels"),
    ],
)
def test_bad_arguments_exit_2_with_one_message(argv: list[str], message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err

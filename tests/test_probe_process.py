"""The probe as processes: `bin/probe` ended by Ctrl-C, and the deploy workflow's start/stop
(probe/flip.py) ending background probes with SIGTERM, settling on the new cluster, reporting."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import ROOT
from cutover_servers import Backend, cut_over
from probe import flip
from probe.record import Observation, Record, iso, read_log


def wait_for_lines(path: Path, count: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.02)
    raise AssertionError(f"{path} has fewer than {count} lines after {timeout} s")


def test_bin_probe_ends_on_ctrl_c_with_a_summary_and_exit_0(tmp_path: Path) -> None:
    pod = Backend("10.241.0.12")
    threading.Thread(target=pod.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    log = tmp_path / "probe.jsonl"
    try:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "probe"), pod.url, "--interval", "0.02", "--log", str(log),
             "--cluster", "green=10.241.0.0/16"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        wait_for_lines(log, 3)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        pod.shutdown()
        pod.server_close()
    assert process.returncode == 0, out + err
    requests = len(read_log(log))
    assert f"PASS: {requests} requests, none failed" in out
    assert "stopped by a signal" in out
    assert f"green {requests}" in out
    assert "Traceback" not in err


def test_a_deploy_is_measured_from_start_to_settled_cut_over(tmp_path: Path) -> None:
    out = tmp_path / "probes"
    job_summary = tmp_path / "summary.md"
    with cut_over() as loop:
        loop.switcher.set("blue")
        started = flip.main(
            ["start", "--stack-file", str(ROOT / "Pulumi.green.yaml"),
             "--address", f"127.0.0.1:{loop.switcher.port}", "--dir", str(out),
             "--interval", "0.02", "--timeout", "0.5",
             "--settle-count", "3", "--settle-timeout", "30"]
        )  # fmt: skip
        assert started == 0
        log = out / "aspnetapp.jsonl"
        assert json.loads(wait_for_lines(log, 1)[0])["cluster"] == "blue"
        # The deploy goes wrong for a moment: the gateway answers 502.
        loop.switcher.set("502")
        while read_log(log)[-1].status != 502:
            time.sleep(0.02)
        loop.switcher.set("blue")
        while read_log(log)[-1].cluster != "blue":
            time.sleep(0.02)
        # `pulumi up` has returned while blue still serves: AGIC moves the gateway a moment
        # later. The probe, told to stop, keeps going until green (active in the stack file)
        # has answered three times in a row.
        stop_called = time.time()
        threading.Timer(0.25, loop.switcher.set, args=("green",)).start()
        stopped = flip.main(["stop", "--dir", str(out), "--summary", str(job_summary)])
    assert stopped == 1  # the 502s fail the job although the cut-over landed

    records = read_log(log)
    summary = json.loads((out / "aspnetapp.summary.json").read_text())
    assert summary["ended_by"] == "settled" and summary["settle_cluster"] == "green"
    assert [r.cluster for r in records[-3:]] == ["green"] * 3
    assert records[-1].at > iso(stop_called + 0.2)
    assert summary["by_kind"]["status"] == summary["failed"] >= 1
    assert [s["cluster"] for s in summary["segments"]] == ["blue", "green"]
    report = job_summary.read_text()
    assert report.startswith("## Gateway probes during this deploy")
    assert "### ❌ aspnetapp: http://127.0.0.1:" in report
    assert "502 x" in report
    assert (out / "aspnetapp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((out / "probes.json").read_text())
    assert [p["app"] for p in manifest["probes"]] == ["aspnetapp"]


def test_a_first_deploy_has_no_address_and_nothing_to_report(tmp_path: Path, capsys) -> None:
    args = ["start", "--stack-file", str(ROOT / "Pulumi.blue.yaml"), "--dir", str(tmp_path)]
    assert flip.main([*args, "--address", ""]) == 0
    assert not (tmp_path / "probes.json").exists()
    assert flip.main(["stop", "--dir", str(tmp_path)]) == 0
    assert "nothing to report" in capsys.readouterr().out


def test_an_app_not_serving_before_the_deploy_is_not_probed(tmp_path: Path, capsys) -> None:
    with cut_over() as loop:
        loop.switcher.set("502")
        args = ["start", "--stack-file", str(ROOT / "Pulumi.blue.yaml"), "--dir", str(tmp_path)]
        assert flip.main([*args, "--address", f"127.0.0.1:{loop.switcher.port}"]) == 0
    assert "Not probing aspnetapp" in capsys.readouterr().out
    assert not (tmp_path / "probes.json").exists()


def test_a_probe_that_does_not_stop_is_killed_and_reported_from_its_log(tmp_path: Path) -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
         "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    ok = Observation("ok", 200, "blue")
    lines = [
        Record(n, n * 0.1, iso(1_800_000_000 + n * 0.1), 2.0, ok.kind, 200, "blue", None)
        for n in range(1, 4)
    ]
    (tmp_path / "web.jsonl").write_text("".join(r.to_json() + "\n" for r in lines))
    manifest = {"probes": [{"app": "web", "pid": stubborn.pid, "url": "http://gw/", "host": None}]}
    (tmp_path / "probes.json").write_text(json.dumps(manifest))
    job_summary = tmp_path / "summary.md"
    try:
        code = flip.main(
            ["stop", "--dir", str(tmp_path), "--summary", str(job_summary), "--wait", "0.3"]
        )
    finally:
        stubborn.kill()
        stubborn.wait()
    assert code == 1
    report = job_summary.read_text()
    assert "web: the probe did not stop in time and was killed" in report
    assert "PASS: 3 requests, none failed" in report  # what it saw, kept
    assert not (tmp_path / "web.png").exists()

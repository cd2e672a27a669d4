"""The probe's exit status says whether a request failed, and nothing else: its output files are
checked before the first request, a file it cannot write after the run only warns, and its
summaries and picture say what they show (UTC times, no latency for a refused connection, no
label over the legend)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from cutover_servers import Backend
from probe.cli import main
from probe.record import Record, read_log
from probe.summary import render_markdown, summarize


@contextmanager
def pod() -> Iterator[Backend]:
    backend = Backend("10.241.0.12")
    threading.Thread(
        target=backend.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        yield backend
    finally:
        backend.shutdown()
        backend.server_close()


def _missing_dir(tmp: Path) -> Path:
    return tmp / "no-such-dir" / "out"


def _a_directory(tmp: Path) -> Path:
    return tmp


def _under_a_file(tmp: Path) -> Path:
    (tmp / "plain-file").write_text("")
    return tmp / "plain-file" / "out"


@pytest.mark.parametrize("option", ["--log", "--picture", "--summary-json", "--summary-markdown"])
@pytest.mark.parametrize(
    ("where", "why"),
    [
        (_missing_dir, "no such directory"),
        (_a_directory, "is a directory"),
        (_under_a_file, "is not a directory"),
    ],
)
def test_an_output_that_cannot_be_written_exits_2_in_one_line_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, where, why: str
) -> None:
    path = where(tmp_path)
    with pod() as backend:
        code = main([backend.url, "--count", "3", "--interval", "0.01", option, str(path)])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith(f"probe: error: {option} {path}: ") and why in captured.err
    assert backend.hosts == [], "a request was sent before the output paths were checked"
    assert captured.out == ""


def test_two_outputs_on_one_file_are_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = tmp_path / "out"
    with pod() as backend:
        code = main([backend.url, "--count", "2", "--log", str(same), "--picture", str(same)])
    assert code == 2
    assert "--log writes the same file" in capsys.readouterr().err
    assert backend.hosts == []


def test_outputs_that_vanish_during_a_clean_run_warn_and_keep_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "artifacts"
    out.mkdir()
    picture, markdown = out / "t.png", out / "s.md"

    def remove_the_directory(record: Record) -> None:
        if record.seq == 1:
            out.rmdir()

    with pod() as backend:
        code = main(
            [backend.url, "--count", "3", "--interval", "0.01",
             "--picture", str(picture), "--summary-markdown", str(markdown)],
            on_record=remove_the_directory,
        )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "PASS: 3 requests, none failed" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert [line.split(":", 2)[1].strip() for line in warnings] == [
        f"--summary-markdown {markdown}",
        f"--picture {picture}",
    ]
    assert all("not written" in line for line in warnings)


def test_one_request_reads_in_the_singular_and_the_window_is_utc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, markdown = tmp_path / "log.jsonl", tmp_path / "s.md"
    with pod() as backend:
        code = main(
            [backend.url, "--count", "1", "--log", str(log), "--summary-markdown", str(markdown),
             "--cluster", "green=10.241.0.0/16"]
        )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "PASS: 1 request, none failed" in out
    assert "(1 answer," in out
    (record,) = read_log(log)
    window = next(line for line in out.splitlines() if line.strip().startswith("window"))
    start, end = window.split()[1], window.split()[3]
    assert start == record.at and window.endswith("(UTC)")
    elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    assert elapsed.total_seconds() == pytest.approx(record.latency_ms / 1000, abs=0.002)
    assert f"| Start and end | {start} to {end} (UTC) |" in markdown.read_text()


def test_a_refused_request_is_a_failure_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    with pod() as backend:
        url = backend.url
    # The server is closed: the port refuses connections.
    assert main([url, "--count", "1", "--timeout", "0.5"]) == 1
    assert "FAIL: 1 of 1 request failed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "pattern", ["10.240.0.0/33", "10.240.0/16", "300.1.1.1/8", "10.240.0.0/", "fd00::/8"]
)
def test_a_cluster_pattern_written_as_a_network_must_be_a_valid_ipv4_one(
    pattern: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["http://127.0.0.1:9/", "--count", "1", "--cluster", f"blue={pattern}"])
    assert exit_info.value.code == 2
    assert f"'{pattern}' reads as a network but is not an IPv4 one" in capsys.readouterr().err


def test_a_regex_with_a_slash_is_still_a_regex() -> None:
    from probe.attribution import Rule

    assert Rule.parse(r"blue=pods/blue-\d").matches("served by pods/blue-7")


def _records() -> list[Record]:
    """Answers at 20-40 ms, then refused connections (microseconds) to the end of the run."""
    records = []
    for seq in range(1, 41):
        refused = seq > 30
        records.append(
            Record(
                seq=seq,
                t=seq * 0.1,
                at=f"2026-12-02T06:00:{seq:02d}.000Z",
                latency_ms=0.02 if refused else 20 + seq % 3 * 10,
                kind="refused" if refused else "ok",
                status=None if refused else 200,
                cluster=None if refused else "blue",
                detail="connection refused" if refused else None,
            )
        )
    return records


def test_refused_connections_stay_off_the_latency_axis() -> None:
    from matplotlib import pyplot as plt

    from probe.picture import figure

    records = _records()
    fig = figure(records, summarize(records, "http://gw/", "count"), "refusals")
    try:
        top = fig.axes[0]
        # Drawn at their 0.02 ms, the refusals would pull the log axis down two decades.
        assert top.get_ylim()[0] > 5
        (refused,) = [c for c in top.collections if c.get_label().startswith("refused")]
        assert refused.get_transform() != top.transData
        assert len(refused.get_offsets()) == 10
    finally:
        plt.close(fig)


def test_the_pictures_labels_do_not_overlap_its_legend() -> None:
    from matplotlib import pyplot as plt

    from probe.picture import figure

    # The longest failure run ends at the very end of the run, where its label used to start.
    records = _records()
    fig = figure(records, summarize(records, "http://gw/", "count"), "a run ending in failures")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legend = fig.axes[0].get_legend().get_window_extent(renderer)
        texts = [t for ax in fig.axes for t in ax.texts] + [fig.axes[0].title]
        for text in texts:
            if text.get_text():
                assert not text.get_window_extent(renderer).overlaps(legend), text.get_text()
        assert any(
            "longest failure run: 10" in t.get_text() for t in fig.axes[0].get_legend().texts
        )
        # The legend is inside the picture, not cut off at its right edge.
        assert legend.x1 <= fig.bbox.x1 and legend.y1 <= fig.bbox.y1
    finally:
        plt.close(fig)


def test_markdown_summary_names_its_window() -> None:
    records = _records()
    text = render_markdown(summarize(records, "http://gw/", "count"), "t")
    assert "| Start and end | 2026-12-02T06:00:01.000Z to " in text

"""What a probe run saw, computed from its records alone (so the log reproduces it exactly).

Latency percentiles are nearest-rank over the requests that got an HTTP answer (accepted or
not); a timeout or a refused connection has no latency of an answer and is counted by kind
instead. The longest failure streak is the longest run of consecutive failed requests; its
window runs from the start of its first request to the end of its last. Attribution segments
are runs of consecutive accepted answers from one cluster; failed requests neither end nor join
them (a gateway's 502 page names no cluster).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from probe.classify import FAILURE_KINDS
from probe.record import Record

ENDINGS = {
    "count": "the request count was reached",
    "duration": "the duration was reached",
    "stopped": "stopped by a signal",
    "settled": "stopped after the expected cluster answered steadily",
    "settle-timeout": "stopped: the expected cluster did not answer steadily in time",
    "unattributed": "stopped: the answers name no cluster, so settling cannot be observed",
    "killed": "the probe was killed; summary rebuilt from its log",
}


@dataclass(frozen=True)
class Streak:
    length: int
    first_seq: int
    last_seq: int
    start: float
    end: float
    start_at: str
    kinds: dict[str, int]


@dataclass(frozen=True)
class Segment:
    cluster: str
    first_seq: int
    last_seq: int
    answers: int
    start: float
    end: float


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True)
class Summary:
    url: str
    requests: int
    failed: int
    by_kind: dict[str, int]
    failed_statuses: dict[int, int]
    longest_streak: Streak | None
    latency_ms: Latency | None
    clusters: dict[str, int]
    segments: tuple[Segment, ...]
    duration: float
    started_at: str | None
    ended_by: str
    settle_cluster: str | None
    # Wall-clock end of the last request, UTC, in the form of `started_at`.
    ended_at: str | None = None

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["failed_statuses"] = {str(k): v for k, v in self.failed_statuses.items()}
        return data


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(
    records: Sequence[Record], url: str, ended_by: str, settle_cluster: str | None = None
) -> Summary:
    failures = [r for r in records if not r.ok]
    by_kind = {kind: 0 for kind in FAILURE_KINDS}
    by_kind.update(Counter(r.kind for r in failures))
    statuses = Counter(r.status for r in failures if r.kind == "status" and r.status is not None)
    answered = sorted(r.latency_ms for r in records if r.answered)
    latency = (
        Latency(
            p50=nearest_rank(answered, 50),
            p95=nearest_rank(answered, 95),
            p99=nearest_rank(answered, 99),
            max=answered[-1],
        )
        if answered
        else None
    )
    clusters = Counter(r.cluster for r in records if r.ok and r.cluster is not None)
    return Summary(
        url=url,
        requests=len(records),
        failed=len(failures),
        by_kind=by_kind,
        failed_statuses=dict(sorted(statuses.items())),
        longest_streak=_longest_streak(records),
        latency_ms=latency,
        clusters=dict(sorted(clusters.items())),
        segments=_segments(records),
        duration=round(records[-1].end - records[0].t, 6) if records else 0.0,
        started_at=records[0].at if records else None,
        ended_by=ended_by,
        settle_cluster=settle_cluster,
        ended_at=_ended_at(records),
    )


def _ended_at(records: Sequence[Record]) -> str | None:
    """The wall-clock end of the run: its start plus the monotonic time to the last answer."""
    if not records:
        return None
    start = datetime.fromisoformat(records[0].at.replace("Z", "+00:00"))
    end = start + timedelta(seconds=max(r.end for r in records) - records[0].t)
    return end.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _longest_streak(records: Sequence[Record]) -> Streak | None:
    best: list[Record] = []
    run: list[Record] = []
    for record in records:
        if record.ok:
            run = []
            continue
        run.append(record)
        if len(run) > len(best):
            best = list(run)
    if not best:
        return None
    return Streak(
        length=len(best),
        first_seq=best[0].seq,
        last_seq=best[-1].seq,
        start=best[0].t,
        end=round(best[-1].end, 6),
        start_at=best[0].at,
        kinds=dict(Counter(r.kind for r in best)),
    )


def _segments(records: Sequence[Record]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for record in records:
        if not record.ok or record.cluster is None:
            continue
        last = segments[-1] if segments else None
        if last is not None and last.cluster == record.cluster:
            segments[-1] = Segment(
                cluster=last.cluster,
                first_seq=last.first_seq,
                last_seq=record.seq,
                answers=last.answers + 1,
                start=last.start,
                end=round(record.end, 6),
            )
        else:
            segments.append(
                Segment(record.cluster, record.seq, record.seq, 1, record.t, round(record.end, 6))
            )
    return tuple(segments)


# --- rendering -------------------------------------------------------------------------------


def _kinds(summary: Summary) -> str:
    parts = []
    for kind in FAILURE_KINDS:
        count = summary.by_kind.get(kind, 0)
        if kind == "status" and summary.failed_statuses:
            codes = ", ".join(f"{code} x{n}" for code, n in summary.failed_statuses.items())
            parts.append(f"status {count} ({codes})")
        else:
            parts.append(f"{kind} {count}")
    return ", ".join(parts)


def _streak(summary: Summary) -> str:
    s = summary.longest_streak
    if s is None:
        return "none"
    return (
        f"{plural(s.length, 'request')} (#{s.first_seq}-#{s.last_seq}), "
        f"{s.start:.3f}-{s.end:.3f} s after start, from {s.start_at}"
    )


def _latency(summary: Summary) -> str:
    lat = summary.latency_ms
    if lat is None:
        return "no answers"
    return f"p50 {lat.p50:.1f} ms, p95 {lat.p95:.1f} ms, p99 {lat.p99:.1f} ms, max {lat.max:.1f} ms"


def _timeline(summary: Summary) -> list[str]:
    return [
        f"{seg.cluster} #{seg.first_seq}-#{seg.last_seq} ({plural(seg.answers, 'answer')}, "
        f"{seg.start:.3f}-{seg.end:.3f} s)"
        for seg in summary.segments
    ]


def _ending(summary: Summary) -> str:
    return ENDINGS.get(summary.ended_by, summary.ended_by)


def _window(summary: Summary) -> str:
    """Start and end in UTC, as Log Analytics' TimeGenerated reads them."""
    if summary.started_at is None:
        return "no requests"
    return f"{summary.started_at} to {summary.ended_at} (UTC)"


def verdict(summary: Summary) -> str:
    if summary.passed:
        return f"PASS: {plural(summary.requests, 'request')}, none failed"
    return f"FAIL: {summary.failed} of {plural(summary.requests, 'request')} failed"


def render_text(summary: Summary) -> str:
    lines = [
        f"probe {summary.url}: {verdict(summary)}",
        f"  duration      {summary.duration:.3f} s ({_ending(summary)})",
        f"  window        {_window(summary)}",
        f"  failures      {_kinds(summary)}",
        f"  longest run   {_streak(summary)}",
        f"  latency       {_latency(summary)}",
    ]
    if summary.clusters:
        counts = ", ".join(f"{c} {n}" for c, n in summary.clusters.items())
        lines.append(f"  answered by   {counts}")
        lines.extend(f"    {line}" for line in _timeline(summary))
    else:
        lines.append("  answered by   (no --cluster rules: not attributed)")
    if summary.settle_cluster:
        lines.append(f"  settle on     {summary.settle_cluster}: {summary.ended_by}")
    return "\n".join(lines) + "\n"


def render_markdown(summary: Summary, title: str) -> str:
    icon = "✅" if summary.passed else "❌"
    rows = [
        ("Requests", str(summary.requests)),
        ("Failed", str(summary.failed)),
        ("Failures by kind", _kinds(summary)),
        ("Longest failure run", _streak(summary)),
        ("Latency of answers", _latency(summary)),
        ("Duration", f"{summary.duration:.3f} s, {_ending(summary)}"),
        ("Start and end", _window(summary)),
    ]
    if summary.clusters:
        rows.append(("Answered by", "<br>".join(_timeline(summary))))
    lines = [f"### {icon} {title}", "", f"`{summary.url}`: {verdict(summary)}", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines) + "\n"

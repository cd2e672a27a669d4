"""The timeline picture of a probe run, two panels over one time axis:

- above, the latency of every request (log scale, so a 2 ms answer and a 2 s timeout both
  show), answers coloured by the cluster that served them, failures marked in red by kind, the
  longest failure run shaded; a refused connection or a request that never reached the server
  has no latency to speak of, so it is a tick on the panel's floor, not a point on its axis;
- every label sits in the legend, beside the panel, so none covers a point or another label;
- below, one row per cluster and one for failures: which cluster answered when, so a cut-over
  reads as the dots moving from one row to the other.

matplotlib draws it with the Agg backend (a PNG, no display needed on a CI runner); it is
imported only when a picture is asked for, so the probe starts fast without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from probe.attribution import UNKNOWN
from probe.record import Record
from probe.summary import Summary, verdict

_NAMED = {"blue": "#1f77b4", "green": "#2ca02c"}
_OTHERS = ("#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
_UNATTRIBUTED = "#7f7f7f"
_FAILURE_MARKERS = {"status": "X", "timeout": "v", "refused": "s", "reset": "D", "error": "*"}
_FAILURE_COLOR = "#d62728"
# Failures whose time is how fast the client gave up, not how the gateway answered.
_NO_LATENCY = ("refused", "error")
# A reset can come in microseconds; the log axis needs a floor.
_FLOOR_MS = 0.1


def cluster_colors(labels: Sequence[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    spare = iter(_OTHERS)
    for label in labels:
        if label == UNKNOWN:
            colors[label] = _UNATTRIBUTED
        else:
            colors[label] = _NAMED.get(label.lower()) or next(spare, _UNATTRIBUTED)
    return colors


def draw(records: Sequence[Record], summary: Summary, path: Path, title: str) -> None:
    fig = figure(records, summary, title)
    from matplotlib import pyplot as plt

    try:
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def figure(records: Sequence[Record], summary: Summary, title: str) -> Any:
    """The picture as a matplotlib Figure, laid out; the caller closes it."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (top, strip) = plt.subplots(
        2, 1, figsize=(12, 6), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    try:
        labels = list(dict.fromkeys(r.cluster or UNKNOWN for r in records if r.ok))
        colors = cluster_colors(labels)
        rows = {label: i for i, label in enumerate(reversed(labels), start=1)}
        _latency_panel(top, records, labels, colors)
        _cluster_strip(strip, records, labels, colors, rows)
        streak = summary.longest_streak
        if streak is not None:
            for ax in (top, strip):
                ax.axvspan(
                    streak.start,
                    streak.end,
                    color=_FAILURE_COLOR,
                    alpha=0.12,
                    zorder=0,
                    label=f"longest failure run: {streak.length} "
                    f"({streak.end - streak.start:.2f} s)"
                    if ax is top
                    else None,
                )
        if records:
            top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="requests")
        top.set_title(f"{title}\n{verdict(summary)}", fontsize=10)
        strip.set_xlabel("seconds since start")
        strip.set_xlim(left=0, right=max((r.end for r in records), default=1.0) * 1.01)
        fig.tight_layout()
    except BaseException:
        plt.close(fig)
        raise
    return fig


def _latency_panel(
    ax: Any, records: Sequence[Record], labels: list[str], colors: dict[str, str]
) -> None:
    def y(r: Record) -> float:
        return max(r.latency_ms, _FLOOR_MS)

    timed = [r for r in records if r.kind not in _NO_LATENCY]
    if timed:
        ax.plot([r.t for r in timed], [y(r) for r in timed], color="#dddddd", lw=0.7, zorder=1)
    for label in labels:
        points = [r for r in records if r.ok and (r.cluster or UNKNOWN) == label]
        name = "answered" if label == UNKNOWN and len(labels) == 1 else label
        ax.scatter(
            [r.t for r in points],
            [y(r) for r in points],
            s=12,
            color=colors[label],
            zorder=2,
            label=f"{name} ({len(points)})",
        )
    for kind, marker in _FAILURE_MARKERS.items():
        points = [r for r in records if r.kind == kind]
        if not points:
            continue
        if kind in _NO_LATENCY:
            # Ticks on the floor of the panel (axes coordinates), off the latency scale.
            ax.scatter(
                [r.t for r in points],
                [0.03] * len(points),
                s=46,
                marker="|",
                color=_FAILURE_COLOR,
                zorder=3,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label=f"{kind} ({len(points)}), no latency",
            )
            continue
        ax.scatter(
            [r.t for r in points],
            [y(r) for r in points],
            s=46,
            marker=marker,
            color=_FAILURE_COLOR,
            zorder=3,
            label=f"{kind} ({len(points)})",
        )
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    # 1, 2, 5, 10, 20, 50 ms...: plain numbers, not powers of ten.
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("latency (ms, log)")
    ax.grid(True, which="major", color="#eeeeee")


def _cluster_strip(
    ax: Any,
    records: Sequence[Record],
    labels: list[str],
    colors: dict[str, str],
    rows: dict[str, int],
) -> None:
    for label in labels:
        points = [r for r in records if r.ok and (r.cluster or UNKNOWN) == label]
        ax.scatter([r.t for r in points], [rows[label]] * len(points), s=10, color=colors[label])
    for kind, marker in _FAILURE_MARKERS.items():
        points = [r for r in records if r.kind == kind]
        ax.scatter(
            [r.t for r in points], [0] * len(points), s=30, marker=marker, color=_FAILURE_COLOR
        )
    ticks = {0: "failed", **{row: label for label, row in rows.items()}}
    ax.set_yticks(list(ticks), list(ticks.values()), fontsize=8)
    ax.set_ylim(-0.6, len(rows) + 0.6)
    ax.set_ylabel("answered by", fontsize=9)
    ax.grid(True, axis="x", color="#eeeeee")

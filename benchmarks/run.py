"""Prints wall time (median of N) and peak memory of the offline plan, its floor, and the tests.

    .venv/bin/python benchmarks/run.py [--runs 5] [--suite] [--scale 1,50,100]

Targets: the plan within 2x the floor, at 50 apps too, and linear in the number of apps; the
test suite under 60 s. `--scale` plans the sample flip with that many apps in the stack (each
its own path) and prints the time per app. Figures, not assertions: they depend on the
machine, so they are printed for a person to read, never tested.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measure(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one run of `argv`.

    CPU time (user + system, the process and its forked children) is printed beside wall time:
    on a machine shared with other work, wall time grows with the load and CPU time much less.
    """
    start = time.perf_counter()
    before = os.times()
    pid = os.posix_spawn(argv[0], argv, dict(os.environ, PYTHONDONTWRITEBYTECODE="0"))
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    after = os.times()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed with {os.waitstatus_to_exitcode(status)}")
    # The plan's forked child is reaped by the plan itself: os.times() counts it, and the
    # spawned process, among this process's waited-for children.
    cpu = (
        after.children_user + after.children_system - before.children_user - before.children_system
    )
    return wall, cpu, usage.ru_maxrss // 1024


def measure_all(
    cases: dict[str, list[str]], runs: int
) -> dict[str, tuple[float, float, float, int]]:
    """(median s, min s, median CPU s, peak MiB) of each case over `runs` rounds.

    Each round runs every case once, in turn, so a slow spell of a shared machine falls on all
    of them alike rather than on whichever case ran then: the figures are read as ratios.
    """
    seen: dict[str, list[tuple[float, float, int]]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, argv in cases.items():
            seen[label].append(measure(argv))
    return {
        label: (
            statistics.median(wall for wall, _, _ in found),
            min(wall for wall, _, _ in found),
            statistics.median(cpu for _, cpu, _ in found),
            max(peak for _, _, peak in found),
        )
        for label, found in seen.items()
    }


def scaled_stacks(apps: int, into: Path) -> tuple[Path, Path]:
    """The sample blue and green stack files with `apps` apps, each routed on its own path."""
    files = []
    for color in ("blue", "green"):
        document = yaml.safe_load((ROOT / f"Pulumi.{color}.yaml").read_text())
        sample = document["config"]["aks-bluegreen:workloads"][0]
        document["config"]["aks-bluegreen:workloads"] = [
            dict(sample, name=f"app{index}", path=f"/app{index}") if index else sample
            for index in range(apps)
        ]
        path = into / str(apps) / f"Pulumi.{color}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        files.append(path)
    return files[0], files[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    parser.add_argument(
        "--scale",
        metavar="N,N,...",
        help="also plan the sample flip with this many apps each, e.g. 1,50,100",
    )
    args = parser.parse_args()
    os.chdir(ROOT)
    scratch = tempfile.TemporaryDirectory()
    quiet = ["--format", "text"]
    cases = {
        "floor (import SDKs, register 1 resource)": [PY, "benchmarks/floor.py"],
        "floor, lazy SDK import only": [PY, "benchmarks/floor.py", "--lazy"],
        "plan blue -> green, policies on": [PY, "-m", "plan", *quiet],
        "plan blue -> green, policies off": [PY, "-m", "plan", *quiet, "--no-policies"],
    }
    scale = [int(n) for n in args.scale.split(",")] if args.scale else []
    for apps in scale:
        base, head = scaled_stacks(apps, Path(scratch.name))
        cases[f"plan blue -> green, {apps} apps"] = [PY, "-m", "plan", str(base), str(head), *quiet]
    if args.suite:
        cases["test suite (pytest)"] = [PY, "-m", "pytest", "-q", "-p", "no:randomly"]
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1), os.dup2(devnull, 2)
    try:
        results = measure_all(cases, args.runs)
    finally:
        os.dup2(saved[0], 1), os.dup2(saved[1], 2)
    floor = results["floor (import SDKs, register 1 resource)"][0]
    print(f"{'case':<45} {'median s':>9} {'min s':>7} {'x floor':>8} {'cpu s':>7} {'peak MiB':>9}")
    for label, (median, fastest, cpu, peak) in results.items():
        print(
            f"{label:<45} {median:>9.2f} {fastest:>7.2f} {median / floor:>8.2f} {cpu:>7.2f} "
            f"{peak:>9}"
        )
    # Per app between each pair of sizes: equal figures for 1 -> 50 and 50 -> 100 mean linear.
    sizes = sorted(set(scale))
    for few, many in itertools.pairwise(sizes):
        first = results[f"plan blue -> green, {few} apps"]
        last = results[f"plan blue -> green, {many} apps"]
        print(
            f"per app ({few} -> {many} apps): {(last[0] - first[0]) / (many - few) * 1000:.1f} ms "
            f"wall, {(last[2] - first[2]) / (many - few) * 1000:.1f} ms CPU"
        )
    python = sys.version.split()[0]
    print(f"({args.runs} rounds of every case in turn, {os.cpu_count()} cores, Python {python})")
    scratch.cleanup()


if __name__ == "__main__":
    main()

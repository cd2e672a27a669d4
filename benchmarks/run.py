"""Prints wall time (median of N) and peak memory of the offline plan, its floor, and the tests.

    .venv/bin/python benchmarks/run.py [--runs 5] [--suite]

Targets: the plan within 2x the floor; the test suite under 60 s. Figures, not assertions:
they depend on the machine, so they are printed for a person to read, never tested.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def measure(argv: list[str], runs: int) -> tuple[float, float, int]:
    """(median seconds, min seconds, peak RSS in MiB) of `argv` over `runs` runs."""
    times: list[float] = []
    peak_kib = 0
    for _ in range(runs):
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, dict(os.environ, PYTHONDONTWRITEBYTECODE="0"))
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed with {os.waitstatus_to_exitcode(status)}")
        peak_kib = max(peak_kib, usage.ru_maxrss)
    return statistics.median(times), min(times), peak_kib // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite")
    args = parser.parse_args()
    os.chdir(ROOT)
    quiet = ["--format", "text"]
    cases = {
        "floor (import SDKs, register 1 resource)": [PY, "benchmarks/floor.py"],
        "floor, lazy SDK import only": [PY, "benchmarks/floor.py", "--lazy"],
        "plan blue -> green, policies on": [PY, "-m", "plan", *quiet],
        "plan blue -> green, policies off": [PY, "-m", "plan", *quiet, "--no-policies"],
    }
    if args.suite:
        cases["test suite (pytest)"] = [PY, "-m", "pytest", "-q", "-p", "no:randomly"]
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    results: dict[str, tuple[float, float, int]] = {}
    for label, argv in cases.items():
        os.dup2(devnull, 1), os.dup2(devnull, 2)
        try:
            results[label] = measure(argv, args.runs)
        finally:
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
    floor = results["floor (import SDKs, register 1 resource)"][0]
    print(f"{'case':<45} {'median s':>9} {'min s':>7} {'x floor':>8} {'peak MiB':>9}")
    for label, (median, fastest, peak) in results.items():
        print(f"{label:<45} {median:>9.2f} {fastest:>7.2f} {median / floor:>8.2f} {peak:>9}")
    print(f"({args.runs} runs each, {os.cpu_count()} cores, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()

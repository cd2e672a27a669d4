"""bin/mutate [MODULE...]: mutation scores of the safety-critical modules, and every survivor.

Run by bin/mutate in .venv-mutate (cosmic-ray's own pins); the tests run in .venv.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mutation.report import score
from mutation.session import run
from mutation.targets import chosen

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="bin/mutate", description=__doc__)
    parser.add_argument("modules", nargs="*", help="e.g. live_gateway/serving.py; all if none")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument(
        "--fail-under",
        type=float,
        default=None,
        help="exit 1 if a module kills less than this percentage of non-equivalent mutants",
    )
    parser.add_argument(
        "--sessions",
        type=Path,
        default=ROOT / ".mutation",
        help="where the session databases go (default .mutation/), e.g. for two runs at once",
    )
    args = parser.parse_args()
    python = ROOT / ".venv" / "bin" / "python"
    sessions = args.sessions.resolve()
    scores = []
    for target in chosen(args.modules):
        started = time.monotonic()
        database = run(target, ROOT, sessions, python, max(1, args.jobs))
        result = score(database, target.module, ROOT)
        print(f"{result.line()} in {time.monotonic() - started:.0f} s", flush=True)
        for survivor in result.survivors:
            print(survivor, flush=True)
        scores.append(result)
    print("\nscores:")
    for result in scores:
        print(f"  {result.line()}")
    if args.fail_under is not None and any(s.percent < args.fail_under for s in scores):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

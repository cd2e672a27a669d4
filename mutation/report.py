"""A session's score and its surviving mutants, from cosmic-ray's session database."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome

from mutation.equivalent import reason


@dataclass(frozen=True)
class Survivor:
    module: str
    line: int
    operator: str
    before: str
    after: str
    why_equivalent: str | None

    def __str__(self) -> str:
        where = f"{self.module}:{self.line}"
        change = f"{self.before.strip()}  ->  {self.after.strip()}"
        text = f"  {where}  {self.operator.removeprefix('core/')}\n      {change}"
        return text + (f"\n      equivalent: {self.why_equivalent}" if self.why_equivalent else "")


@dataclass
class Score:
    module: str
    killed: int = 0
    skipped: int = 0
    incompetent: int = 0
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def equivalent(self) -> list[Survivor]:
        return [s for s in self.survivors if s.why_equivalent]

    @property
    def alive(self) -> list[Survivor]:
        return [s for s in self.survivors if not s.why_equivalent]

    @property
    def percent(self) -> float:
        judged = self.killed + len(self.alive)
        return 100.0 * self.killed / judged if judged else 100.0

    def line(self) -> str:
        return (
            f"{self.module}: {self.percent:.1f}% killed ({self.killed} of "
            f"{self.killed + len(self.alive)} non-equivalent; {len(self.equivalent)} equivalent "
            f"survivors, {self.skipped} in annotations not run, {self.incompetent} incompetent)"
        )


def _changed_lines(diff: list[str] | str | None) -> tuple[str, str]:
    lines = diff.splitlines() if isinstance(diff, str) else list(diff or [])
    before = [x[1:] for x in lines if x.startswith("-") and not x.startswith("---")]
    after = [x[1:] for x in lines if x.startswith("+") and not x.startswith("+++")]
    return " / ".join(before), " / ".join(after)


def score(database: Path, module: str, tree: Path) -> Score:
    source = (tree / module).read_text().splitlines()
    result = Score(module)
    with use_db(str(database), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                result.skipped += 1
            elif outcome.worker_outcome != WorkerOutcome.NORMAL:
                # No mutation possible, or the worker itself broke: no verdict on the tests.
                result.incompetent += 1
            elif outcome.test_outcome == TestOutcome.KILLED:
                result.killed += 1
            elif outcome.test_outcome == TestOutcome.INCOMPETENT:
                result.incompetent += 1
            else:
                mutation = item.mutations[0]
                line = mutation.start_pos[0]
                before, after = _changed_lines(outcome.diff)
                why = reason(module, mutation.operator_name, source[line - 1], after)
                result.survivors.append(
                    Survivor(module, line, mutation.operator_name, before, after, why)
                )
    result.survivors.sort(key=lambda s: (s.line, s.operator))
    return result

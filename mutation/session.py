"""One module's mutation session: cosmic-ray's mutants, each tested in a copy of the tree.

cosmic-ray writes each mutant into the module on disk and runs the test command, so the runs
happen in throwaway copies of the working tree, never in it: a test run or an edit in the tree
meanwhile sees no mutant. Each worker owns one copy, so `jobs` mutants are tested at once.
"""

from __future__ import annotations

import multiprocessing
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cosmic_ray.commands import init
from cosmic_ray.mutating import mutate_and_test
from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkItem, WorkResult

from mutation.equivalent import annotation_spans, in_annotation
from mutation.targets import Target

# A mutant whose tests run this many times longer than the unmutated baseline is looping:
# cosmic-ray counts a timeout as killed.
TIMEOUT_FACTOR = 10
TIMEOUT_FLOOR_SECONDS = 30.0


def test_command(python: Path, target: Target) -> str:
    # One process, stop at the first failure: the suite's `-n 2` (pyproject addopts) would start
    # two workers for every mutant, and the first failing test is enough to kill it.
    pytest = [str(python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    return shlex.join([*pytest, "-p", "no:xdist", "-o", "addopts=", *target.tests])


def copy_tree(root: Path, into: Path) -> None:
    """The working tree as it is, tracked and untracked files alike, without what git ignores."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = root / name
        if source.is_file():  # a tracked file deleted in the tree is not copied
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)


@contextmanager
def _inside(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _skip_annotations(db: WorkDB, tree: Path, target: Target) -> None:
    spans = annotation_spans(tree / target.module)
    skipped = [
        item.job_id
        for item in db.pending_work_items
        if all(in_annotation(spans, m.start_pos, m.end_pos) for m in item.mutations)
    ]
    if skipped:
        db.set_multiple_results(
            skipped,
            WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="in an annotation"),
        )


def _baseline(command: str, tree: Path) -> float:
    started = time.monotonic()
    with _inside(tree):
        done = subprocess.run(shlex.split(command), capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"bin/mutate: the tests fail before any mutation ({command}):\n"
            f"{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return time.monotonic() - started


_worker_tree: Path | None = None


def _enter(trees: multiprocessing.Queue[Path]) -> None:
    global _worker_tree
    _worker_tree = trees.get()
    os.chdir(_worker_tree)


def _test(job: tuple[WorkItem, str, float]) -> tuple[str, WorkResult]:
    item, command, timeout = job
    return item.job_id, mutate_and_test(item.mutations, command, timeout)


def run(target: Target, root: Path, sessions: Path, python: Path, jobs: int) -> Path:
    """Runs every mutant of `target` not yet tested; returns the session database."""
    sessions.mkdir(parents=True, exist_ok=True)
    database = sessions / (target.module.replace("/", ".") + ".sqlite")
    command = test_command(python, target)
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        trees = [Path(scratch) / f"tree{n}" for n in range(jobs)]
        for tree in trees:
            copy_tree(root, tree)
        seconds = _baseline(command, trees[0])
        timeout = max(TIMEOUT_FLOOR_SECONDS, TIMEOUT_FACTOR * seconds)
        with use_db(str(database)) as db:
            with _inside(trees[0]):
                init([Path(target.module)], db, {})
            _skip_annotations(db, trees[0], target)
            pending = db.pending_work_items
            print(
                f"{target.module}: {len(pending)} mutants, tests {seconds:.1f} s unmutated "
                f"({' '.join(target.tests)}), {jobs} at a time",
                flush=True,
            )
            context = multiprocessing.get_context("fork")
            queue: multiprocessing.Queue[Path] = context.Queue()
            for tree in trees:
                queue.put(tree)
            with context.Pool(jobs, initializer=_enter, initargs=(queue,)) as pool:
                work = [(item, command, timeout) for item in pending]
                for done, (job_id, result) in enumerate(pool.imap_unordered(_test, work), 1):
                    db.set_result(job_id, result)
                    if done % 25 == 0:
                        print(f"  {done}/{len(work)}", flush=True)
    return database

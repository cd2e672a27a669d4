#!/usr/bin/env python3
"""Print, as a JSON list for a GitHub Actions matrix, the stacks whose Pulumi.<stack>.yaml changed.

    python3 scripts/changed_stacks.py BASE [HEAD] [--include-samples] [--all-on-program-change]

A stack counts as changed when its stack file at the repository root was added or modified
between the merge base of BASE and HEAD, and HEAD (default HEAD). The merge base, not BASE itself,
so a pull request is compared with the commit it branched from and changes that landed on the base
branch since then are not reported as the pull request's.

- A deleted stack file is never reported: there is nothing left to preview or deploy, and tearing
  an environment down is a deliberate `pulumi destroy` + `pulumi stack rm`, not a side effect of a
  merge. It is named on stderr so the log says why it was skipped.
- Pulumi.blue.yaml and Pulumi.green.yaml are the samples: documentation of the two positions of
  the switch, not deployed environments. They are left out unless --include-samples is given.
- With --all-on-program-change, a change to the program every stack runs (Pulumi.yaml, every
  Python module at the root such as __main__.py, config/,
  components/, live_gateway/, policies/, requirements.txt, requirements.lock) reports every stack
  file present at HEAD: such a change reaches every environment, so every one must be previewed.
  tests/test_workflows.py derives the program's files from what __main__.py and the policy pack
  import and fails when one is not covered here.
- BASE may be the all-zero SHA GitHub sends for a push that created the branch: then every stack
  file at HEAD is new.

The output is compact JSON (`[]` when nothing changed) so a workflow can compare it with '[]'.
Exit status: 0 on success, 2 on a git error or a stack file whose name is not a valid stack name.
Standard library only: it runs on a bare runner before any dependency is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SAMPLE_STACKS = frozenset({"blue", "green"})

# Stack files live at the repository root only: that is where `pulumi` looks for them.
STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[^/]+)\.yaml\Z")
# Pulumi allows letters, digits, '-', '_' and '.'; a leading letter or digit is also required here
# so a name can never read as a command-line option once it reaches `./bin/plan --stack NAME`.
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")

# What `pulumi up` runs for every stack: a change here reaches every environment. Every Python
# module at the root is the program's (__main__.py imports them by name), as the workflows'
# `"*.py"` path filter has it.
PROGRAM_FILES = frozenset({"Pulumi.yaml", "requirements.txt", "requirements.lock"})
PROGRAM_DIRS = ("config/", "components/", "live_gateway/", "plan/", "policies/")

# GitHub's `before` for a push that created the branch.
NULL_SHA = re.compile(r"^0+\Z")


class GitError(Exception):
    """A git command failed; the message is git's own, for the workflow log."""


@dataclass
class Changes:
    """Stack names by what happened to their file, plus whether the program itself changed."""

    changed: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    program_changed: bool = False


def git(*args: str) -> str:
    """Run git in the current directory and return its stdout."""
    proc = subprocess.run(
        # core.quotepath=off keeps non-ASCII names verbatim in messages (paths come from -z).
        ["git", "-c", "core.quotepath=off", *args],
        input="",  # never inherit stdin; also the empty content `hash-object --stdin` hashes
        capture_output=True,
        encoding="utf-8",
        # A name that is not UTF-8 survives decoding and is then refused as a stack name.
        errors="surrogateescape",
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'}")
    return proc.stdout


def resolve_base(base: str, head: str) -> str:
    """The tree-ish to diff HEAD against: the merge base of BASE and HEAD, or the empty tree."""
    if NULL_SHA.match(base):
        # No previous commit: diff against the empty tree, so every file at HEAD is "added".
        # Hash it rather than hard-code it, so SHA-256 repositories work too.
        return git("hash-object", "-t", "tree", "--stdin").strip()
    try:
        return git("merge-base", base, head).strip()
    except GitError as err:
        raise GitError(
            f"{err}\nno merge base of {base!r} and {head!r}: is the history fetched "
            "(actions/checkout with fetch-depth: 0)?"
        ) from err


def stack_of(path: str) -> str | None:
    """The stack name of a root-level stack file path, or None for any other path."""
    match = STACK_FILE.match(path)
    return match.group("stack") if match else None


def is_program_path(path: str) -> bool:
    root_module = "/" not in path and path.endswith(".py")
    return root_module or path in PROGRAM_FILES or path.startswith(PROGRAM_DIRS)


def parse_name_status(output: str) -> Iterable[tuple[str, str]]:
    """Yield (status letter, path) from `git diff --name-status -z --no-renames`."""
    fields = output.split("\0")
    # With --no-renames every entry is exactly "STATUS\0PATH\0"; the output ends with "\0".
    for i in range(0, len(fields) - 1, 2):
        yield fields[i][:1], fields[i + 1]


def classify(entries: Iterable[tuple[str, str]]) -> Changes:
    changes = Changes()
    for status, path in entries:
        if is_program_path(path):
            changes.program_changed = True
        stack = stack_of(path)
        if stack is None:
            continue
        if status == "D":
            # Checked before the name: a badly named file going away harms nothing.
            changes.deleted.add(stack)
        elif not STACK_NAME.match(stack):
            changes.invalid.add(stack)
        else:
            # A (added), M (modified), T (type changed): the file exists at HEAD. A rename
            # cannot appear: --no-renames splits it into a D of the old and an A of the new name.
            changes.changed.add(stack)
    return changes


def stacks_at(head: str) -> set[str]:
    """Every valid stack name with a stack file at the root of HEAD."""
    names = git("ls-tree", "-z", "--name-only", head).split("\0")
    return {s for s in map(stack_of, names) if s is not None and STACK_NAME.match(s)}


def changed_stacks(
    base: str,
    head: str = "HEAD",
    *,
    include_samples: bool = False,
    all_on_program_change: bool = False,
    log: list[str] | None = None,
) -> list[str]:
    """The sorted stack names to preview or deploy; notes for the log are appended to `log`."""
    notes = log if log is not None else []
    since = resolve_base(base, head)
    diff = git("diff", "--name-status", "-z", "--no-renames", since, head, "--")
    changes = classify(parse_name_status(diff))
    if changes.invalid:
        raise ValueError(
            "not a valid stack name (letters, digits, '-', '_', '.'; starting with a letter or "
            "digit): " + ", ".join(f"Pulumi.{s}.yaml" for s in sorted(changes.invalid))
        )
    for stack in sorted(changes.deleted):
        notes.append(
            f"Pulumi.{stack}.yaml was deleted: not previewed or deployed. Retire the stack "
            f"deliberately with `pulumi destroy -s {stack}` then `pulumi stack rm {stack}`."
        )
    selected = set(changes.changed)
    if all_on_program_change and changes.program_changed:
        notes.append("The program changed: every stack at HEAD is selected.")
        selected |= stacks_at(head)
    if not include_samples:
        for stack in sorted(selected & SAMPLE_STACKS):
            notes.append(
                f"Pulumi.{stack}.yaml is a sample (documentation, not an environment): "
                "skipped; pass --include-samples to select it."
            )
        selected -= SAMPLE_STACKS
    return sorted(selected)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print the stacks whose Pulumi.<stack>.yaml changed, as a JSON list."
    )
    parser.add_argument("base", help="base commit or ref: a pull request's base, a push's before")
    parser.add_argument("head", nargs="?", default="HEAD", help="head commit or ref (default HEAD)")
    parser.add_argument(
        "--include-samples",
        action="store_true",
        help="also report the sample stacks blue and green",
    )
    parser.add_argument(
        "--all-on-program-change",
        action="store_true",
        help="report every stack at HEAD when the program, policies or requirements changed",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    notes: list[str] = []
    try:
        stacks = changed_stacks(
            args.base,
            args.head,
            include_samples=args.include_samples,
            all_on_program_change=args.all_on_program_change,
            log=notes,
        )
    except (GitError, ValueError) as err:
        print(f"changed_stacks: {err}", file=sys.stderr)
        return 2
    for note in notes:
        print(note, file=sys.stderr)
    # Compact separators: the workflows test the output against the literal '[]'.
    print(json.dumps(stacks, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

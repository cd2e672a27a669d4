"""The base of a plan taken from git: a stack file as it is at a ref (`--base-ref main`).

A pull request's base is the stack file on its target branch; reading it with `git show
REF:./PATH` (a path starting with `./` is relative to the working directory, gitrevisions(7))
needs no checkout of that branch beside the head.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitBaseError(Exception):
    """The ref or the repository cannot give a base: the message names which and why."""


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args], capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise GitBaseError("--base-ref needs git, and no git is on PATH") from None


def read_at(ref: str, path: Path) -> bytes | None:
    """The content of `path` at `ref`, or None when the file does not exist there (a stack the
    pull request adds)."""
    where = path.resolve().parent
    if not where.is_dir():
        raise GitBaseError(f"{path}: no such directory {path.parent}")
    if ref.startswith("-"):
        raise GitBaseError(f"--base-ref {ref}: a ref cannot start with '-'")
    inside = _git(where, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0:
        raise GitBaseError(f"--base-ref {ref}: {path} is not in a git repository")
    commit = _git(where, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        raise GitBaseError(
            f"--base-ref {ref}: no such branch, tag or commit in this repository "
            "(on CI, fetch it first: git fetch origin main)"
        )
    spec = f"{commit.stdout.decode().strip()}:./{path.name}"
    if _git(where, "cat-file", "-e", spec).returncode != 0:
        return None
    shown = _git(where, "show", spec)
    if shown.returncode != 0:
        message = shown.stderr.decode(errors="replace").strip().splitlines()
        raise GitBaseError(f"--base-ref {ref}: git show {spec}: {message[-1] if message else ''}")
    return shown.stdout

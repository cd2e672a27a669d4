"""The files a probe run writes (--log, --picture, --summary-json, --summary-markdown).

They are checked before the first request: a path that cannot be written found only after a
ten-minute cut-over would lose the measurement, or, worse, turn a clean run into a failure. Once
the run is over, a file that still cannot be written is a warning: the exit status says whether
a request failed, nothing else.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path


def problem_with(path: Path) -> str | None:
    """Why `path` cannot be written as a new or replaced file, or None."""
    if path.is_dir():
        return "is a directory; name a file in it"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        return f"no such directory {parent}; create it first"
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and cannot be written"
    if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create files in {parent}"
    return None


def check(outputs: Mapping[str, Path | None]) -> str | None:
    """The first unusable output as one line (`--log x: why`), or None; `outputs` maps each
    option to its path (None when not given)."""
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        why = problem_with(path)
        if why:
            return f"{option} {path}: {why}"
        same = seen.get(path.resolve())
        if same:
            return f"{option} {path}: {same} writes the same file; give each its own"
        seen[path.resolve()] = option
    if outputs.get("--picture") is not None and importlib.util.find_spec("matplotlib") is None:
        return (
            f"--picture {outputs['--picture']}: matplotlib is not installed; install "
            "probe/requirements.txt or drop --picture"
        )
    return None

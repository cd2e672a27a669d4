"""A python3 older than the pins need stops bin/plan in one line, before any virtualenv exists."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The scripts and pins of a fresh clone, without its .venv."""
    for name in ("bin/venv", "bin/plan", "requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    for pins in ROOT.glob("*/requirements.txt"):
        (tmp_path / pins.parent.name).mkdir()
        shutil.copy2(pins, tmp_path / pins.parent.name)
    return tmp_path


def run_plan(checkout: Path, python3: str | None) -> subprocess.CompletedProcess[str]:
    tools = checkout / "tools"
    tools.mkdir()
    for tool in ("bash", "cat", "sha256sum", "cut", "sort", "head", "dirname", "printf"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    if python3 is not None:
        # Answers the version question the way that python3 would.
        (tools / "python3").write_text(f"#!/bin/sh\necho {python3}\n")
        (tools / "python3").chmod(0o755)
    env = {"PATH": str(tools), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [str(tools / "bash"), str(checkout / "bin" / "plan")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("python3", "shown"), [("3.9", "3.9"), ("3.10", "3.10"), (None, "missing")]
)
def test_too_old_or_missing_python_stops_in_one_line(
    checkout: Path, python3: str | None, shown: str
) -> None:
    result = run_plan(checkout, python3)
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        f"Python 3.11 or newer is needed; python3 is {shown}: install it or put it first on PATH"
    ]
    assert not (checkout / ".venv").exists()


def test_readme_names_the_python_the_scripts_require() -> None:
    assert "required=3.11" in (ROOT / "bin" / "venv").read_text()
    assert "Python 3.11 or newer" in (ROOT / "README.md").read_text()

"""The offline evaluation records what the program registers, and nothing it does not need."""

from __future__ import annotations

import runpy
from dataclasses import asdict
from pathlib import Path

import pytest

import plan.evaluate
from conftest import STACK, sample_config
from plan.evaluate import Evaluation, evaluate


def test_dropping_aliases_changes_no_registration_output_or_invoke(
    blue: Evaluation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session's evaluations run without the SDK's aliases; this one runs with them.
    monkeypatch.setattr(
        plan.evaluate,
        "_run_program",
        lambda main: runpy.run_path(str(Path(main)), run_name="__main__"),
    )
    with_aliases = evaluate(sample_config("blue"), STACK)
    assert {u: asdict(r) for u, r in with_aliases.resources.items()} == {
        u: asdict(r) for u, r in blue.resources.items()
    }
    assert with_aliases.outputs == blue.outputs
    # Invokes run concurrently: the two clusters' credentials may be asked for in either order.
    assert sorted(map(repr, with_aliases.invokes)) == sorted(map(repr, blue.invokes))

"""The offline evaluation records what the program registers, and nothing it does not need.

The shortcuts (plan/shortcuts.py) skip SDK work only an engine reads; an evaluation with them must
record exactly what one without them records: every registration, the outputs, the invokes, the
stack references and the warnings.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from pulumi import _types as sdk_types
from pulumi import log as sdk_log
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource

from conftest import STACK, sample_config, with_overrides
from plan.cloud_mocks import CloudMocks
from plan.evaluate import Evaluation, evaluate
from plan.shortcuts import completed


def _apps(color: str, count: int) -> dict[str, Any]:
    """The sample stack with `count` apps, each on its own path, as benchmarks/run.py scales it."""
    [sample] = sample_config(color)["aks-bluegreen:workloads"]
    apps = [dict(sample, name=f"app{i}", path=f"/app{i}") if i else sample for i in range(count)]
    return with_overrides(color, {"workloads": apps})


def _record(evaluation: Evaluation) -> dict[str, Any]:
    return {
        # Resources register from concurrent tasks, so their order varies from run to run even
        # with the same SDK; the plan orders steps by dependencies, never by registration.
        "resources": {urn: asdict(reg) for urn, reg in evaluation.resources.items()},
        "outputs": evaluation.outputs,
        # Invokes run concurrently: the two clusters' credentials may be asked for in either order.
        "invokes": sorted(map(repr, evaluation.invokes)),
        "stack_references": evaluation.stack_references,
        "warnings": evaluation.warnings,
    }


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(lambda: sample_config("blue"), id="blue"),
        pytest.param(lambda: sample_config("green"), id="green"),
        pytest.param(lambda: _apps("green", 3), id="green-3-apps"),
    ],
)
def test_shortcuts_change_nothing_recorded(config: Any) -> None:
    plain = evaluate(config(), STACK, shortcuts=False)
    quick = evaluate(config(), STACK)
    assert len(plain.resources) > 50
    assert _record(quick) == _record(plain)


def test_the_sdk_is_itself_again_after_an_evaluation() -> None:
    # Other evaluations and the rest of the process must see the SDK and the collector as found.
    debug, stack_trace = sdk_log.debug, sdk_resource._get_stack_trace
    unwrap_type, sync_await = sdk_types.unwrap_type, sdk_mocks._sync_await
    loop = asyncio.get_event_loop()
    executor = loop._default_executor  # type: ignore[attr-defined]
    assert gc.isenabled()
    evaluate(sample_config("blue"), STACK)
    assert gc.isenabled()
    assert sdk_log.debug is debug
    assert sdk_resource._get_stack_trace is stack_trace
    assert sdk_types.unwrap_type is unwrap_type
    assert sdk_mocks._sync_await is sync_await
    assert loop._default_executor is executor  # type: ignore[attr-defined]


class _Observing(CloudMocks):
    """Mocks that note, at each registration, whether the shortcuts are in force."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[bool, bool, bool, bool]] = set()

    def new_resource(self, args: Any) -> Any:
        self.seen.add(
            (
                gc.isenabled(),
                sdk_log.debug.__module__ == "pulumi.log",
                sdk_types.unwrap_type.__module__ == "pulumi._types",
                # Off the program's thread: handed to a worker of the loop's pool.
                threading.current_thread() is not threading.main_thread(),
            )
        )
        return super().new_resource(args)


@pytest.mark.parametrize(
    ("shortcuts", "expected"), [(True, {(False, False, False, False)}), (False, None)]
)
def test_the_shortcuts_hold_while_the_program_runs(
    shortcuts: bool, expected: set[tuple[bool, bool, bool, bool]] | None
) -> None:
    mocks = _Observing()
    was_enabled = gc.isenabled()
    evaluate(sample_config("blue"), STACK, mocks=mocks, shortcuts=shortcuts)
    assert mocks.seen == (expected or {(was_enabled, True, True, True)})


async def _answer() -> dict[str, str]:
    return {"id": "answered"}


def test_an_answer_that_waits_on_nothing_is_completed_in_place() -> None:
    assert completed(_answer()) == {"id": "answered"}


def test_an_answer_that_would_wait_is_a_bug_said_as_one() -> None:
    # In place, in the loop's own thread, nothing could ever resolve what it waits on.
    with pytest.raises(RuntimeError, match="waited on an unresolved value"):
        completed(asyncio.sleep(0))


_PRELOAD_THEN_EVALUATE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from conftest import STACK, sample_config
from plan.evaluate import LAZY_SDKS, evaluate, load_program_modules

def loaded() -> set[str]:
    return {
        name
        for name, module in list(sys.modules.items())
        if name.startswith(LAZY_SDKS) and type(module).__name__ != "_LazyModule"
    }

load_program_modules()
before = loaded()
evaluate(sample_config("green"), STACK)
print(json.dumps({"before": sorted(before), "missed": sorted(loaded() - before)}))
"""


def test_the_modules_loaded_before_the_fork_are_all_an_evaluation_loads() -> None:
    # evaluate_both loads them before it forks, so the base's child inherits them: a module the
    # preload misses is loaded twice, once in each process. A fresh process, as the plan's is.
    root = Path(__file__).resolve().parent.parent
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", _PRELOAD_THEN_EVALUATE, str(root), str(root / "tests")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    assert "pulumi_azure_native.network" in found["before"]
    assert "pulumi_kubernetes.core.v1" in found["before"]
    assert found["missed"] == []


def test_the_plan_runs_without_the_cycle_collector_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Paused for the whole run, evaluations and the judging of their records alike; a process
    # that runs the plan in-process (the tests) gets its collector back.
    import plan.__main__ as plan_cli

    seen: list[bool] = []

    def main(argv: list[str] | None = None) -> int:
        seen.append(gc.isenabled())
        return 0

    monkeypatch.setattr(plan_cli, "main", main)
    assert gc.isenabled()
    assert plan_cli.run([]) == 0
    assert seen == [False]
    assert gc.isenabled()

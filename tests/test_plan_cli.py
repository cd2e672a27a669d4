"""The README's main command: the offline plan, as a user runs it."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml

from conftest import ROOT, with_overrides
from plan.__main__ import main

_STEP = re.compile(r"^\s+\d+\. ")


def step_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if _STEP.match(line)]


def run_plan(*args: str) -> subprocess.CompletedProcess[str]:
    """The plan's own entry point, in this process (the README command runs once for real)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["plan", *args], code, out.getvalue(), err.getvalue())


def stack_file(tmp_path: Path, name: str, config: dict[str, Any]) -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_readme_command_plans_the_sample_flip_in_engine_order() -> None:
    result = subprocess.run(
        [str(ROOT / "bin" / "plan")], capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "active: blue -> green" in out
    assert "0 to create, 3 to replace, 1 to update, 0 to delete" in out
    assert "Azure resources touched: 0 of 38" in out
    steps = [line.split()[1:3] for line in step_lines(out)]
    assert steps.index(["create", "kubernetes:batch/v1:Job"]) < steps.index(
        ["delete", "kubernetes:helm.sh/v3:Release"]
    )
    assert [s for s in steps if s[1] == "kubernetes:helm.sh/v3:Release"] == [
        ["delete", "kubernetes:helm.sh/v3:Release"],
        ["create", "kubernetes:helm.sh/v3:Release"],
    ]
    assert "Policies: all passed on the head config." in out
    # The command is a fresh, single-threaded process, so it evaluated the base in a forked
    # child (plan.evaluate.evaluate_both); here, in a test worker that runs threads, the same
    # plan is evaluated one config after the other. Any difference in what the fork recorded
    # would show as a step or a count.
    assert out == run_plan().stdout


def test_markdown_format_renders_a_step_table() -> None:
    result = run_plan("--format", "markdown")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "### Offline plan: `green`"
    assert "| # | step | resource | cluster | why |" in lines
    release_rows = [line for line in lines if "`agic-release`" in line]
    assert [row.split("|")[2].strip() for row in release_rows] == ["delete", "create"]
    assert [row.split("|")[4].strip() for row in release_rows] == ["blue", "green"]
    live = lines.index(
        "Live checks (the offline plan cannot see the gateway; these run against it):"
    )
    assert lines[live + 1].startswith("- `pulumi up`, after the AGIC release: waits up to 600 s")


def test_same_config_on_both_sides_plans_nothing() -> None:
    result = run_plan("Pulumi.blue.yaml", "Pulumi.blue.yaml", "--no-policies")
    assert result.returncode == 0
    assert "No changes." in result.stdout
    assert "61 untouched" in result.stdout


def test_rollback_plan_moves_agic_back_to_blue() -> None:
    result = run_plan("Pulumi.green.yaml", "Pulumi.blue.yaml", "--no-policies", "--stack", "green")
    assert result.returncode == 0
    assert "active: green -> blue" in result.stdout
    release = [line for line in step_lines(result.stdout) if "agic-release" in line]
    assert "[green]" in release[0] and "delete" in release[0]
    assert "[blue]" in release[1] and "create" in release[1]


def test_upgrade_of_the_standby_touches_only_the_standby(tmp_path: Path) -> None:
    upgraded = with_overrides("blue", {"clusters": {"green": {"kubernetesVersion": "1.37"}}})
    head = stack_file(tmp_path, "green", upgraded)
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head), "--no-policies")
    assert result.returncode == 0, result.stderr
    changed = step_lines(result.stdout)
    assert changed, result.stdout
    assert all("green" in line for line in changed), changed
    assert "update     azure-native:containerservice:ManagedCluster green-aks" in result.stdout


def test_downgrade_is_refused_with_exit_1(tmp_path: Path) -> None:
    downgraded = with_overrides("blue", {"clusters": {"green": {"kubernetesVersion": "1.35"}}})
    head = stack_file(tmp_path, "green", downgraded)
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head), "--no-policies")
    assert result.returncode == 1
    assert (
        "refused: aks-bluegreen:clusters.green.kubernetesVersion: 1.36 -> 1.35 is a downgrade"
        in (result.stderr)
    )


def test_encrypted_value_is_named_not_crashed_on(tmp_path: Path) -> None:
    secret = dict(with_overrides("blue", {}), **{"aks-bluegreen:location": {"secure": "AAAB"}})
    head = stack_file(tmp_path, "green", secret)
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head))
    assert result.returncode == 2
    assert "aks-bluegreen:location is encrypted" in result.stderr
    assert "Traceback" not in result.stderr


def test_mandatory_policy_violation_on_the_head_exits_1_with_its_message(tmp_path: Path) -> None:
    # Valid config, refused by policy: a cluster below the pack's minimum Kubernetes version.
    old = with_overrides("blue", {"clusters": {"blue": {"kubernetesVersion": "1.30"}}})
    head = stack_file(tmp_path, "prod", old)
    result = run_plan(str(head), str(head))
    assert result.returncode == 1
    assert "mandatory: aks-minimum-version:" in result.stdout
    assert "1.30" in result.stdout
    assert "refused: 1 mandatory policy violation(s), listed above" in result.stderr
    assert run_plan(str(head), str(head), "--no-policies").returncode == 0


def test_policy_config_file_sets_the_minimum_version(tmp_path: Path) -> None:
    policy_config = tmp_path / "policy-config.json"
    policy_config.write_text('{"aks-minimum-version": {"minimumVersion": "1.36"}}')
    result = run_plan("--policy-config", str(policy_config))
    assert result.returncode == 1
    assert "mandatory: aks-minimum-version:" in result.stdout and "1.35" in result.stdout
    policy_config.write_text('{"aks-minimum-version": {"minimumVersion": 1.36}}')
    invalid = run_plan("--policy-config", str(policy_config))
    assert invalid.returncode == 2
    assert invalid.stderr.startswith("error: --policy-config ")


def test_retiring_the_standby_deletes_only_its_slot_apps_first(tmp_path: Path) -> None:
    retired = with_overrides("blue", {"clusters": {"green": {"enabled": False}}})
    head = stack_file(tmp_path, "green", retired)
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head), "--no-policies")
    assert result.returncode == 0, result.stderr
    steps = step_lines(result.stdout)
    # First the guard that reads the live gateway, then only deletes.
    assert steps[0].split()[1:4] == [
        "create",
        "pulumi-python:dynamic/cutover:RetireGuard",
        "retire-guard-green-check",
    ]
    assert all(line.split()[1] == "delete" for line in steps[1:])
    assert (
        "`pulumi preview` and `up`: refuse to retire green while the gateway has a backend "
        "address in 10.241.0.0/16" in result.stdout
    )
    deleted = [line.split()[3] for line in steps[1:]]
    own = ("green-", "agic-green-", "container-insights-green")
    assert all(name.startswith(own) for name in deleted), deleted
    # Kubernetes objects go while their cluster still answers; the cluster goes after them,
    # and its subnet stays for the next upgrade.
    assert deleted.index("green-aspnetapp-deployment") < deleted.index("green-kubernetes")
    assert deleted.index("green-kubernetes") < deleted.index("green-aks")
    assert deleted.index("agic-green-federation") < deleted.index("green-aks")
    assert deleted.index("container-insights-green") < deleted.index("green-aks")
    assert "network-green-subnet" not in deleted


def test_readme_shows_what_the_sample_flip_really_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("The sample flip prints:\n\n```\n", 1)[1].split("```", 1)[0]
    printed = run_plan("--no-policies").stdout
    assert printed.startswith(shown), "README's sample plan is out of date: paste bin/plan's output"


_EXIT_WITH = """
import sys
sys.path.insert(0, sys.argv[1])
from plan.__main__ import exit_with
print("the plan, unflushed", end="")
exit_with(int(sys.argv[2]))
"""


# Buffered as a job's pipe is: PYTHONUNBUFFERED would write each print at once.
_BUFFERED = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}


def test_the_plan_process_ends_with_its_code_after_writing_what_it_printed() -> None:
    # The process skips Python's teardown (os._exit): what sits in stdout's buffer must still
    # be written, and a refusal must stay a refusal.
    for code in (0, 1):
        result = subprocess.run(
            [sys.executable, "-c", _EXIT_WITH, str(ROOT), str(code)],
            capture_output=True,
            text=True,
            check=False,
            env=_BUFFERED,
        )
        assert (result.returncode, result.stdout) == (code, "the plan, unflushed")


_CLI = """
import gc, sys
sys.path.insert(0, sys.argv[1])
import plan.__main__ as plan_cli

def main(argv=None):
    print("while planning:", gc.isenabled())
    return 1

def exit_with(code):
    print("at the end:", gc.isenabled())
    sys.exit(code)

plan_cli.main, plan_cli.exit_with = main, exit_with
plan_cli.cli()
"""


def test_the_plan_command_runs_without_the_cycle_collector_to_its_end() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CLI, str(ROOT)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (1, "while planning: False\nat the end: False\n")


def test_a_plan_that_cannot_be_written_out_is_not_accepted() -> None:
    # The job reading the plan went away before it was written: the pipe's read end is closed.
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run(
            [sys.executable, "-c", _EXIT_WITH, str(ROOT), "0"],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env=_BUFFERED,
        )
    finally:
        os.close(writer)
    assert result.returncode == 3
    assert result.stderr.startswith("error: the plan could not be written out: [Errno 32]")

"""The deploy's two guards before `pulumi up`: scripts/interrupted_update.py (an earlier up cut
short) and scripts/deploy_order.py (a merged change no deploy applied), run as the workflow runs
them, on `pulumi stack export` / `pulumi stack history --json` shapes and a throwaway git history.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_changed_stacks import Repo

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
RELEASE = "kubernetes:helm.sh/v3:Release"
URN = "urn:pulumi:prod::aks-bluegreen::aksbg:index:Agic$kubernetes:helm.sh/v3:Release::agic-green"


def export(pending: list[dict[str, Any]]) -> dict[str, Any]:
    """`pulumi stack export` (apitype UntypedDeployment, version 3 DeploymentV3)."""
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-12-01T10:00:00Z", "magic": "x", "version": "v3.272.0"},
            "resources": [],
            "pending_operations": pending,
        },
    }


def pending(operation: str, urn: str = URN, type_: str = RELEASE) -> dict[str, Any]:
    return {
        "resource": {
            "urn": urn,
            "custom": True,
            "type": type_,
            "inputs": {"name": "agic-green", "namespace": "agic"},
        },
        "type": operation,
    }


def run(script: str, *args: str, cwd: Path | None = None, env: Any = None):
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_state(tmp_path: Path, state: Any) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state), encoding="utf-8")
    return run("interrupted_update.py", str(path), "--stack", "example/prod")


# --- an interrupted up -------------------------------------------------------------------------


def test_a_state_with_nothing_pending_passes(tmp_path: Path) -> None:
    result = check_state(tmp_path, export([]))
    assert result.returncode == 0
    assert result.stdout == "No interrupted update: the state has no pending operations.\n"


def test_a_half_installed_agic_release_is_found_with_the_helm_and_pulumi_steps(
    tmp_path: Path,
) -> None:
    result = check_state(tmp_path, export([pending("creating")]))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "The last update of example/prod was interrupted: 1 operation(s) never finished. "
        "Do this before any `pulumi up`:"
    )
    assert lines[1].startswith(
        "1. The AGIC release agic-green was being installed: on the cluster it was going to, "
        "run `helm status -n agic agic-green`. If Helm shows it (pending-install or failed), "
        "`helm uninstall -n agic agic-green`"
    )
    assert lines[2] == (
        "2. Then `pulumi refresh --stack example/prod --clear-pending-creates` drops the "
        "unfinished creates from the state (or `pulumi refresh --stack example/prod "
        "--import-pending-creates <urn> <id>` for one that exists in Azure and must be kept)."
    )
    assert lines[3].startswith("3. If `pulumi` says the stack is locked")


def test_an_interrupted_uninstall_of_the_old_release_says_the_next_up_repeats_it(
    tmp_path: Path,
) -> None:
    old = URN.replace("agic-green", "agic-blue")
    state = export([pending("deleting", urn=old)])
    state["deployment"]["pending_operations"][0]["resource"]["inputs"]["name"] = "agic-blue"
    result = check_state(tmp_path, state)
    assert result.returncode == 1
    assert "The AGIC release agic-blue was being uninstalled" in result.stdout
    assert "2. Then `pulumi refresh --stack example/prod` records what" in result.stdout
    assert "--clear-pending-creates" not in result.stdout


def test_other_pending_resources_are_named_by_urn(tmp_path: Path) -> None:
    urn = "urn:pulumi:prod::aks-bluegreen::azure-native:network:VirtualNetwork::vnet"
    result = check_state(
        tmp_path, export([pending("updating", urn, "azure-native:network:VirtualNetwork")])
    )
    assert result.returncode == 1
    assert f"1. {urn} was updating." in result.stdout


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ([], "no `deployment` object"),
        ({"deployment": {"pending_operations": [{"type": "creating"}]}}, "pending_operations[0]"),
    ],
    ids=["not-an-export", "no-urn"],
)
def test_a_file_that_is_not_an_export_is_named(tmp_path: Path, state: Any, said: str) -> None:
    result = check_state(tmp_path, state)
    assert result.returncode == 2
    assert said in result.stderr
    assert result.stderr.startswith(f"interrupted_update: {tmp_path / 'state.json'}: ")


# --- merged changes deployed in order ----------------------------------------------------------


@pytest.fixture
def main(tmp_path: Path) -> Repo:
    (tmp_path / "repo").mkdir()
    repo = Repo(tmp_path / "repo")
    repo.commit({"Pulumi.yaml": "name: x\n", "Pulumi.prod.yaml": "active: blue\n"}, "base")
    return repo


def history(*shas: str) -> list[dict[str, Any]]:
    """`pulumi stack history --json`: newest first, each with the up's message."""
    return [
        {"kind": "update", "message": f"Deploy {sha}", "result": "succeeded", "version": n}
        for n, sha in zip(range(len(shas), 0, -1), shas, strict=True)
    ]


def order(repo: Repo, records: Any, head: str) -> subprocess.CompletedProcess[str]:
    path = repo.path.parent / "history.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return run("deploy_order.py", "prod", str(path), head, cwd=repo.path, env=repo.env)


def test_the_next_merged_change_deploys(main: Repo) -> None:
    deployed = main.git("rev-parse", "HEAD")
    head = main.commit({"Pulumi.prod.yaml": "active: green\n"}, "flip prod")
    result = order(main, history(deployed), head)
    assert result.returncode == 0, result.stderr
    assert f"last deployed {deployed[:12]}; {head[:12]} is the next change" in result.stdout


def test_a_change_whose_deploy_was_cancelled_is_refused_by_the_next_one(main: Repo) -> None:
    deployed = main.git("rev-parse", "HEAD")
    skipped = main.commit({"Pulumi.prod.yaml": "active: green\n"}, "flip prod")
    head = main.commit({"components/agic.py": "# new\n"}, "agic change")
    result = order(main, history(deployed), head)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"prod: refusing to deploy {head[:12]}: 1 merged change(s) to this stack since the last "
        f"deploy ({deployed[:12]}) were never deployed"
    )
    assert f"  {skipped[:12]} flip prod\n" in result.stderr
    # Once the skipped one is deployed (its run re-run), the newer one goes.
    assert order(main, history(skipped, deployed), head).returncode == 0


def test_commits_that_did_not_touch_the_stack_are_not_waited_for(main: Repo) -> None:
    deployed = main.git("rev-parse", "HEAD")
    main.commit({"README.md": "docs\n"}, "docs")
    main.commit({"Pulumi.staging.yaml": "active: blue\n"}, "another stack")
    head = main.commit({"Pulumi.prod.yaml": "active: green\n"}, "flip prod")
    assert order(main, history(deployed), head).returncode == 0


def test_a_rerun_of_an_older_commit_after_a_newer_deploy_is_refused(main: Repo) -> None:
    older = main.commit({"Pulumi.prod.yaml": "active: green\n"}, "flip prod")
    newer = main.commit({"Pulumi.prod.yaml": "active: blue\n"}, "roll back prod")
    result = order(main, history(newer, older), older)
    assert result.returncode == 1
    assert f"it is older than the last deploy ({newer[:12]})" in result.stderr


def test_a_stack_without_a_recorded_deploy_passes(main: Repo) -> None:
    head = main.git("rev-parse", "HEAD")
    manual = [{"kind": "update", "message": "by hand", "result": "succeeded"}]
    result = order(main, manual, head)
    assert result.returncode == 0
    assert "no deploy recorded by this workflow yet" in result.stdout


def test_a_failed_up_counts_as_deployed(main: Repo) -> None:
    failed = main.commit({"Pulumi.prod.yaml": "active: green\n"}, "flip prod")
    head = main.commit({"Pulumi.prod.yaml": "active: blue\n"}, "fix forward")
    records = [{"kind": "update", "message": f"Deploy {failed}", "result": "failed"}]
    assert order(main, records, head).returncode == 0

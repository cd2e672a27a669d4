"""bin/plan against the real engine's preview, and the parts of the e2e that decide it.

The engine test runs only with AKSBG_ENGINE_TESTS=1 where `e2e/build.sh` has built the CLI
(.e2e/bin/pulumi, ignored by git): it deploys blue on a local state backend with the stand-in
plugins, previews the flip with `pulumi preview --json`, and requires the engine's steps to
equal `bin/plan --format json`'s (e2e/compare.py: operation and URN of every step, and every
order the engine enforces). The other tests need nothing built: the comparison itself, and the
stand-in plugin's update-vs-replace decisions, which must be the offline plan's own table.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from typing import Any

import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from conftest import ROOT
from plugin_process import plugin_channel

sys.path.insert(0, str(ROOT))
from e2e.compare import compare
from e2e.scenarios import PROJECT_FILES
from e2e.stand_in_provider import as_struct

STACK_URN = "urn:pulumi:e2e::aks-bluegreen::"
RELEASE = f"{STACK_URN}aks-bluegreen:index:Agic$kubernetes:helm.sh/v3:Release::agic-release"
JOB = f"{STACK_URN}kubernetes:batch/v1:Job::green-smoke"
VERIFY = f"{STACK_URN}pulumi-python:dynamic/cutover:GatewayServesActive::verify"
CLUSTER = f"{STACK_URN}azure-native:containerservice:ManagedCluster::blue-aks"


def _preview(*steps: tuple[str, str, list[str]]) -> dict[str, Any]:
    return {
        "steps": [
            {"op": op, "urn": urn, "newState": {"urn": urn, "dependencies": deps}}
            for op, urn, deps in steps
        ]
    }


def _plan(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"steps": [{"kind": kind, "urn": urn} for kind, urn in steps]}


FLIP_PLAN = _plan(
    ("create", JOB), ("delete", RELEASE), ("create", RELEASE), ("update", VERIFY), ("delete", JOB)
)


def _local_imports(path: Any) -> set[str]:
    """The project's own top-level modules and packages a file imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return {name for name in names if (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()}


def test_the_e2e_project_copy_holds_everything_the_program_imports() -> None:
    # The engine runs a copy of the project: a package the program reaches and the copy lacks
    # fails the first `up` with ModuleNotFoundError, which no mocked test notices.
    needed, seen, files = set(), set(), [ROOT / "__main__.py"]
    while files:
        for name in _local_imports(files.pop()) - seen:
            seen.add(name)
            needed.add(name if (ROOT / name).is_dir() else f"{name}.py")
            folder = ROOT / name
            files.extend(folder.rglob("*.py") if folder.is_dir() else [ROOT / f"{name}.py"])
    assert needed <= set(PROJECT_FILES)
    assert all((ROOT / name).exists() for name in PROJECT_FILES)


def test_engine_replacement_steps_count_as_the_plans_create_and_delete() -> None:
    preview = _preview(
        ("create-replacement", JOB, []),
        ("replace", JOB, []),
        ("delete-replaced", RELEASE, []),
        ("replace", RELEASE, []),
        ("create-replacement", RELEASE, [JOB]),
        ("update", VERIFY, [RELEASE]),
        ("same", CLUSTER, []),
        ("delete-replaced", JOB, []),
    )
    result = compare(preview, FLIP_PLAN)
    assert result.equal, result.describe()


def test_a_release_created_before_its_old_one_is_deleted_is_a_difference() -> None:
    preview = _preview(
        ("create-replacement", JOB, []),
        ("create-replacement", RELEASE, [JOB]),
        ("delete-replaced", RELEASE, []),
        ("update", VERIFY, [RELEASE]),
        ("delete-replaced", JOB, []),
    )
    result = compare(preview, FLIP_PLAN)
    assert not result.equal
    assert any(RELEASE in v for v in result.order_violations), result.describe()


OTHER_JOB = f"{STACK_URN}kubernetes:batch/v1:Job::blue-smoke"


def test_a_create_is_ordered_by_what_its_new_state_depends_on_not_its_old() -> None:
    # A flip's new release depends on the target cluster's gate, the old one depended on the
    # other cluster's: the engine may create the new release before it replaces that old gate.
    def step(op: str, urn: str, new: list[str], old: list[str]) -> dict[str, Any]:
        return {
            "op": op,
            "urn": urn,
            "newState": {"urn": urn, "dependencies": new},
            "oldState": {"urn": urn, "dependencies": old},
        }

    plan = _plan(("create", OTHER_JOB), ("delete", RELEASE), ("create", RELEASE))
    preview = {
        "steps": [
            step("delete-replaced", RELEASE, [], [OTHER_JOB]),
            step("create-replacement", RELEASE, [JOB], [OTHER_JOB]),
            step("create-replacement", OTHER_JOB, [], []),
        ]
    }
    assert compare(preview, plan).equal, compare(preview, plan).describe()
    # The same order where the new release does depend on that gate is a difference.
    preview["steps"][1] = step("create-replacement", RELEASE, [OTHER_JOB], [])
    assert not compare(preview, plan).equal


def test_a_step_only_one_side_has_is_a_difference() -> None:
    preview = _preview(
        ("create-replacement", JOB, []),
        ("delete-replaced", RELEASE, []),
        ("create-replacement", RELEASE, [JOB]),
        ("update", VERIFY, [RELEASE]),
        ("update", CLUSTER, []),
        ("delete-replaced", JOB, []),
    )
    result = compare(preview, FLIP_PLAN)
    assert result.extra == (("update", CLUSTER),)
    assert not result.missing


def test_protect_bookkeeping_is_reported_and_every_other_step_compared() -> None:
    # A rollback right after a verified flip: the cluster being returned to is still protected
    # in the state, so the engine has no step where the plan, from a converged base, says
    # "protect on". That is reported; a missing create is still a difference.
    preview = _preview(("create-replacement", JOB, []), ("delete-replaced", JOB, []))
    plan = _plan(("state-only", CLUSTER), ("create", JOB), ("delete", JOB))
    result = compare(preview, plan)
    assert result.equal
    assert result.protect_only == (("state-only", CLUSTER),)
    assert "protect bookkeeping, not compared: " + CLUSTER in result.describe()
    plan = _plan(("state-only", CLUSTER), ("create", JOB), ("create", RELEASE), ("delete", JOB))
    assert compare(preview, plan).missing == (("create", RELEASE),)


def test_independent_steps_may_run_in_another_order() -> None:
    other = f"{STACK_URN}kubernetes:batch/v1:Job::blue-smoke"
    plan = _plan(("create", JOB), ("create", other))
    preview = _preview(("create", other, []), ("create", JOB, []))
    assert compare(preview, plan).equal
    # ... unless one depends on the other.
    preview = _preview(("create", other, [JOB]), ("create", JOB, []))
    assert not compare(preview, plan).equal


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Any:
    env = {**os.environ, "AKSBG_E2E_CLOUD": str(tmp_path_factory.mktemp("cloud"))}
    command = [sys.executable, "-u", str(ROOT / "e2e" / "stand_in_provider.py")]
    with plugin_channel([*command, "azure-native", "3.29.0"], ROOT, env) as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        stub.Configure(provider_pb2.ConfigureRequest())
        yield stub


CLUSTER_INPUTS = {
    "resourceGroupName": "aksbg-e2e-rg",
    "resourceName": "aksbg-e2e-blue",
    "location": "westeurope",
    "dnsPrefix": "aksbg-e2e-blue",
    "kubernetesVersion": "1.33",
    "networkProfile": {"networkPlugin": "azure", "serviceCidr": "10.0.0.0/16"},
}


def _diff(stub: Any, changes: dict[str, Any]) -> Any:
    return stub.Diff(
        provider_pb2.DiffRequest(
            id="id",
            urn=CLUSTER,
            type="azure-native:containerservice:ManagedCluster",
            olds=as_struct(CLUSTER_INPUTS),
            old_inputs=as_struct(CLUSTER_INPUTS),
            news=as_struct({**CLUSTER_INPUTS, **changes}),
        )
    )


def test_stand_in_azure_native_replaces_a_cluster_on_a_force_new_property(stand_in: Any) -> None:
    assert stand_in.GetPluginInfo(empty_pb2.Empty()).version == "3.29.0"
    diff = _diff(
        stand_in,
        {"networkProfile": {**CLUSTER_INPUTS["networkProfile"], "serviceCidr": "10.1.0.0/16"}},
    )
    assert list(diff.replaces) == ["networkProfile"]
    assert diff.deleteBeforeReplace  # azure-native deletes first: the name is not random


def test_stand_in_azure_native_updates_a_cluster_version_in_place(stand_in: Any) -> None:
    diff = _diff(stand_in, {"kubernetesVersion": "1.34"})
    assert diff.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(diff.diffs) == ["kubernetesVersion"]
    assert not diff.replaces and not diff.deleteBeforeReplace
    assert _diff(stand_in, {}).changes == provider_pb2.DiffResponse.DIFF_NONE


# Minutes long: bin/test runs it only when asked (AKSBG_ENGINE_TESTS=1), and only where built.
@pytest.mark.skipif(
    os.environ.get("AKSBG_ENGINE_TESTS") != "1" or not (ROOT / ".e2e" / "bin" / "pulumi").exists(),
    reason="the engine comparison runs with AKSBG_ENGINE_TESTS=1 where e2e/build.sh built the CLI",
)
def test_engine_preview_of_the_flip_equals_the_offline_plan() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "e2e.scenarios", "--scenarios", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    [summary] = [line for line in done.stdout.splitlines() if line.startswith("e2e: pulumi")]
    assert "plan == engine preview on 1 of 1 changes" in summary, summary

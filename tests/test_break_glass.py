"""Failing over from a cluster whose API server is gone, without a call to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_plan_cli import run_plan, stack_file, step_lines

import config
from components.agic import disabled_subject, federated_subject
from components.cluster import UNREACHABLE_KUBECONFIG
from config import transition
from conftest import ROOT, STACK, by_name, with_overrides
from plan.diff import diff
from plan.evaluate import Evaluation

PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
CREDENTIALS = "azure-native:containerservice:listManagedClusterUserCredentials"
BREAK_GLASS = {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}


@pytest.fixture(scope="module")
def failover(evaluate_variant: Callable[..., Evaluation]) -> Evaluation:
    return evaluate_variant("blue", **BREAK_GLASS)


def test_delete_unreachable_is_set_only_on_the_declared_cluster_and_only_while_declared(
    blue: Evaluation, green: Evaluation, failover: Evaluation
) -> None:
    assert by_name(failover, "blue-kubernetes").inputs["deleteUnreachable"] == "true"
    assert by_name(failover, "green-kubernetes").inputs["deleteUnreachable"] == "false"
    # Without a break-glass it is an explicit false on both: an exported
    # PULUMI_K8S_DELETE_UNREACHABLE cannot turn it on behind the config's back.
    for stack in (blue, green):
        for color in config.COLORS:
            assert by_name(stack, f"{color}-kubernetes").inputs["deleteUnreachable"] == "false"


def test_unreachable_cluster_gets_no_credentials_and_a_kubeconfig_naming_no_cluster(
    failover: Evaluation,
) -> None:
    provider = by_name(failover, "blue-kubernetes")
    assert provider.inputs["kubeconfig"] == UNREACHABLE_KUBECONFIG
    assert provider.secret_inputs == {"kubeconfig"}
    # Only the cluster's ARM ID, which the state already holds: nothing is asked of ARM.
    assert provider.property_dependencies == {
        "clusterIdentifier": (by_name(failover, "blue-aks").urn,)
    }
    kubeconfig = yaml.safe_load(UNREACHABLE_KUBECONFIG)
    assert kubeconfig["clusters"] == [] and "current-context" not in kubeconfig
    asked = [args["resourceName"] for token, args in failover.invokes if token == CREDENTIALS]
    assert asked == ["aksbg-prod-green"]


def test_nothing_is_declared_on_the_unreachable_cluster_but_its_azure_resources_stay(
    failover: Evaluation,
) -> None:
    blue_provider = by_name(failover, "blue-kubernetes").urn
    assert not [r.name for r in failover.resources.values() if r.provider == blue_provider]
    cluster = by_name(failover, "blue-aks")
    assert not cluster.protect
    assert by_name(failover, "green-aks").protect
    assert by_name(failover, "green-aspnetapp-smoke-job")


def test_unreachable_agic_loses_its_credential_before_the_new_release(
    failover: Evaluation,
) -> None:
    blue = by_name(failover, "agic-blue-federation")
    green = by_name(failover, "agic-green-federation")
    assert blue.inputs["subject"] == disabled_subject("blue")
    assert not blue.inputs["subject"].startswith("system:serviceaccount:")
    assert green.inputs["subject"] == federated_subject("agic", "green")
    release = failover.one(RELEASE)
    assert release.provider == by_name(failover, "green-kubernetes").urn
    assert {blue.urn, green.urn} <= set(release.dependencies)


def test_plan_drops_the_dead_clusters_objects_then_neutralises_then_installs(
    blue: Evaluation, failover: Evaluation
) -> None:
    plan = diff(blue, failover)
    steps = [(s.kind, s.change.name) for s in plan.steps]
    dropped = [name for kind, name in steps if kind == "drop"]
    # Every Kubernetes object of blue leaves the state by the refresh, first, the old AGIC
    # release included; none is deleted through the cluster and nothing is created there.
    assert set(dropped) == {
        r.name
        for r in blue.resources.values()
        if r.provider == by_name(blue, "blue-kubernetes").urn
    }
    assert steps[: len(dropped)] == [("drop", name) for name in dropped]
    blue_provider = by_name(blue, "blue-kubernetes").urn
    for step in plan.steps:
        if step.kind in ("create", "update", "delete") and step.change.after is not None:
            assert step.change.after.provider != blue_provider, step
    assert steps.index(("update", "agic-blue-federation")) < steps.index(("create", "agic-release"))
    assert ("delete", "agic-release") not in steps
    assert plan.arming == (blue_provider,)
    assert failover.engine_urn(blue_provider) == (
        f"urn:pulumi:{STACK}::aks-bluegreen::aks-bluegreen:index:Slot$aks-bluegreen:index:"
        "Cluster$pulumi:providers:kubernetes::blue-kubernetes"
    )
    # Azure is touched only to disable the credential.
    assert {c.name for c in plan.touched if c.touches_cloud} == {"agic-blue-federation"}


def test_plan_arms_nothing_once_the_break_glass_is_in_the_state(failover: Evaluation) -> None:
    plan = diff(failover, failover)
    assert plan.arming == () and plan.steps == ()


@pytest.mark.parametrize(
    ("overrides", "fix"),
    [
        ({"breakGlass": {"unreachableCluster": "blue"}}, "set active: green in the same change"),
        (
            {
                "active": "green",
                "breakGlass": {"unreachableCluster": "blue"},
                "clusters": {"blue": {"enabled": False}},
            },
            "retire it only after the break-glass run has landed",
        ),
        ({"breakGlass": {"unreachableCluster": "red"}}, "name blue or green"),
        ({"breakGlass": {"cluster": "green"}}, "unreachableCluster: is required"),
    ],
)
def test_break_glass_config_is_refused_where_it_would_be_dangerous(
    overrides: dict[str, Any], fix: str
) -> None:
    raw = with_overrides("blue", overrides)
    with pytest.raises(config.ConfigError) as raised:
        config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()})
    assert raised.value.key.startswith("breakGlass"), raised.value
    assert fix in str(raised.value)


def _facts(overrides: dict[str, Any]) -> transition.DeployedFacts:
    raw = with_overrides("blue", overrides)
    cfg = config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()})
    return transition.facts_of(cfg, config.resource_prefix(cfg, STACK))


def test_lifting_the_break_glass_requires_retiring_the_cluster_it_named() -> None:
    during = _facts(BREAK_GLASS)
    assert transition.refusals(_facts({}), during) == []
    assert transition.refusals(during, during) == []
    [problem] = transition.refusals(during, _facts({"active": "green"}))
    assert problem.key == "breakGlass"
    assert "retire blue (clusters.blue.enabled: false" in str(problem)
    retired = {"active": "green", "clusters": {"blue": {"enabled": False}}}
    assert transition.refusals(during, _facts(retired)) == []
    # A flip back to the cluster whose objects were dropped is refused by the config itself.
    with pytest.raises(config.ConfigError, match="is the active cluster"):
        _facts({"breakGlass": {"unreachableCluster": "blue"}})


def test_break_glass_on_a_cluster_never_deployed_is_refused() -> None:
    retired = _facts({"clusters": {"green": {"enabled": False}}})
    head = _facts({"breakGlass": {"unreachableCluster": "green"}})
    [problem] = transition.refusals(retired, head)
    assert problem.key == "breakGlass.unreachableCluster"
    assert "nothing of it to drop" in str(problem)


def test_offline_plan_prints_the_runbook_for_the_break_glass(tmp_path: Path) -> None:
    head = stack_file(tmp_path, STACK, with_overrides("blue", BREAK_GLASS))
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head))
    # The head ran with the base's facts as its last deployment (plan/__main__.py): the program's
    # own check let the break-glass flip through.
    assert result.returncode == 0, result.stderr
    assert "refused" not in result.stderr
    out = result.stdout
    assert "Break glass: blue declared unreachable. Run, in this order:" in out
    target = (
        f"pulumi up --target 'urn:pulumi:{STACK}::aks-bluegreen::aks-bluegreen:index:Slot$"
        "aks-bluegreen:index:Cluster$pulumi:providers:kubernetes::blue-kubernetes'"
    )
    assert target in out
    steps = [line.split()[1:3] for line in step_lines(out)]
    assert steps[0] == ["drop", "kubernetes:core/v1:Namespace"]
    assert ["delete", "kubernetes:helm.sh/v3:Release"] not in steps
    assert "Policies: all passed on the head config." in out

"""What a deployed stack may become: refused before anything runs, by the plan and the program."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

import config
from config import transition
from conftest import STACK, with_overrides
from plan.diff import diff
from plan.evaluate import Evaluation, ProgramError, evaluate
from plan.judge import parse_values

SELF = f"organization/aks-bluegreen/{STACK}"


def facts(overrides: dict[str, Any] | None = None, color: str = "blue") -> transition.DeployedFacts:
    raw = with_overrides(color, overrides or {})
    cfg = config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()})
    return transition.facts_of(cfg, config.resource_prefix(cfg, STACK))


def refused(head: dict[str, Any], base: dict[str, Any] | None = None) -> list[config.ConfigError]:
    return transition.refusals(facts(base), facts(head))


# (overrides on the blue sample, where blue serves; key named; words of the fix)
REFUSED: dict[str, tuple[dict[str, Any], str, str]] = {
    "skipped minor": (
        {"clusters": {"blue": {"kubernetesVersion": "1.37"}}},
        "clusters.blue.kubernetesVersion",
        "upgrade to 1.36 first",
    ),
    "downgrade of the standby": (
        {"clusters": {"green": {"kubernetesVersion": "1.35"}}},
        "clusters.green.kubernetesVersion",
        "is a downgrade",
    ),
    "minor upgrade of the serving cluster": (
        {"clusters": {"blue": {"kubernetesVersion": "1.36"}}},
        "clusters.blue.kubernetesVersion",
        "upgrade green instead, cut over to it, then upgrade blue",
    ),
    "shared service range (replaces both clusters)": (
        {"network": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}},
        "network.serviceCidr",
        "set clusters.green.serviceCidr to 10.1.0.0/16 first, cut over to green",
    ),
    "service range of the serving cluster": (
        {"clusters": {"blue": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}}},
        "clusters.blue.serviceCidr",
        "make the change on green (the standby, which is rebuilt), cut over to it",
    ),
    "node size of the serving cluster": (
        {"clusters": {"blue": {"vmSize": "Standard_D8ds_v5"}}},
        "clusters.blue.vmSize",
        "make the change on green",
    ),
    "OS disk type of the serving cluster": (
        {"clusters": {"blue": {"osDiskType": "Managed"}}},
        "clusters.blue.osDiskType",
        "AKS fixes a node pool's osDiskType when it creates the pool",
    ),
    "host encryption of the serving cluster": (
        {"clusters": {"blue": {"encryptionAtHost": False}}},
        "clusters.blue.encryptionAtHost",
        "make the change on green",
    ),
    "subnet of the serving cluster": (
        {"clusters": {"blue": {"subnetCidr": "10.242.0.0/16"}}},
        "clusters.blue.subnetCidr",
        "cut over to green first, retire blue in a later change",
    ),
    "subnet of the standby while it runs": (
        {"clusters": {"green": {"subnetCidr": "10.242.0.0/16"}}},
        "clusters.green.subnetCidr",
        "retire green first (clusters.green.enabled: false)",
    ),
    "gateway subnet": (
        {"network": {"gatewaySubnetCidr": "10.226.0.0/24"}},
        "network.gatewaySubnetCidr",
        "keep it, or deploy a new stack",
    ),
    "location": (
        {"location": "northeurope"},
        "location",
        "deploy a new stack with the new value (pulumi stack init)",
    ),
    "name prefix": (
        {"namePrefix": "shop"},
        "namePrefix",
        "deploy a new stack with the new value",
    ),
    "retiring the cluster a flip moves away from": (
        {"active": "green", "clusters": {"blue": {"enabled": False}}},
        "clusters.blue.enabled",
        "cut over to green first and retire blue in a later change",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_change_to_the_live_side_is_refused_with_what_to_do_instead(case: str) -> None:
    overrides, key, fix = REFUSED[case]
    problems = refused(overrides)
    assert problems, case
    assert problems[0].key == key
    assert fix in str(problems[0]), str(problems[0])
    assert str(problems[0]).startswith(f"aks-bluegreen:{key}: ")


@pytest.mark.parametrize(
    "overrides",
    [
        {"clusters": {"green": {"kubernetesVersion": "1.37"}}},
        {"clusters": {"blue": {"kubernetesVersion": "1.35.7"}}},
        {"clusters": {"green": {"kubernetesVersion": "1.36.3"}}},
        {"clusters": {"green": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}}},
        {"clusters": {"green": {"vmSize": "Standard_D8ds_v5"}}},
        {"network": {"vnetCidr": "10.192.0.0/10"}},
        {"active": "green"},
        {"gateway": {"capacity": 3}},
    ],
)
def test_standby_changes_patches_widening_and_flips_pass(overrides: dict[str, Any]) -> None:
    assert refused(overrides) == []


def test_standby_subnet_may_change_once_it_is_retired() -> None:
    retired = {"clusters": {"green": {"enabled": False}}}
    moved = {"clusters": {"green": {"enabled": True, "subnetCidr": "10.242.0.0/16"}}}
    assert refused(retired) == []
    assert refused(moved, base=retired) == []


def test_shared_range_may_follow_once_both_clusters_use_it() -> None:
    new = {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}
    both = {"clusters": {"blue": new, "green": new}}
    assert refused({"network": new, **both}, base=both) == []


def test_standby_rebuild_shows_as_the_replacement_it_is(
    blue: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    for change in (
        {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"},
        {"vmSize": "Standard_D8ds_v5"},
    ):
        plan = diff(blue, evaluate_variant("blue", clusters={"green": change}))
        replaced = {c.name: c for c in plan.by_action("replace")}
        assert replaced["green-aks"].delete_before_replace, change
        # The engine replaces what comes from the old cluster with it: its provider, and so
        # every object in it, deleted before the cluster and created after it.
        assert {"green-kubernetes", "green-aspnetapp-deployment"} <= replaced.keys()
        assert not any(name.startswith("blue-") for name in replaced), replaced
        # In Azure only the cluster changes, with what hangs on it: its upgrade windows and who
        # may use it, replaced with it.
        assert {c.name for c in plan.touched if c.touches_cloud} == {
            "green-aks",
            "green-patch-maintenance",
            "green-node-image-maintenance",
            "green-access-deployer-cluster-admin",
            "green-access-preview-cluster-user",
            "green-access-preview-reader",
            "green-access-preview-helm-release-reader",
            "green-access-helm-release-reader",
        }
        order = [(s.kind, s.change.name) for s in plan.steps]
        assert order.index(("delete", "green-aspnetapp-deployment")) < order.index(
            ("delete", "green-aks")
        )
        assert order.index(("create", "green-aks")) < order.index(("create", "green-kubernetes"))


def test_exported_facts_are_the_facts_the_plan_computes(blue: Evaluation) -> None:
    exported = transition.facts_from_output(blue.outputs[transition.OUTPUT])
    # ... plus what the program's judge needs: the color verified serving, the config declared.
    assert exported is not None
    assert exported.serving == "blue"
    assert exported.config is not None
    assert exported.protected == ("blue",)
    assert replace(exported, serving=None, config=None, protected=()) == facts()
    raw = with_overrides("blue", {})
    assert parse_values(exported.config) == config.parse(
        {k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()}
    )


def test_older_or_partial_facts_skip_only_the_rules_they_cannot_feed() -> None:
    partial = transition.facts_from_output({"active": "blue", "clusters": {"blue": {}}})
    assert partial is not None
    assert transition.refusals(partial, facts({"location": "northeurope"})) == []
    assert transition.facts_from_output(None) is None
    assert transition.facts_from_output("garbage") is None
    versions_only = transition.facts_from_output(
        {"active": "blue", "clusters": {"blue": {"enabled": True, "kubernetesVersion": "1.33"}}}
    )
    assert versions_only is not None
    [problem] = transition.refusals(
        versions_only, facts({"clusters": {"blue": {"kubernetesVersion": "1.34"}}})
    )
    assert problem.key == "clusters.blue.kubernetesVersion"


def test_program_refuses_through_its_own_stack_reference() -> None:
    previous = {transition.OUTPUT: facts().to_output()}
    for case in ("minor upgrade of the serving cluster", "location", "gateway subnet"):
        overrides, key, _ = REFUSED[case]
        expected = "\n".join(str(p) for p in refused(overrides))
        with pytest.raises(ProgramError) as raised:
            evaluate(with_overrides("blue", overrides), STACK, previous_outputs=previous)
        # The very same rules the offline plan applies, with the same words.
        assert str(raised.value) == expected
        assert str(raised.value).startswith(f"aks-bluegreen:{key}: ")


def test_first_deployment_has_no_facts_and_passes(blue: Evaluation) -> None:
    # The sample fixture is a first deployment: the reference answered no outputs.
    assert blue.stack_references == [SELF]
    assert blue.resources
    with pytest.raises(ProgramError, match="upgrades blue in place"):
        evaluate(
            with_overrides("blue", REFUSED["minor upgrade of the serving cluster"][0]),
            STACK,
            previous_outputs={transition.OUTPUT: facts().to_output(), "other": 1},
        )

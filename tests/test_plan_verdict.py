"""The safety invariants of plan/verdict.py judged on hand-built evaluations of a small stack
and the configs they stand for, without evaluating the program: what serves, what a change may
lose, the flip that must come alone, and the revert every accepted change must have."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

import config
from config import Color
from conftest import STACK, with_overrides
from plan.diff import HELM_RELEASE, KUBERNETES_PROVIDER
from plan.evaluate import Evaluation, Registration
from plan.verdict import (
    AGIC_TYPE,
    CLUSTER_TYPE,
    JOB_TYPE,
    SLOT_TYPE,
    WORKLOAD_TYPE,
    Verdict,
    changed_keys,
    config_keys,
    judge,
    serving_role,
    transition_refusals,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
SUBNET = "azure-native:network:Subnet"


def _urn(typ: str, name: str) -> str:
    return f"urn:pulumi:prod::aks-bluegreen::{typ}::{name}"


def _reg(
    typ: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    parent: str = "",
    provider: str = "",
    custom: bool = True,
    property_dependencies: dict[str, tuple[str, ...]] | None = None,
) -> Registration:
    # As the evaluation decodes it: strings equal to the program's constants, never the same
    # objects.
    return Registration(
        urn=_urn(typ, name), type=typ.encode().decode(), name=name.encode().decode(),
        custom=custom, parent=parent, provider=provider.encode().decode(),
        inputs=json.loads(json.dumps(inputs or {})), secret_inputs=frozenset(), protect=False,
        delete_before_replace=False, ignore_changes=(), replace_on_changes=(),
        dependencies=(parent,) if parent else (), custom_timeouts={},
        property_dependencies=property_dependencies or {},
    )  # fmt: skip


def stack(apps: tuple[str, ...] = ("aspnetapp",)) -> Evaluation:
    """The program's shape in small: shared Azure resources, AGIC, and per cluster a slot with
    its cluster, identity, Kubernetes provider, apps and smoke Job."""
    regs = [
        _reg("azure-native:resources:ResourceGroup", "rg"),
        _reg("azure-native:network:VirtualNetwork", "vnet"),
        _reg(SUBNET, "gateway-subnet", {"subnetName": "appgw"}),
        _reg("azure-native:network:ApplicationGateway", "appgw"),
    ]
    agic = _reg(AGIC_TYPE, "agic", custom=False)
    regs += [
        agic,
        _reg(HELM_RELEASE, "agic-release", {"name": "agic", "namespace": "agic"}, agic.urn),
        _reg(IDENTITY, "agic-identity", {"location": "westeurope"}, agic.urn),
    ]
    for color in config.COLORS:
        slot = _reg(SLOT_TYPE, f"{color}-slot", custom=False)
        cluster = _reg(CLUSTER_TYPE, f"{color}-aks", {"networkProfile": {"podCidr": "x"}}, slot.urn)
        provider = _reg(
            KUBERNETES_PROVIDER,
            f"{color}-kubernetes",
            {"kubeconfig": color},
            slot.urn,
            property_dependencies={"kubeconfig": (cluster.urn,)},
        )
        regs += [
            slot,
            _reg(SUBNET, f"{color}-subnet", {"subnetName": f"aks-{color}"}),
            cluster,
            _reg(IDENTITY, f"{color}-identity", {"location": "westeurope"}, slot.urn),
            provider,
            _reg(
                NAMESPACE,
                f"{color}-agic-namespace",
                {"metadata": {"name": "agic"}},
                agic.urn,
                provider.urn,
            ),
            _reg(
                JOB_TYPE,
                f"{color}-smoke",
                {"metadata": {"name": "smoke", "namespace": "agic"}, "spec": {"template": 1}},
                slot.urn,
                provider.urn,
            ),
        ]
        for app in apps:
            workload = _reg(WORKLOAD_TYPE, f"{color}-{app}", parent=slot.urn, custom=False)
            regs += [
                workload,
                _reg(
                    DEPLOYMENT,
                    f"{color}-{app}-deployment",
                    {"metadata": {"name": app, "namespace": app}},
                    workload.urn,
                    provider.urn,
                ),
            ]
    return Evaluation(resources={r.urn: r for r in regs})


def changed(evaluation: Evaluation, resource: str, **inputs: Any) -> Evaluation:
    """The evaluation with one resource's inputs updated (a force-new change where it is one)."""
    [reg] = [r for r in evaluation.resources.values() if r.name == resource]
    resources = dict(evaluation.resources)
    resources[reg.urn] = replace(reg, inputs={**reg.inputs, **inputs})
    return Evaluation(resources=resources)


def without(evaluation: Evaluation, *names: str) -> Evaluation:
    kept = {u: r for u, r in evaluation.resources.items() if r.name not in names}
    return Evaluation(resources=kept)


def named(evaluation: Evaluation, name: str) -> Registration:
    [reg] = [r for r in evaluation.resources.values() if r.name == name]
    return reg


def cfg(overrides: dict[str, Any] | None = None) -> config.StackConfig:
    raw = with_overrides("blue", overrides or {})
    return config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()})


def verdict(
    base: Evaluation,
    head: Evaluation,
    base_cfg: dict[str, Any] | None = None,
    head_cfg: dict[str, Any] | None = None,
    serving: Color | None = "blue",
    base_again: Evaluation | None = None,
) -> Verdict:
    return judge(base, head, cfg(base_cfg), cfg(head_cfg), f"aksbg-{STACK}", serving, base_again)


# --- what serves -----------------------------------------------------------------------------

ROLES: dict[str, str | None] = {
    "rg": "the resource group",
    "vnet": "the VNet",
    "appgw": "the gateway",
    "gateway-subnet": "the gateway subnet",
    "blue-subnet": "blue's subnet, where its nodes and pods live",
    "green-subnet": None,
    "agic-identity": "AGIC's identity",
    "agic-release": "the AGIC release, the gateway's only writer",
    "blue-aks": "blue's cluster",
    "green-aks": None,
    "blue-identity": "blue's control-plane identity",
    "blue-kubernetes": "blue's Kubernetes provider (replacing it replaces every object in blue)",
    "green-kubernetes": None,
    "blue-agic-namespace": "AGIC's namespace in blue",
    "green-agic-namespace": None,
    "blue-aspnetapp-deployment": "an object blue serves with",
    "green-aspnetapp-deployment": None,
    "blue-smoke": None,
}


@pytest.mark.parametrize("name", sorted(ROLES))
def test_what_serves_while_blue_is_the_cluster_held(name: str) -> None:
    world = stack()
    role = serving_role(world, named(world, name), frozenset({"blue"}), flip=False)
    assert role == ROLES[name]


def test_during_a_flip_the_release_may_change_and_both_clusters_serve() -> None:
    world = stack()
    both = frozenset({"blue", "green"})
    assert serving_role(world, named(world, "agic-release"), both, flip=True) is None
    assert serving_role(world, named(world, "green-aks"), both, flip=True) == "green's cluster"
    assert serving_role(world, named(world, "agic-identity"), both, flip=True) == "AGIC's identity"


def test_what_lies_outside_a_known_slot_or_provider_serves_nothing() -> None:
    world = stack()
    stray = _reg(DEPLOYMENT, "stray", {"metadata": {"name": "x"}}, provider="urn:x::red-kubernetes")
    odd_slot = _reg(SLOT_TYPE, "red-slot", custom=False)
    inside = _reg(CLUSTER_TYPE, "red-aks", parent=odd_slot.urn)
    grant = _reg("azure-native:authorization:RoleAssignment", "grant")
    world.resources.update({r.urn: r for r in (stray, odd_slot, inside, grant)})
    for reg in (stray, inside, grant):
        assert serving_role(world, reg, frozenset({"blue", "green"}), flip=False) is None


# --- nothing serving is lost -----------------------------------------------------------------


def test_an_unchanged_stack_is_accepted_with_nothing_lost() -> None:
    result = verdict(stack(), stack())
    assert result == Verdict()
    assert result.accepted


def test_the_standby_cluster_may_be_replaced_and_is_named_lost() -> None:
    head = changed(stack(), "green-aks", networkProfile={"podCidr": "y"})
    result = verdict(stack(), head)
    assert result.accepted, result.refusals
    assert result.clusters_lost == ("green",)


def test_replacing_the_serving_cluster_is_refused_with_what_goes_with_it() -> None:
    head = changed(stack(), "blue-aks", networkProfile={"podCidr": "y"})
    result = verdict(stack(), head)
    assert not result.accepted
    assert result.clusters_lost == ("blue",)
    assert result.refusals[:3] == (
        "refused: nothing serving is lost: the change replaces ManagedCluster blue-aks "
        "(networkProfile.podCidr changed), blue's cluster",
        "refused: nothing serving is lost: the change replaces kubernetes blue-kubernetes "
        "(kubeconfig unknown until its cluster is rebuilt), blue's Kubernetes provider "
        "(replacing it replaces every object in blue)",
        "refused: nothing serving is lost: with blue-kubernetes the change replaces 2 serving "
        "object(s): Namespace agic, Deployment aspnetapp/aspnetapp",
    )


def test_with_no_verified_color_both_clusters_are_held() -> None:
    head = changed(stack(), "green-aks", networkProfile={"podCidr": "y"})
    result = verdict(stack(), head, serving=None)
    assert "replaces ManagedCluster green-aks" in result.refusals[0]
    assert result.clusters_lost == ("green",)
    # ... and a retired cluster holds nothing.
    retired = {"clusters": {"green": {"enabled": False}}}
    assert verdict(stack(), head, retired, retired, serving=None).accepted


def test_the_last_verified_color_is_held_besides_the_active_one() -> None:
    head = changed(stack(), "green-aks", networkProfile={"podCidr": "y"})
    result = verdict(stack(), head, serving="green")
    assert "replaces ManagedCluster green-aks" in result.refusals[0]


def test_a_removed_app_takes_its_objects_but_no_other_app_loses_its_own() -> None:
    shop = {"name": "shop", "image": config.SAMPLE_IMAGE, "path": "/shop"}
    apps = {"workloads": [{"name": "aspnetapp", "image": config.SAMPLE_IMAGE}, shop]}
    base = stack(("aspnetapp", "shop"))
    head = without(base, "blue-shop", "green-shop", "blue-shop-deployment", "green-shop-deployment")
    result = verdict(base, head, apps, {"workloads": apps["workloads"][:1]})
    assert result.accepted, result.refusals
    lost = without(base, "blue-aspnetapp-deployment")
    result = verdict(base, lost, apps, apps)
    assert result.refusals[0] == (
        "refused: nothing serving is lost: the change deletes Deployment aspnetapp/aspnetapp, "
        "an object blue serves with"
    )


def test_an_azure_loss_is_told_before_the_kubernetes_objects_it_takes() -> None:
    base = stack()
    head = without(base, "blue-aspnetapp-deployment", "blue-identity")
    refusals = verdict(base, head).refusals
    assert [r.split(" the change ")[1].split(",")[0] for r in refusals[:2]] == [
        "deletes UserAssignedIdentity blue-identity",
        "deletes Deployment aspnetapp/aspnetapp",
    ]


def test_a_resource_protected_in_the_base_is_never_deleted() -> None:
    base = stack()
    job = named(base, "green-smoke")
    base.resources[job.urn] = replace(job, protect=True)
    result = verdict(base, without(base, "green-smoke"))
    assert (
        "refused: protected: the change deletes Job agic/smoke, protected in the base; the "
        "engine refuses it too"
    ) in result.refusals


# --- a flip comes alone ----------------------------------------------------------------------


def test_a_flip_alone_is_accepted_even_as_agics_release_changes() -> None:
    head = changed(stack(), "agic-release", name="agic-green")
    assert verdict(stack(), head, head_cfg={"active": "green"}).accepted
    refused = verdict(stack(), head)
    assert "replaces Release agic/agic" in refused.refusals[0]


def test_a_flip_with_other_keys_names_them_and_the_way_round() -> None:
    green = {"clusters": {"green": {"maxPods": 100}}}
    result = verdict(stack(), stack(), head_cfg={"active": "green", **green})
    assert result.refusals[0] == (
        "refused: a flip changes nothing else: active blue -> green comes with "
        "clusters.green.maxPods; move those to their own pull request, land it, then flip alone"
    )
    many = {
        "active": "green",
        "clusters": {"green": {"maxPods": 100, "nodeCount": 4, "maxSurge": 2}},
        "gateway": {"capacity": 3},
        "agic": {"reconcilePeriodSeconds": 90},
        "smoke": {"attempts": 5, "timeoutSeconds": 6},
        "monitoring": {"retentionInDays": 60},
    }
    [first] = [
        r
        for r in verdict(stack(), stack(), head_cfg=many).refusals
        if r.startswith("refused: a flip changes nothing else")
    ]
    assert "and 2 more; move those" in first
    assert "clusters.green.maxPods" in first
    # The break-glass is the flip's own companion.
    glass = {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}
    assert verdict(stack(), stack(), head_cfg=glass).accepted


# --- every change can be reverted ------------------------------------------------------------


def test_a_change_whose_revert_is_refused_is_refused_with_a_sequence_that_works() -> None:
    patched = {"clusters": {"blue": {"kubernetesVersion": "1.35.7"}}}
    result = verdict(
        stack(), stack(), {"clusters": {"blue": {"kubernetesVersion": "1.35.3"}}}, patched
    )
    [refusal] = result.refusals
    assert refusal.startswith(
        "refused: every change can be reverted, and the revert of this one would be refused: "
        "aks-bluegreen:clusters.blue.kubernetesVersion: 1.35.7 -> 1.35.3 is a downgrade"
    )
    assert refusal.endswith(
        "; instead: split the change so that each step can be reverted on its own"
    )


def test_a_flip_whose_revert_is_refused_is_told_to_land_the_rest_first() -> None:
    head = {"active": "green", "clusters": {"green": {"kubernetesVersion": "1.37"}}}
    refusals = verdict(stack(), stack(), head_cfg=head).refusals
    assert refusals[-1].endswith(
        "; instead: first land everything but the flip (keep active: blue), let `pulumi up` "
        "finish, then change active alone"
    )
    assert "1.37 -> 1.36 is a downgrade" in refusals[-1]


def test_a_revert_shows_two_reasons_and_counts_the_rest() -> None:
    # A flip to a green built by this change: its revert, back to blue, would delete all of
    # green while green is the verified one.
    base = without(stack(), "green-aks", "green-identity", "green-kubernetes", "green-subnet")
    result = verdict(base, stack(), head_cfg={"active": "green"}, serving="blue")
    [back] = [r for r in result.refusals if "every change can be reverted" in r]
    assert back.count("nothing serving is lost") == 2
    assert "(and 2 more); instead: first land everything but the flip" in back


def test_the_revert_is_judged_on_the_base_evaluated_after_the_head() -> None:
    base = stack()
    again = without(base, "blue-aspnetapp-deployment")
    head = changed(base, "green-aks", networkProfile={"podCidr": "y"})
    assert verdict(base, head).accepted
    # The revert would deploy `again`: it deletes what blue serves.
    [back] = verdict(base, head, base_again=again).refusals
    assert "deletes Deployment aspnetapp/aspnetapp" in back


def test_declaring_the_break_glass_has_no_revert_to_judge() -> None:
    glass = {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}
    # Its revert would lift the break-glass with blue still enabled, which the rules refuse.
    assert transition_refusals(cfg(glass), cfg(), f"aksbg-{STACK}", revert=True)
    assert verdict(stack(), stack(), head_cfg=glass).accepted


def test_a_revert_forgives_version_changes_of_a_cluster_standby_on_both_sides() -> None:
    upgraded = cfg({"clusters": {"green": {"kubernetesVersion": "1.37"}}})
    prefix = f"aksbg-{STACK}"
    [downgrade] = transition_refusals(upgraded, cfg(), prefix)
    assert "clusters.green.kubernetesVersion: 1.37 -> 1.36 is a downgrade" in downgrade
    assert transition_refusals(upgraded, cfg(), prefix, revert=True) == []
    # The serving one's is no revert.
    patched = cfg({"clusters": {"blue": {"kubernetesVersion": "1.35.7"}}})
    older = cfg({"clusters": {"blue": {"kubernetesVersion": "1.35.3"}}})
    assert transition_refusals(patched, older, prefix, revert=True) != []
    flipped = cfg({"active": "green", "clusters": {"green": {"kubernetesVersion": "1.37"}}})
    assert transition_refusals(flipped, cfg(), prefix, revert=True) != []


def test_the_forward_transition_rules_refuse_too() -> None:
    upgraded = {"clusters": {"blue": {"kubernetesVersion": "1.36"}}}
    forward, back = verdict(stack(), stack(), head_cfg=upgraded).refusals
    assert forward.startswith(
        "refused: aks-bluegreen:clusters.blue.kubernetesVersion: 1.35 -> 1.36 upgrades blue"
    )
    assert "would be refused: aks-bluegreen:clusters.blue.kubernetesVersion: 1.36 -> 1.35" in back


# --- config keys -----------------------------------------------------------------------------


def test_config_keys_are_dotted_leaves_with_lists_whole() -> None:
    assert config_keys({"a": {"b": 1, "c": {"d": [1, 2]}}, "e": None}) == {
        "a.b": 1,
        "a.c.d": [1, 2],
        "e": None,
    }
    assert changed_keys(cfg(), cfg({"gateway": {"capacity": 3}, "active": "green"})) == [
        "active",
        "gateway.capacity",
    ]
    assert changed_keys(cfg(), cfg()) == []


# --- edges of the same rules -----------------------------------------------------------------


def test_a_kubernetes_object_of_an_unknown_provider_belongs_to_no_cluster() -> None:
    world = stack()
    for provider in ("urn:x::aaa-kubernetes", "urn:x::default_4_18_0"):
        stray = _reg(DEPLOYMENT, "stray", {"metadata": {"name": "x"}}, provider=provider)
        assert serving_role(world, stray, frozenset({"blue", "green"}), flip=False) is None


def test_every_serving_loss_is_found_past_changes_that_lose_nothing() -> None:
    base = stack()
    both = without(base, "green-aspnetapp-deployment", "blue-aspnetapp-deployment")
    assert (
        verdict(base, both)
        .refusals[0]
        .endswith("deletes Deployment aspnetapp/aspnetapp, an object blue serves with")
    )
    assert verdict(base, both).clusters_lost == ()
    shop = {"name": "shop", "image": config.SAMPLE_IMAGE, "path": "/shop"}
    apps = {"workloads": [{"name": "aspnetapp", "image": config.SAMPLE_IMAGE}, shop]}
    two = stack(("aspnetapp", "shop"))
    removed = without(
        two, "blue-shop", "green-shop", "blue-shop-deployment", "green-shop-deployment"
    )
    result = verdict(
        two, without(removed, "blue-identity"), apps, {"workloads": apps["workloads"][:1]}
    )
    assert "deletes UserAssignedIdentity blue-identity" in result.refusals[0]


def test_a_protected_resource_replaced_is_told_as_replaced() -> None:
    base = stack()
    job = named(base, "green-smoke")
    base.resources[job.urn] = replace(job, protect=True)
    head = changed(base, "green-smoke", spec={"template": 2})
    assert (
        "refused: protected: the change replaces Job agic/smoke, protected in the base; the "
        "engine refuses it too"
    ) in verdict(base, head).refusals


def test_only_a_cluster_lost_is_named_lost() -> None:
    base = stack()
    slot = named(base, "green-slot")
    grant = _reg("azure-native:authorization:RoleAssignment", "green-grant", parent=slot.urn)
    base.resources[grant.urn] = grant
    assert (
        verdict(base, without(base, "green-grant", "green-aspnetapp-deployment")).clusters_lost
        == ()
    )


def test_keys_only_one_side_has_are_changed_keys() -> None:
    dns = {"dns": {"zone": "example.com", "resourceGroup": "dns-rg"}}
    assert changed_keys(cfg(), cfg(dns)) == ["dns.resourceGroup", "dns.zone"]


def test_a_flip_back_to_blue_comes_alone_too_and_names_keys_before_active() -> None:
    green = {"active": "green"}
    [refusal] = [
        r
        for r in verdict(stack(), stack(), green, {"agic": {"reconcilePeriodSeconds": 90}}).refusals
        if r.startswith("refused: a flip")
    ]
    assert "active green -> blue comes with agic.reconcilePeriodSeconds;" in refusal


def test_a_flip_shows_six_other_keys_and_counts_the_rest() -> None:
    six = {
        "active": "green",
        "clusters": {"green": {"maxPods": 100, "nodeCount": 4, "maxSurge": 2}},
        "gateway": {"capacity": 3},
        "smoke": {"attempts": 5, "timeoutSeconds": 6},
    }
    keys = changed_keys(cfg(), cfg(six))[1:]
    assert len(keys) == 6

    def flip_refusal(head: dict[str, Any]) -> str:
        [found] = [
            r
            for r in verdict(stack(), stack(), head_cfg=head).refusals
            if r.startswith("refused: a flip")
        ]
        return found

    assert f"comes with {', '.join(keys)}; move those" in flip_refusal(six)
    seven = {**six, "monitoring": {"retentionInDays": 60}}
    shown = changed_keys(cfg(), cfg(seven))[1:7]
    assert f"comes with {', '.join(shown)} and 1 more; move those" in flip_refusal(seven)


def test_with_green_serving_on_both_sides_blue_is_the_standby_a_revert_forgives() -> None:
    prefix = f"aksbg-{STACK}"
    green = cfg({"active": "green"})
    upgraded = cfg({"active": "green", "clusters": {"blue": {"kubernetesVersion": "1.36"}}})
    assert transition_refusals(upgraded, green, prefix) != []
    assert transition_refusals(upgraded, green, prefix, revert=True) == []


def test_a_revert_forgives_only_the_standbys_version_not_its_subnet() -> None:
    prefix = f"aksbg-{STACK}"
    moved = cfg({"clusters": {"green": {"subnetCidr": "10.242.0.0/16"}}})
    [problem] = transition_refusals(moved, cfg(), prefix, revert=True)
    assert "clusters.green.subnetCidr" in problem


def test_a_standby_upgrade_is_accepted_though_its_revert_downgrades_the_standby() -> None:
    upgraded = {"clusters": {"green": {"kubernetesVersion": "1.37"}}}
    assert verdict(stack(), stack(), head_cfg=upgraded).accepted


def test_a_revert_refused_for_two_reasons_shows_both_and_counts_none_more() -> None:
    base = stack()
    head = without(base, "blue-identity", "blue-aspnetapp-deployment")
    # The revert would deploy `head`: two of blue's objects lost, then three.
    result = verdict(
        base, changed(base, "green-aks", networkProfile={"podCidr": "y"}), base_again=head
    )
    [back] = result.refusals
    assert back.count("nothing serving is lost") == 2
    assert "more)" not in back
    three = without(head, "blue-agic-namespace")
    [back] = verdict(
        base, changed(base, "green-aks", networkProfile={"podCidr": "y"}), base_again=three
    ).refusals
    assert "; instead:" in back and " (and 1 more); instead: split the change" in back


def test_a_flip_back_whose_revert_is_refused_is_told_to_land_the_rest_first() -> None:
    green = {"active": "green"}
    head = {"clusters": {"blue": {"kubernetesVersion": "1.36"}}}
    refusals = verdict(stack(), stack(), green, head, serving="green").refusals
    assert refusals[-1].endswith(
        "; instead: first land everything but the flip (keep active: green), let `pulumi up` "
        "finish, then change active alone"
    )


def test_a_flip_names_keys_that_sort_before_active() -> None:
    preview = {"preview": {"objectId": "00000000-0000-0000-0000-0000000000ff"}}
    head = {"active": "green", "access": preview}
    [refusal] = [
        r
        for r in verdict(stack(), stack(), head_cfg=head).refusals
        if r.startswith("refused: a flip")
    ]
    assert "comes with access.preview.objectId;" in refusal


def test_a_revert_refused_for_one_reason_counts_nothing_more() -> None:
    base = stack()
    head = changed(base, "green-aks", networkProfile={"podCidr": "y"})
    [back] = verdict(base, head, base_again=without(base, "blue-identity")).refusals
    assert back.count("nothing serving is lost") == 1
    assert "more)" not in back

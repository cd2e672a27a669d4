"""The engine's rules of plan/diff.py on hand-built registrations, without evaluating the
program: what is replaced and why, who is deleted first, what a replacement carries with it, and
the order of the steps."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from live_gateway.preflight_provider import PREFLIGHT_TYPE
from plan.diff import (
    HELM_RELEASE,
    KUBERNETES_PROVIDER,
    changed_paths,
    covering,
    diff,
    force_new_paths,
    provider_asks_delete_first,
    provider_deletes_first,
)
from plan.evaluate import Evaluation, Registration

CLUSTER = "azure-native:containerservice:ManagedCluster"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE = "azure-native:authorization:RoleAssignment"


def urn(name: str, typ: str = CONFIG_MAP) -> str:
    return f"urn:pulumi:prod::aks-bluegreen::{typ}::{name}"


def reg(
    name: str,
    typ: str = CONFIG_MAP,
    inputs: dict[str, Any] | None = None,
    *,
    provider: str = "",
    parent: str = "",
    custom: bool = True,
    protect: bool = False,
    delete_before_replace: bool = False,
    ignore_changes: tuple[str, ...] = (),
    replace_on_changes: tuple[str, ...] = (),
    dependencies: tuple[str, ...] = (),
    property_dependencies: dict[str, tuple[str, ...]] | None = None,
) -> Registration:
    """A registration as the evaluation decodes it from the engine's messages: every string a
    new object, equal to the program's constants but never the same one."""
    if inputs is None and typ.startswith("kubernetes:") and typ != HELM_RELEASE:
        inputs = {"metadata": {"name": name, "namespace": "shop"}}
    return Registration(
        urn=urn(name, typ),
        type=_decoded(typ),
        name=name,
        custom=custom,
        parent=parent,
        provider=_decoded(provider),
        inputs=json.loads(json.dumps(inputs or {})),
        secret_inputs=frozenset(),
        protect=protect,
        delete_before_replace=delete_before_replace,
        ignore_changes=tuple(map(_decoded, ignore_changes)),
        replace_on_changes=tuple(map(_decoded, replace_on_changes)),
        dependencies=dependencies,
        custom_timeouts={},
        property_dependencies=property_dependencies or {},
    )


def _decoded(text: str) -> str:
    return text.encode().decode()


def evaluation(*registrations: Registration) -> Evaluation:
    return Evaluation(resources={r.urn: r for r in registrations})


# --- which inputs changed --------------------------------------------------------------------


def test_changed_paths_name_the_nested_leaves_that_differ() -> None:
    before = {"spec": {"replicas": 3, "ports": [80, 443], "pods": [{"n": 1}]}, "gone": 1, "x": 1}
    after = {"spec": {"replicas": 4, "ports": [80, 8443], "pods": [{"n": 2}]}, "new": 1, "x": 1}
    assert changed_paths(before, after) == [
        "gone",
        "new",
        "spec.pods[0].n",
        "spec.ports[1]",
        "spec.replicas",
    ]
    # A list that grows or shrinks changed as a whole; a type change is a change of that key.
    assert changed_paths({"zones": ["1"]}, {"zones": ["1", "2"]}) == ["zones"]
    assert changed_paths({"zones": ["1", "2"]}, {"zones": ["1"]}) == ["zones"]
    # Equal values decoded apart are no change.
    same = {"image": "mcr.microsoft.com/dotnet/samples:aspnetapp", "replicas": 1000}
    assert changed_paths(same, json.loads(json.dumps(same))) == []
    assert changed_paths({"a": {"b": 1}}, {"a": [1]}) == ["a"]
    assert changed_paths({"a": {"b": [1, {"c": 1}]}}, {"a": {"b": [1, {"c": 1}]}}) == []


@pytest.mark.parametrize(
    ("path", "patterns", "covered_by"),
    [
        ("metadata.name", ("metadata.name",), "metadata.name"),
        ("spec.template.spec.containers[0].image", ("spec.template",), "spec.template"),
        ("networkProfile[0]", ("networkProfile",), "networkProfile"),
        ("metadata.namespace", ("metadata.name",), None),
        ("metadata", ("metadata.name",), None),
        ("pools[3].vmSize", ("pools[*].vmSize",), "pools[*].vmSize"),
        ("pools[x].vmSize", ("pools[*].vmSize",), None),
        ("a.b.c", ("a.*.c",), "a.*.c"),
        ("a.b.d.c", ("a.*.c",), None),
        ("a[0].c", ("a.*.c",), None),
        ("anything.at[1].all", ("x", "*"), "*"),
        ("a.b", ("x", "a", "a.b"), "a"),
        ("ab", ("a",), None),
    ],
)
def test_a_pattern_covers_its_path_its_children_and_its_wildcards(
    path: str, patterns: tuple[str, ...], covered_by: str | None
) -> None:
    assert covering(path, patterns) == covered_by


def test_force_new_paths_are_the_providers_own() -> None:
    cluster = force_new_paths(CLUSTER)
    assert cluster[:2] == ("resourceGroupName", "resourceName")
    assert "networkProfile" in cluster and "location" in cluster
    assert force_new_paths("azure-native:network:Subnet") == (
        "resourceGroupName",
        "virtualNetworkName",
        "subnetName",
    )
    assert force_new_paths("azure-native:unknown:Thing") == ()
    assert force_new_paths(CONFIG_MAP) == ("metadata.name", "metadata.namespace")
    assert force_new_paths("kubernetes:batch/v1:Job")[2:] == (
        "spec.completions",
        "spec.parallelism",
        "spec.selector",
        "spec.template",
    )
    assert force_new_paths(HELM_RELEASE) == ("name", "namespace")
    assert force_new_paths(KUBERNETES_PROVIDER) == ()


def test_who_asks_for_delete_before_replace() -> None:
    named = {"metadata": {"name": "a", "namespace": "shop"}}
    renamed = {"metadata": {"name": "b", "namespace": "shop"}}
    moved = {"metadata": {"name": "a", "namespace": "blog"}}
    assert provider_asks_delete_first(CLUSTER, {}, {}, True)
    assert not provider_asks_delete_first(CLUSTER, {}, {}, False)
    assert provider_asks_delete_first(CONFIG_MAP, named, named, False)
    assert not provider_asks_delete_first(CONFIG_MAP, named, renamed, True)
    assert not provider_asks_delete_first(CONFIG_MAP, named, moved, True)
    assert provider_asks_delete_first(CONFIG_MAP, {"metadata": None}, {}, True)
    assert not provider_asks_delete_first(HELM_RELEASE, {}, {}, True)
    assert not provider_asks_delete_first("random:index:RandomString", {}, {}, True)
    # The resource option overrides the provider.
    release = reg("agic", HELM_RELEASE, delete_before_replace=True)
    assert provider_deletes_first(release, release, False)
    assert not provider_deletes_first(reg("agic", HELM_RELEASE), reg("agic", HELM_RELEASE), True)


# --- one resource between two evaluations ----------------------------------------------------


def one(before: Registration, after: Registration) -> tuple[str, str, bool]:
    change = diff(evaluation(before), evaluation(after)).changes[after.urn]
    return change.action, change.reason, change.delete_before_replace


def test_a_change_outside_the_force_new_paths_is_an_update_listing_four_paths() -> None:
    old = {"metadata": {"name": "c", "namespace": "shop"}, "data": dict.fromkeys("abcde", "1")}
    new = {**old, "data": dict.fromkeys("abcde", "2")}
    assert one(reg("c", inputs=old), reg("c", inputs=new)) == (
        "update",
        "data.a, data.b, data.c, data.d ... changed",
        False,
    )
    four = {**old, "data": {**old["data"], "e": "1", "a": "2", "b": "2", "c": "2", "d": "2"}}
    assert one(reg("c", inputs=old), reg("c", inputs=four))[1] == (
        "data.a, data.b, data.c, data.d changed"
    )


def test_ignored_changes_are_no_change_and_the_preflight_never_changes() -> None:
    old, new = {"tags": {"a": "1"}, "sku": "x"}, {"tags": {"a": "2"}, "sku": "x"}
    ignoring = reg("gw", IDENTITY, new, ignore_changes=("tags",))
    assert one(reg("gw", IDENTITY, old), ignoring) == ("same", "", False)
    preflight = reg("pre", PREFLIGHT_TYPE, {"when": 1})
    assert one(preflight, reg("pre", PREFLIGHT_TYPE, {"when": 2}))[0] == "same"


def test_a_force_new_change_replaces_deleting_first_where_the_provider_asks() -> None:
    before = reg("aks", CLUSTER, {"location": "westeurope", "networkProfile": {"a": 1}})
    after = reg("aks", CLUSTER, {"location": "northeurope", "networkProfile": {"a": 2}})
    assert one(before, after) == (
        "replace",
        "location changed; networkProfile.a changed",
        True,
    )
    # Renamed Kubernetes object: created beside the old one first.
    renamed = reg("c", inputs={"metadata": {"name": "d", "namespace": "shop"}})
    assert one(reg("c"), renamed) == ("replace", "metadata.name changed", False)


def test_replace_on_changes_and_a_new_provider_replace() -> None:
    before = reg("c", inputs={"metadata": {"name": "c"}, "data": {"k": "1"}})
    asked = reg(
        "c", inputs={"metadata": {"name": "c"}, "data": {"k": "2"}}, replace_on_changes=("data",)
    )
    assert one(before, asked) == ("replace", "data.k changed", True)
    moved = reg("c", inputs={"metadata": {"name": "c"}}, provider="urn:p::green-kubernetes")
    assert one(
        reg("c", inputs={"metadata": {"name": "c"}}, provider="urn:p::blue-kubernetes"), moved
    ) == (
        "replace",
        "provider blue-kubernetes -> green-kubernetes",
        True,  # the object keeps its name and namespace
    )


def test_protection_alone_changes_only_the_state() -> None:
    assert one(reg("c"), reg("c", protect=True)) == ("state-only", "protect on", False)
    assert one(reg("c", protect=True), reg("c")) == ("state-only", "protect off", False)
    assert one(reg("c", protect=True), reg("c", protect=True)) == ("same", "", False)


# --- the whole plan --------------------------------------------------------------------------


def test_new_and_removed_resources_and_components() -> None:
    component = reg("slot", "aks-bluegreen:index:Slot", custom=False)
    kept, gone, new = reg("kept"), reg("gone", parent=component.urn), reg("new")
    plan = diff(evaluation(component, kept, gone), evaluation(component, kept, new))
    assert component.urn not in plan.changes
    assert (plan.changes[new.urn].action, plan.changes[new.urn].reason) == ("create", "new")
    assert plan.changes[new.urn].before is None and plan.changes[new.urn].after == new
    deleted = plan.changes[gone.urn]
    assert (deleted.action, deleted.reason, deleted.after) == ("delete", "no longer declared", None)
    assert [c.name for c in plan.untouched] == ["kept"]
    assert sorted(c.name for c in plan.touched) == ["gone", "new"]
    assert [c.name for c in plan.by_action("delete")] == ["gone"]
    assert [(s.kind, s.change.name, s.note) for s in plan.steps] == [
        ("create", "new", ""),
        ("delete", "gone", "no longer declared"),
    ]


def test_a_replaced_cluster_takes_its_provider_and_objects_deleting_dependents_first() -> None:
    aks = reg("blue-aks", CLUSTER, {"networkProfile": {"serviceCidr": "10.0.0.0/16"}})
    aks_new = reg("blue-aks", CLUSTER, {"networkProfile": {"serviceCidr": "10.1.0.0/16"}})
    provider = reg(
        "blue-kubernetes",
        KUBERNETES_PROVIDER,
        {"kubeconfig": "x"},
        dependencies=(aks.urn,),
        property_dependencies={"kubeconfig": (aks.urn,)},
    )
    app = reg("blue-app", provider=provider.urn)
    # An Azure grant whose force-new scope is the cluster's ID, and one that only refers to it.
    grant = reg(
        "blue-grant",
        ROLE,
        {"scope": "id"},
        dependencies=(aks.urn,),
        property_dependencies={"scope": (aks.urn,)},
    )
    note = reg(
        "blue-note",
        IDENTITY,
        {"tags": {}},
        dependencies=(aks.urn,),
        property_dependencies={"tags": (aks.urn,)},
    )
    other = reg("green-app", provider="urn:other")
    plan = diff(
        evaluation(aks, provider, app, grant, note, other),
        evaluation(aks_new, provider, app, grant, note, other),
    )
    why = {c.name: (c.action, c.reason, c.delete_before_replace) for c in plan.changes.values()}
    assert why == {
        "blue-aks": ("replace", "networkProfile.serviceCidr changed", True),
        "blue-kubernetes": ("replace", "kubeconfig unknown until its cluster is rebuilt", True),
        "blue-app": ("replace", "its provider blue-kubernetes is replaced", True),
        "blue-grant": ("replace", "scope come from a replaced resource", True),
        "blue-note": ("same", "", False),
        "green-app": ("same", "", False),
    }
    steps = [(s.kind, s.change.name, s.note) for s in plan.steps]
    assert steps == [
        ("delete", "blue-app", "deleted before blue-aks"),
        ("delete", "blue-kubernetes", "deleted before blue-aks"),
        ("delete", "blue-grant", "deleted before blue-aks"),
        ("delete", "blue-aks", "replaced, deleted first (delete_before_replace)"),
        ("create", "blue-aks", "replacement"),
        ("create", "blue-grant", "replacement"),
        ("create", "blue-kubernetes", "replacement"),
        ("create", "blue-app", "replacement"),
    ]


def test_a_create_first_replacement_deletes_its_original_after_everything_else() -> None:
    old = reg("c")
    renamed = reg("c", inputs={"metadata": {"name": "d", "namespace": "shop"}})
    updated_before, updated_after = reg("u", inputs={"data": 1}), reg("u", inputs={"data": 2})
    gone = reg("gone", dependencies=(old.urn,))
    plan = diff(evaluation(old, updated_before, gone), evaluation(renamed, updated_after))
    assert [(s.kind, s.change.name, s.note) for s in plan.steps] == [
        ("create", "c", "replacement, created first"),
        ("update", "u", ""),
        ("delete", "gone", "no longer declared"),
        ("delete", "c", "original of a replacement"),
    ]


def test_the_break_glass_refresh_drops_the_unreachable_clusters_objects_first() -> None:
    provider = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"deleteUnreachable": "false"})
    armed = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"deleteUnreachable": "true"})
    app, gone = reg("blue-app", provider=provider.urn), reg("blue-old", provider=provider.urn)
    kept = reg("green-app", provider="urn:green")
    plan = diff(evaluation(provider, app, gone, kept), evaluation(armed, app, kept))
    assert plan.arming == (provider.urn,)
    assert plan.changes[provider.urn].action == "update"
    assert plan.changes[provider.urn].reason == "armed first: deleteUnreachable changed"
    assert (plan.changes[app.urn].action, plan.changes[app.urn].reason) == (
        "create",
        "after the refresh dropped its old state",
    )
    assert plan.changes[app.urn].before == app
    assert (plan.changes[gone.urn].action, plan.changes[gone.urn].reason) == (
        "drop",
        "its cluster is declared unreachable",
    )
    assert [(s.kind, s.change.name) for s in plan.steps] == [
        ("drop", "blue-app"),
        ("drop", "blue-old"),
        ("create", "blue-app"),
    ]
    assert plan.steps[0].note == "by the refresh: deleteUnreachable, no call to its cluster"
    assert plan.touched == [plan.changes[provider.urn], plan.changes[app.urn]]
    # Armed already in the base: no arming run, nothing more to drop.
    again = diff(evaluation(armed, kept), evaluation(armed, kept))
    assert again.arming == () and [s.kind for s in again.steps] == []


def test_a_provider_armed_in_a_new_stack_has_no_arming_run() -> None:
    armed = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"deleteUnreachable": "true"})
    plan = diff(evaluation(), evaluation(armed))
    assert plan.arming == ()
    assert [(s.kind, s.change.name) for s in plan.steps] == [("create", "blue-kubernetes")]


def test_steps_run_parents_providers_and_dependencies_first() -> None:
    a = reg("z-first")
    b = reg("a-second", dependencies=(a.urn,))
    c = reg("m-third", parent=b.urn)
    d = reg("b-fourth", provider=c.urn, dependencies=("urn:not-declared",))
    plan = diff(evaluation(), evaluation(d, c, b, a))
    assert [s.change.name for s in plan.steps] == ["z-first", "a-second", "m-third", "b-fourth"]
    removed = diff(evaluation(d, c, b, a), evaluation())
    assert [s.change.name for s in removed.steps] == ["b-fourth", "m-third", "a-second", "z-first"]


def test_a_dependency_cycle_is_refused() -> None:
    a = reg("a", dependencies=(urn("b"),))
    b = reg("b", dependencies=(urn("a"),))
    with pytest.raises(ValueError, match="dependency cycle through"):
        diff(evaluation(), evaluation(a, b))


@pytest.mark.parametrize(
    "typ",
    [
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:policy/v1:PodDisruptionBudget",
    ],
)
def test_every_kubernetes_kind_past_helm_in_name_order_is_fixed_by_its_name(typ: str) -> None:
    assert force_new_paths(_decoded(typ)) == ("metadata.name", "metadata.namespace")
    named = {"metadata": {"name": "a", "namespace": "shop"}}
    assert provider_asks_delete_first(_decoded(typ), named, named, False)
    assert not provider_asks_delete_first(_decoded(HELM_RELEASE), named, named, True)
    assert force_new_paths(_decoded(HELM_RELEASE)) == ("name", "namespace")


def test_a_provider_change_in_either_direction_replaces() -> None:
    blue, green = "urn:p::blue-kubernetes", "urn:p::green-kubernetes"
    assert one(reg("c", provider=green), reg("c", provider=blue))[:2] == (
        "replace",
        "provider green-kubernetes -> blue-kubernetes",
    )


def test_state_only_changes_are_steps_of_their_own() -> None:
    plan = diff(evaluation(reg("c")), evaluation(reg("c", protect=True)))
    assert [(s.kind, s.change.name, s.note) for s in plan.steps] == [
        ("state-only", "c", "protect on")
    ]


def test_a_removed_resource_that_asked_to_be_deleted_first_is_only_deleted() -> None:
    gone = reg("gone", CLUSTER, delete_before_replace=True)
    plan = diff(evaluation(gone), evaluation())
    assert [(s.kind, s.change.name, s.note) for s in plan.steps] == [
        ("delete", "gone", "no longer declared")
    ]


def test_a_new_resource_condemns_none_of_the_resources_fed_by_it() -> None:
    # Only a replacement deleted first leaves its dependents' inputs unknown.
    aks = reg("blue-aks", CLUSTER, delete_before_replace=True)
    before = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"kubeconfig": "old"})
    after = reg(
        "blue-kubernetes",
        KUBERNETES_PROVIDER,
        {"kubeconfig": "new"},
        dependencies=(aks.urn,),
        property_dependencies={"kubeconfig": (aks.urn,)},
    )
    plan = diff(evaluation(before), evaluation(aks, after))
    assert plan.changes[after.urn].action == "update"


def test_a_provider_disarmed_again_is_no_arming_run() -> None:
    armed = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"deleteUnreachable": "true"})
    disarmed = reg("blue-kubernetes", KUBERNETES_PROVIDER, {"deleteUnreachable": "false"})
    plan = diff(evaluation(armed), evaluation(disarmed))
    assert plan.arming == ()
    assert [(s.kind, s.change.name) for s in plan.steps] == [("update", "blue-kubernetes")]


def test_two_clusters_replaced_each_delete_only_their_own_dependents_first() -> None:
    regs: dict[str, list[Registration]] = {}
    for color in ("blue", "green"):
        aks = reg(f"{color}-aks", CLUSTER, {"networkProfile": {"serviceCidr": "10.0.0.0/16"}})
        provider = reg(
            f"{color}-kubernetes",
            KUBERNETES_PROVIDER,
            {"kubeconfig": color},
            dependencies=(aks.urn,),
            property_dependencies={"kubeconfig": (aks.urn,)},
        )
        # The app also takes inputs from two Azure resources, one fed by the other: paths that
        # never reach the cluster, searched before the one through its provider that does.
        vault = reg(f"{color}-vault", IDENTITY)
        secret = reg(
            f"{color}-secret", IDENTITY, dependencies=(vault.urn,),
            property_dependencies={"tags": (vault.urn,)},
        )  # fmt: skip
        app = reg(
            f"{color}-app", provider=provider.urn, dependencies=(vault.urn, secret.urn),
            property_dependencies={"data": (vault.urn, secret.urn)},
        )  # fmt: skip
        regs[color] = [aks, provider, vault, secret, app]
    base = evaluation(*regs["blue"], *regs["green"])
    head = evaluation(
        *[
            replace_inputs(r, {"networkProfile": {"serviceCidr": "10.1.0.0/16"}})
            if r.type == CLUSTER
            else r
            for r in base.resources.values()
        ]
    )
    steps = [(s.kind, s.change.name, s.note) for s in diff(base, head).steps]
    for color in ("blue", "green"):
        mine = [step for step in steps if step[1].startswith(color)]
        assert mine == [
            ("delete", f"{color}-app", f"deleted before {color}-aks"),
            ("delete", f"{color}-kubernetes", f"deleted before {color}-aks"),
            ("delete", f"{color}-aks", "replaced, deleted first (delete_before_replace)"),
            ("create", f"{color}-aks", "replacement"),
            ("create", f"{color}-kubernetes", "replacement"),
            ("create", f"{color}-app", "replacement"),
        ], steps


def replace_inputs(registration: Registration, inputs: dict[str, Any]) -> Registration:
    return replace(registration, inputs=inputs)


def test_a_resource_decoded_twice_with_the_same_provider_is_unchanged() -> None:
    # Base and head are two evaluations: equal provider references, never the same objects.
    provider = "urn:pulumi:prod::aks-bluegreen::pulumi:providers:kubernetes::blue-kubernetes::id"
    assert one(reg("c", provider=provider), reg("c", provider=provider)) == ("same", "", False)


def test_only_a_kubernetes_provider_arms_or_loses_its_kubeconfig() -> None:
    # An app's own input that happens to share a provider's key names neither an unreachable
    # cluster nor a provider to rebuild: only the provider's deleteUnreachable and kubeconfig do.
    aks = reg("blue-aks", CLUSTER, {"networkProfile": {"serviceCidr": "10.0.0.0/16"}})
    aks_new = reg("blue-aks", CLUSTER, {"networkProfile": {"serviceCidr": "10.1.0.0/16"}})
    data = reg(
        "blue-settings",
        CONFIG_MAP,
        {"metadata": {"name": "settings", "namespace": "shop"}, "kubeconfig": "x"},
        provider="urn:green",
        dependencies=(aks.urn,),
        property_dependencies={"kubeconfig": (aks.urn,)},
    )
    plan = diff(evaluation(aks, data), evaluation(aks_new, data))
    assert plan.changes[data.urn].action == "same"
    flag = reg("blue-flag", CONFIG_MAP, {"deleteUnreachable": "false"}, provider="urn:green")
    raised = reg("blue-flag", CONFIG_MAP, {"deleteUnreachable": "true"}, provider="urn:green")
    app = reg("green-app", provider=flag.urn)
    plan = diff(evaluation(flag, app), evaluation(raised, app))
    assert plan.arming == ()
    assert plan.changes[app.urn].action == "same"
    assert [s.kind for s in plan.steps] == ["update"]

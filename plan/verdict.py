"""The verdict on a change: the safety invariants, judged on what the change does.

A list of dangerous config keys always misses one, so nothing here asks which key changed. Two
evaluations of the real program (plan/evaluate.py) give what each config declares, the diff
(plan/diff.py) gives what the engine would do between them, and the invariants are judged on
that: whatever key caused a delete or a replace, it is refused if it hits what serves traffic.
The offline plan judges a pull request's base against its head; the program judges its last
deployment's recorded config against its own (plan/judge.py), with the same function.

1. Nothing serving is deleted or replaced: the cluster the gateway was last verified to serve
   (during a flip, both clusters), its Kubernetes objects (not the smoke gates' Jobs, which are
   tests and re-run by being replaced), AGIC's namespaces, the AGIC release while it is the only
   writer (outside a flip), and the shared infrastructure. An app the change removes may take
   its own objects with it: that is what removing an app means.
2. A flip changes nothing else: `active` changes alone (with `breakGlass`, whose rules are its
   own); other keys go to their own pull request.
3. Every accepted change can be reverted: the same judge runs on head -> base, with the head as
   the verified one, and so do the transition rules (config/transition.py), except the version
   rules on a cluster that is the standby on both sides: a standby's version is its own
   business (retire and rebuild it), but a revert that must downgrade the cluster it rolls
   back from is no revert.
6. The engine's own rule: a resource protected in the base is never deleted or replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from config import COLORS, Color, StackConfig, transition
from plan.diff import HELM_RELEASE, KUBERNETES_PROVIDER, Plan, diff
from plan.evaluate import Evaluation, Registration

SLOT_TYPE = "aks-bluegreen:index:Slot"
WORKLOAD_TYPE = "aks-bluegreen:index:Workload"
AGIC_TYPE = "aks-bluegreen:index:Agic"
CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster"
JOB_TYPE = "kubernetes:batch/v1:Job"
# The shared infrastructure every cluster's traffic passes through or is recorded in.
SHARED_TYPES: dict[str, str] = {
    "azure-native:resources:ResourceGroup": "the resource group",
    "azure-native:network:VirtualNetwork": "the VNet",
    "azure-native:network:ApplicationGateway": "the gateway",
    "azure-native:network:PublicIPAddress": "the gateway's public IP",
    "azure-native:operationalinsights:Workspace": "the Log Analytics workspace",
}
GATEWAY_SUBNET_NAME = "appgw"
# Keys a flip may change besides `active`: the break-glass declares the old cluster unreachable
# in the very change that moves away from it (config/rules.py).
FLIP_COMPANIONS = ("breakGlass",)


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[str, ...] = ()
    # Clusters the change deletes or replaces: `pulumi preview` and `up` check the live gateway
    # sends them nothing first (components/retire_guard.py).
    clusters_lost: tuple[Color, ...] = ()
    # What was judged, for the plan to say.
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def accepted(self) -> bool:
        return not self.refusals


def _ancestors(evaluation: Evaluation, reg: Registration) -> Iterable[Registration]:
    parent = evaluation.resources.get(reg.parent)
    while parent is not None:
        yield parent
        parent = evaluation.resources.get(parent.parent)


def _provider_color(reg: Registration) -> Color | None:
    name = reg.provider.rsplit("::", 1)[-1]
    for color in COLORS:
        if name == f"{color}-kubernetes":
            return color
    return None


def _slot_color(evaluation: Evaluation, reg: Registration) -> Color | None:
    for ancestor in _ancestors(evaluation, reg):
        if ancestor.type == SLOT_TYPE:
            color = ancestor.name.removesuffix("-slot")
            return color if color in COLORS else None
    return None


def _workload(evaluation: Evaluation, reg: Registration) -> str | None:
    for ancestor in _ancestors(evaluation, reg):
        if ancestor.type == WORKLOAD_TYPE:
            return ancestor.name
    return None


def _object_name(reg: Registration) -> str:
    """What an operator recognises: `namespace/name` for Kubernetes objects, else the name."""
    meta = reg.inputs.get("metadata") if isinstance(reg.inputs.get("metadata"), dict) else None
    if meta and meta.get("name"):
        namespace = meta.get("namespace")
        return f"{namespace}/{meta['name']}" if namespace else str(meta["name"])
    if reg.type == HELM_RELEASE:
        return f"{reg.inputs.get('namespace')}/{reg.inputs.get('name')}"
    return reg.name


def serving_role(
    evaluation: Evaluation, reg: Registration, protected: frozenset[Color], flip: bool
) -> str | None:
    """Why `reg` serves traffic (its role, for the refusal), or None if it does not."""
    if reg.type in SHARED_TYPES:
        return SHARED_TYPES[reg.type]
    if reg.type == "azure-native:network:Subnet":
        subnet = reg.inputs.get("subnetName")
        if subnet == GATEWAY_SUBNET_NAME:
            return "the gateway subnet"
        owner = str(subnet).removeprefix("aks-")
        return f"{owner}'s subnet, where its nodes and pods live" if owner in protected else None
    in_agic = any(a.type == AGIC_TYPE for a in _ancestors(evaluation, reg))
    if in_agic and reg.type == "azure-native:managedidentity:UserAssignedIdentity":
        return "AGIC's identity"
    if reg.type == HELM_RELEASE:
        return None if flip else "the AGIC release, the gateway's only writer"
    color = _slot_color(evaluation, reg) or (
        _provider_color(reg) if reg.type.startswith("kubernetes:") else None
    )
    if color is None or color not in protected:
        return None
    if reg.type == CLUSTER_TYPE:
        return f"{color}'s cluster"
    if reg.type == KUBERNETES_PROVIDER:
        return f"{color}'s Kubernetes provider (replacing it replaces every object in {color})"
    if reg.type == "azure-native:managedidentity:UserAssignedIdentity":
        return f"{color}'s control-plane identity"
    if reg.type.startswith("kubernetes:") and reg.type != JOB_TYPE:
        if in_agic:
            return f"AGIC's namespace in {color}"
        return f"an object {color} serves with"
    return None


def _protected_colors(
    base_cfg: StackConfig, head_cfg: StackConfig, serving: Color | None
) -> set[Color]:
    """The clusters nothing may delete or replace: the verified one, and both during a flip."""
    colors = {base_cfg.active, head_cfg.active}
    if serving is not None:
        colors.add(serving)
    else:
        # Nothing verified yet: either cluster may be the one the gateway sends traffic to.
        colors |= set(COLORS)
    return {c for c in colors if base_cfg.clusters[c].enabled}


def _engine_order(plan: Plan) -> list[str]:
    """Changes in the order the engine runs their steps, so a change is always told the same
    way (registration order varies from one evaluation to the next)."""
    return list(dict.fromkeys([step.change.urn for step in plan.steps] + sorted(plan.changes)))


def _invariant_nothing_serving_lost(
    plan: Plan, base: Evaluation, protected: frozenset[Color], flip: bool, removed_apps: set[str]
) -> list[str]:
    found: list[tuple[bool, str]] = []
    # Objects replaced only because their provider is (the engine replaces every resource of a
    # replaced provider) are named once, after the provider.
    carried: dict[str, list[str]] = {}
    # In the engine's order, so that the same change is always told the same way.
    for change in (plan.changes[urn] for urn in _engine_order(plan)):
        if change.action not in ("delete", "replace") or change.before is None:
            continue
        reg = change.before
        role = serving_role(base, reg, protected, flip)
        if role is None:
            continue
        if change.action == "delete" and _workload(base, reg) in removed_apps:
            continue
        kind = reg.type.split(":")[-1]
        if change.action == "replace" and change.reason.startswith("its provider "):
            carried.setdefault(reg.provider, []).append(f"{kind} {_object_name(reg)}")
            continue
        verb = "deletes" if change.action == "delete" else "replaces"
        why = f" ({change.reason})" if change.action == "replace" and change.reason else ""
        # Azure resources first: a cluster's loss is the cause, its objects' the consequence.
        found.append(
            (
                not reg.type.startswith("azure-native:"),
                f"{verb} {kind} {_object_name(reg)}{why}, {role}",
            )
        )
        if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:
            carried.setdefault(reg.urn, [])
    lines = [
        f"nothing serving is lost: the change {line}"
        for _, line in sorted(found, key=lambda item: item[0])
    ]
    for provider, objects in carried.items():
        if objects:
            # Every one by its real `namespace/name`: which namespace goes is the point.
            shown = ", ".join(objects)
            lines.append(
                f"nothing serving is lost: with {provider.rsplit('::', 1)[-1]} the change "
                f"replaces {len(objects)} serving object(s): {shown}"
            )
    return lines


def _invariant_engine_protection(plan: Plan) -> list[str]:
    # pulumi/pulumi pkg/resource/deploy/step_generator.go refuses to delete a resource whose
    # state is protected, and to replace one that stays protected.
    return [
        f"protected: the change {'deletes' if c.action == 'delete' else 'replaces'} "
        f"{c.type.split(':')[-1]} {_object_name(c.before)}, protected in the base; the engine "
        "refuses it too"
        for c in (plan.changes[urn] for urn in _engine_order(plan))
        if c.action in ("delete", "replace") and c.before is not None and c.before.protect
    ]


def config_keys(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a config dump by dotted key, lists as wholes (`workloads`, `zones`)."""
    if isinstance(value, dict):
        leaves: dict[str, Any] = {}
        for key, inner in value.items():
            leaves.update(config_keys(inner, f"{prefix}.{key}" if prefix else key))
        return leaves
    return {prefix: value}


def changed_keys(base_cfg: StackConfig, head_cfg: StackConfig) -> list[str]:
    before = config_keys(base_cfg.model_dump(mode="json", by_alias=True))
    after = config_keys(head_cfg.model_dump(mode="json", by_alias=True))
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _invariant_flip_alone(base_cfg: StackConfig, head_cfg: StackConfig) -> list[str]:
    if base_cfg.active == head_cfg.active:
        return []
    others = [
        key
        for key in changed_keys(base_cfg, head_cfg)
        if key != "active" and not key.startswith(FLIP_COMPANIONS)
    ]
    if not others:
        return []
    shown = ", ".join(others[:6]) + (f" and {len(others) - 6} more" if len(others) > 6 else "")
    return [
        f"a flip changes nothing else: active {base_cfg.active} -> {head_cfg.active} comes with "
        f"{shown}; move those to their own pull request, land it, then flip alone"
    ]


def _removed_apps(base_cfg: StackConfig, head_cfg: StackConfig) -> set[str]:
    kept = {w.name for w in head_cfg.workloads}
    return {
        f"{color}-{w.name}" for w in base_cfg.workloads if w.name not in kept for color in COLORS
    }


def _clusters_lost(plan: Plan, base: Evaluation) -> tuple[Color, ...]:
    lost = {
        _slot_color(base, c.before)
        for c in plan.changes.values()
        if c.type == CLUSTER_TYPE and c.action in ("delete", "replace") and c.before is not None
    }
    return tuple(c for c in COLORS if c in lost)


def _one_way(
    base: Evaluation,
    head: Evaluation,
    base_cfg: StackConfig,
    head_cfg: StackConfig,
    serving: Color | None,
) -> tuple[list[str], Plan]:
    plan = diff(base, head)
    flip = base_cfg.active != head_cfg.active
    protected = frozenset(_protected_colors(base_cfg, head_cfg, serving))
    found = _invariant_nothing_serving_lost(
        plan, base, protected, flip, _removed_apps(base_cfg, head_cfg)
    )
    found += _invariant_engine_protection(plan)
    found += _invariant_flip_alone(base_cfg, head_cfg)
    return list(dict.fromkeys(found)), plan


def transition_refusals(
    base_cfg: StackConfig, head_cfg: StackConfig, prefix: str, revert: bool = False
) -> list[str]:
    """What Azure or AKS would refuse mid-deployment (config/transition.py)."""
    problems = transition.refusals(
        transition.facts_of(base_cfg, prefix), transition.facts_of(head_cfg, prefix)
    )
    if revert:
        # The revert is judged for the traffic it moves back: a standby on both sides keeps its
        # own version history (retire and rebuild it to go back).
        standby = {c for c in COLORS if c != base_cfg.active and c != head_cfg.active}
        problems = [
            p
            for p in problems
            if not any(p.key == f"clusters.{c}.kubernetesVersion" for c in standby)
        ]
    return [str(problem) for problem in problems]


def judge(
    base: Evaluation,
    head: Evaluation,
    base_cfg: StackConfig,
    head_cfg: StackConfig,
    prefix: str,
    serving: Color | None,
    base_again: Evaluation | None = None,
) -> Verdict:
    """The verdict on base -> head, where `serving` is the color last verified serving.

    `base_again` is the base evaluated as the revert would deploy it (after head); when None,
    `base` itself is used: the two differ only in protection, which the revert judges from
    the head's side.
    """
    refusals, plan = _one_way(base, head, base_cfg, head_cfg, serving)
    refusals += [f"refused: {p}" for p in transition_refusals(base_cfg, head_cfg, prefix)]
    refusals = [r if r.startswith("refused: ") else f"refused: {r}" for r in refusals]
    back: list[str] = []
    # The break-glass keeps its own rules: neither declaring nor lifting it has a revert (that
    # would put a cluster nobody could reach back in the state, or drop one that was rebuilt);
    # its way back is retiring the unreachable cluster and enabling it again later (README,
    # "Break glass").
    if head_cfg.unreachable == base_cfg.unreachable:
        back, _ = _one_way(head, base_again or base, head_cfg, base_cfg, head_cfg.active)
        back += transition_refusals(head_cfg, base_cfg, prefix, revert=True)
    if back:
        refusals.append(
            "refused: every change can be reverted, and the revert of this one would be "
            "refused: "
            + "; ".join(back[:2])
            + (f" (and {len(back) - 2} more)" if len(back) > 2 else "")
            + f"; instead: {_sequence(base_cfg, head_cfg)}"
        )
    return Verdict(refusals=tuple(refusals), clusters_lost=_clusters_lost(plan, base))


def _sequence(base_cfg: StackConfig, head_cfg: StackConfig) -> str:
    """A sequence of changes that reaches the head, each of which can be reverted."""
    if base_cfg.active != head_cfg.active:
        return (
            "first land everything but the flip (keep active: "
            f"{base_cfg.active}), let `pulumi up` finish, then change active alone"
        )
    return "split the change so that each step can be reverted on its own"

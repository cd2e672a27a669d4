"""What the engine would do to move a stack from one evaluation to another, in its order.

The real engine diffs against the cloud's state and asks each provider; offline, both sides are
the program's own registrations. The rules are the engine's: a resource is replaced when its
provider changes, when a `replace_on_changes` property changes, or when it changes a property
its provider marks force-new; it is deleted first when the option or the provider asks for it,
and then the dependents whose inputs came from it are replaced with it; other replacements create
first and delete the original at the end, as removed resources are. With a break-glass, the
refresh first drops the unreachable cluster's objects from the state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from live_gateway.preflight_provider import PREFLIGHT_TYPE
from plan.evaluate import Evaluation, Registration

Action = Literal["create", "update", "replace", "delete", "state-only", "drop", "same"]
StepKind = Literal["create", "update", "delete", "state-only", "drop"]

# What forces a replacement, per provider, from the providers' own code and metadata.
#
# azure-native: every path parameter of the resource's PUT (pulumi-azure-native
# provider/pkg/provider/diff.go calculateDetailedDiff: "All the parameters that are part of the
# resource path cause a replacement"), and every body property its generator marks force-new:
# the hand-kept forceNewMap (provider/pkg/gen/replacement.go) and create-only x-ms-mutability of
# the REST specs (provider/pkg/gen/properties.go forceNew). At 3.29.0, which this project pins,
# forceNewMap holds ManagedCluster.networkProfile as a whole; later versions narrow it to
# serviceCidr(s), dnsServiceIP and the plugin/dataplane/policy/outbound fields (pull request
# #4771): every networkProfile field this program sets is force-new under both.
_AZURE_PATH_PARAMETERS: dict[str, tuple[str, ...]] = {
    "azure-native:resources:ResourceGroup": ("resourceGroupName",),
    "azure-native:network:VirtualNetwork": ("resourceGroupName", "virtualNetworkName"),
    "azure-native:network:Subnet": ("resourceGroupName", "virtualNetworkName", "subnetName"),
    "azure-native:network:PublicIPAddress": ("resourceGroupName", "publicIpAddressName"),
    "azure-native:network:ApplicationGateway": ("resourceGroupName", "applicationGatewayName"),
    "azure-native:managedidentity:UserAssignedIdentity": ("resourceGroupName", "resourceName"),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "resourceGroupName",
        "resourceName",
        "federatedIdentityCredentialResourceName",
    ),
    "azure-native:containerservice:ManagedCluster": ("resourceGroupName", "resourceName"),
    "azure-native:authorization:RoleAssignment": ("scope", "roleAssignmentName"),
    "azure-native:authorization:RoleDefinition": ("scope", "roleDefinitionId"),
    "azure-native:containerservice:MaintenanceConfiguration": (
        "resourceGroupName",
        "resourceName",
        "configName",
    ),
}
_AZURE_FORCE_NEW: dict[str, tuple[str, ...]] = {
    # forceNewMap Resources.ResourceGroup
    "azure-native:resources:ResourceGroup": ("location",),
    # forceNewMap Network.VirtualNetwork; Network.Subnet is listed with no force-new at all
    "azure-native:network:VirtualNetwork": ("location",),
    "azure-native:network:Subnet": (),
    # forceNewMap Network.PublicIPAddress
    "azure-native:network:PublicIPAddress": (
        "location",
        "publicIPAddressVersion",
        "publicIPPrefix",
        "sku",
    ),
    # No forceNewMap entry and no create-only body property: ARM itself refuses a new location.
    "azure-native:network:ApplicationGateway": (),
    # location is create-only (x-ms-mutability read, create) in the ManagedIdentity spec
    "azure-native:managedidentity:UserAssignedIdentity": ("location",),
    # issuer, subject and audiences carry no x-ms-mutability, so they are updated in place
    # (azure-rest-api-specs msi/.../stable/2023-01-31/ManagedIdentity.json)
    "azure-native:managedidentity:FederatedIdentityCredential": (),
    # forceNewMap ContainerService.ManagedCluster; agentPoolProfiles[].vmSize is force-new only
    # on the standalone AgentPool, so the program asks for the rebuild (components/cluster.py)
    "azure-native:containerservice:ManagedCluster": (
        "diskEncryptionSetID",
        "dnsPrefix",
        "fqdnSubdomain",
        "linuxProfile",
        "location",
        "networkProfile",
        "nodeResourceGroup",
        "windowsProfile",
    ),
    # forceNewMap Authorization.RoleAssignment
    "azure-native:authorization:RoleAssignment": ("principalId", "scope"),
    # No forceNewMap entry for either: only their path parameters replace them.
    "azure-native:authorization:RoleDefinition": (),
    "azure-native:containerservice:MaintenanceConfiguration": (),
}
# pulumi-kubernetes: metadata.name and metadata.namespace of every kind, plus per-kind fields
# (provider/pkg/provider/diff.go forceNew: batch/v1 Job); a Helm release by its name and
# namespace (helm_release.go Diff forceNewFields).
_KUBERNETES_FORCE_NEW: dict[str, tuple[str, ...]] = {
    "kubernetes:batch/v1:Job": (
        "spec.completions",
        "spec.parallelism",
        "spec.selector",
        "spec.template",
    ),
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
}
_KUBERNETES_METADATA_FORCE_NEW = ("metadata.name", "metadata.namespace")
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: Action
    changed: tuple[str, ...]
    reason: str
    delete_before_replace: bool
    touches_cloud: bool
    before: Registration | None
    after: Registration | None


@dataclass(frozen=True)
class Step:
    kind: StepKind
    change: Change
    note: str


@dataclass(frozen=True)
class Plan:
    changes: dict[str, Change]
    steps: tuple[Step, ...]
    # Providers the break-glass arms: updated on their own, before the `up --refresh`.
    arming: tuple[str, ...] = ()

    def by_action(self, action: Action) -> list[Change]:
        return [c for c in self.changes.values() if c.action == action]

    @property
    def untouched(self) -> list[Change]:
        return self.by_action("same")

    @property
    def touched(self) -> list[Change]:
        return [c for c in self.changes.values() if c.action not in ("same", "state-only", "drop")]


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves or subtrees that differ, e.g. `spec.replicas`, `pools[0].size`."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths += changed_paths(before[key], after[key], path)
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            path
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for path in changed_paths(old, new, f"{prefix}[{index}]")
        ]
    return [] if before == after else [prefix]


def _matches(path: str, patterns: Iterable[str]) -> str | None:
    """The first pattern that covers `path`: itself, a parent of it, or `*` / `[*]` wildcards."""
    for pattern in patterns:
        if pattern == "*":
            return pattern
        regex = re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]").replace(r"\*", r"[^.\[]+")
        if re.fullmatch(rf"{regex}((\.|\[).*)?", path):
            return pattern
    return None


def force_new_paths(typ: str) -> tuple[str, ...]:
    """The input paths whose change makes the provider of `typ` replace the resource.

    The e2e's stand-in providers (e2e/stand_in_provider.py) decide by this same table.
    """
    if typ.startswith("azure-native:"):
        return _AZURE_PATH_PARAMETERS.get(typ, ()) + _AZURE_FORCE_NEW.get(typ, ())
    if typ.startswith("kubernetes:"):
        metadata = () if typ == HELM_RELEASE else _KUBERNETES_METADATA_FORCE_NEW
        return metadata + _KUBERNETES_FORCE_NEW.get(typ, ())
    return ()


def covering(path: str, patterns: Iterable[str]) -> str | None:
    """The first of `patterns` that covers `path` (see `_matches`)."""
    return _matches(path, patterns)


def _force_new(reg: Registration) -> tuple[str, ...]:
    return force_new_paths(reg.type)


def provider_deletes_first(before: Registration, after: Registration, forced: bool) -> bool:
    """Whether the provider asks for delete-before-replace, the option overriding it.

    azure-native asks for it for every replacement of a resource it did not name at random
    (provider.go Diff: `deleteBeforeReplace := len(replaces) > 0`), which is every resource
    here; pulumi-kubernetes when the object keeps its name and namespace, as the new one could
    not be created beside the old (provider.go Diff, deleteBeforeReplace); its Helm releases
    never (helm_release.go Diff).
    """
    if after.delete_before_replace:
        return True
    return provider_asks_delete_first(after.type, before.inputs, after.inputs, forced)


def provider_asks_delete_first(
    typ: str, old_inputs: dict[str, Any], new_inputs: dict[str, Any], forced: bool
) -> bool:
    """The provider's own answer, without the resource option (see provider_deletes_first)."""
    if typ.startswith("azure-native:"):
        return forced
    if typ.startswith("kubernetes:") and typ != HELM_RELEASE:
        old, new = old_inputs.get("metadata") or {}, new_inputs.get("metadata") or {}
        return (old.get("name"), old.get("namespace")) == (new.get("name"), new.get("namespace"))
    return False


def _compare(before: Registration, after: Registration) -> Change:
    ignored = after.ignore_changes
    changed = [p for p in changed_paths(before.inputs, after.inputs) if not _matches(p, ignored)]
    if after.type == PREFLIGHT_TYPE:
        # Its provider's diff never reports a change (live_gateway/preflight_provider.py).
        changed = []
    reasons: list[str] = []
    if before.provider != after.provider:
        old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]
        reasons.append(f"provider {old} -> {new}")
    forced = [path for path in changed if _matches(path, _force_new(after))]
    asked = [path for path in changed if _matches(path, after.replace_on_changes)]
    reasons += [f"{path} changed" for path in dict.fromkeys(asked + forced)]
    action: Action = "same"
    if reasons:
        action = "replace"
    elif changed:
        action = "update"
        reasons = [", ".join(changed[:4]) + (" ..." if len(changed) > 4 else "") + " changed"]
    elif before.protect != after.protect:
        action = "state-only"
        reasons = ["protect " + ("on" if after.protect else "off")]
    return Change(
        urn=after.urn,
        type=after.type,
        name=after.name,
        action=action,
        changed=tuple(changed),
        reason="; ".join(reasons),
        delete_before_replace=action == "replace"
        and provider_deletes_first(before, after, bool(forced)),
        touches_cloud=after.touches_cloud,
        before=before,
        after=after,
    )


def _dependency_order(resources: dict[str, Registration]) -> list[str]:
    """A topological order: parents, providers and dependencies before their dependents.

    Ties break by depth, then URN, so the same two configs always print the same plan; the
    engine runs steps of the same depth in parallel.
    """
    edges = {
        urn: {
            dep for dep in (reg.parent, reg.provider, *reg.dependencies) if dep and dep in resources
        }
        for urn, reg in resources.items()
    }
    depth: dict[str, int] = {}

    def depth_of(urn: str, trail: frozenset[str] = frozenset()) -> int:
        if urn not in depth:
            if urn in trail:
                raise ValueError(f"dependency cycle through {urn}")
            depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)
        return depth[urn]

    return sorted(resources, key=lambda urn: (depth_of(urn), urn))


def unreachable_providers(evaluation: Evaluation) -> set[str]:
    """Kubernetes providers the break-glass declares unreachable (deleteUnreachable set)."""
    return {
        reg.urn
        for reg in evaluation.resources.values()
        if reg.type == KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"
    }


def _dropped(base: Evaluation, head: Evaluation) -> dict[str, Registration]:
    """Base resources the refresh drops from the state without calling their cluster.

    pulumi-kubernetes' Read answers "deleted" for every resource, Helm releases included, of a
    provider that cannot reach its cluster and has deleteUnreachable (provider.go Read); the
    runbook arms that provider before the `up --refresh` (docs/break-glass.md).
    """
    gone = unreachable_providers(head)
    return {
        urn: reg
        for urn, reg in base.resources.items()
        if reg.custom and not reg.is_provider and reg.provider in gone
    }


def _cascade(changes: dict[str, Change], head: Evaluation) -> dict[str, str]:
    """Dependents the engine replaces along with a delete-before-replace, and why.

    The engine substitutes unknowns for the inputs that came from the condemned resource and
    asks each dependent's provider (step_generator.go calculateDependentReplacements): a
    Kubernetes provider whose kubeconfig is unknown is replaced (pulumi-kubernetes DiffConfig),
    an azure-native resource when that input is force-new, and every resource of a replaced
    provider is replaced with it.
    """
    condemned = {
        urn for urn, c in changes.items() if c.action == "replace" and c.delete_before_replace
    }
    why: dict[str, str] = {}
    for urn in _dependency_order(head.resources):
        reg, change = head.resources[urn], changes.get(urn)
        if change is None or change.action not in ("same", "update", "state-only"):
            continue
        if reg.provider in condemned:
            why[urn] = f"its provider {reg.provider.rsplit('::', 1)[-1]} is replaced"
        else:
            keys = [
                key
                for key, deps in reg.property_dependencies.items()
                if any(dep in condemned for dep in deps)
            ]
            if reg.type == KUBERNETES_PROVIDER and "kubeconfig" in keys:
                why[urn] = "kubeconfig unknown until its cluster is rebuilt"
            elif any(_matches(key, _force_new(reg)) for key in keys):
                why[urn] = f"{', '.join(keys)} come from a replaced resource"
        if urn in why:
            condemned.add(urn)
    return why


def diff(base: Evaluation, head: Evaluation) -> Plan:
    # Components are bookkeeping; only custom resources (and providers) reach a provider.
    dropped = _dropped(base, head)
    changes: dict[str, Change] = {}
    for urn, after in head.resources.items():
        if not after.custom:
            continue
        before = base.resources.get(urn)
        if before is None or urn in dropped:
            reason = "after the refresh dropped its old state" if urn in dropped else "new"
            changes[urn] = Change(
                urn,
                after.type,
                after.name,
                "create",
                (),
                reason,
                after.delete_before_replace,
                after.touches_cloud,
                dropped.get(urn),
                after,
            )
        else:
            changes[urn] = _compare(before, after)
    for urn, before in base.resources.items():
        if before.custom and urn not in head.resources:
            gone = urn in dropped
            changes[urn] = Change(
                urn,
                before.type,
                before.name,
                "drop" if gone else "delete",
                (),
                "its cluster is declared unreachable" if gone else "no longer declared",
                before.delete_before_replace,
                before.touches_cloud,
                before,
                None,
            )
    cascades = _cascade(changes, head)
    for urn, why in cascades.items():
        changes[urn] = replace(
            changes[urn], action="replace", reason=why, delete_before_replace=True
        )

    # The refresh runs first, over the whole old state (deployment_executor.go Execute).
    steps: list[Step] = [
        Step("drop", changes[urn], "by the refresh: deleteUnreachable, no call to its cluster")
        for urn in _dependency_order(base.resources)
        if urn in dropped
    ]
    arming = tuple(
        urn
        for urn in sorted(unreachable_providers(head) - unreachable_providers(base))
        if urn in base.resources
    )
    for urn in arming:
        changes[urn] = replace(changes[urn], reason=f"armed first: {changes[urn].reason}")
    deferred_deletes: list[Step] = []
    deleted_early: set[str] = set()
    base_reverse = list(reversed(_dependency_order(base.resources)))
    for urn in _dependency_order(head.resources):
        change = changes.get(urn)
        if change is None:
            continue
        if change.action == "create":
            steps.append(Step("create", change, ""))
        elif change.action == "update" and urn in arming:
            # Its own run, `up --target`, before these (the engine shows no update of it here).
            continue
        elif change.action == "update":
            steps.append(Step("update", change, ""))
        elif change.action == "state-only":
            steps.append(Step("state-only", change, change.reason))
        elif change.action == "replace" and change.delete_before_replace:
            if urn in deleted_early:
                steps.append(Step("create", change, "replacement"))
                continue
            # Dependents replaced with it go first, in reverse dependency order.
            for dependent in base_reverse:
                if (
                    dependent in cascades
                    and dependent not in deleted_early
                    and _depends_on(head, dependent, urn)
                ):
                    steps.append(
                        Step("delete", changes[dependent], f"deleted before {change.name}")
                    )
                    deleted_early.add(dependent)
            steps.append(Step("delete", change, "replaced, deleted first (delete_before_replace)"))
            steps.append(Step("create", change, "replacement"))
        elif change.action == "replace":
            steps.append(Step("create", change, "replacement, created first"))
            deferred_deletes.append(Step("delete", change, "original of a replacement"))
    removed = [
        Step("delete", changes[urn], "no longer declared")
        for urn in base_reverse
        if urn in changes and changes[urn].action == "delete"
    ]
    # The engine deletes what is gone, and originals of create-first replacements, after every
    # create and update has run, dependents before what they depend on.
    deletes_last = {step.change.urn: step for step in [*deferred_deletes, *removed]}
    steps += [deletes_last[urn] for urn in base_reverse if urn in deletes_last]
    return Plan(changes=changes, steps=tuple(steps), arming=arming)


def _depends_on(evaluation: Evaluation, urn: str, on: str) -> bool:
    """Whether `urn` reaches `on` through providers and input dependencies."""
    seen: set[str] = set()
    todo = [urn]
    while todo:
        current = todo.pop()
        if current in seen or current not in evaluation.resources:
            continue
        seen.add(current)
        reg = evaluation.resources[current]
        nexts = [reg.provider, *(d for deps in reg.property_dependencies.values() for d in deps)]
        if on in nexts:
            return True
        todo += nexts
    return False

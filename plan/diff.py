"""What the engine would do to move a stack from one evaluation to another, in its order.

The real engine diffs against the cloud's state and asks each provider; offline, both sides are
the program's own registrations. The rules are the engine's: a resource is replaced when its
provider changes, when a `replace_on_changes` property changes, or when it changes a property
its provider cannot update in place; `delete_before_replace` deletes first; other replacements
create first and delete the original at the end, as removed resources are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from plan.evaluate import Evaluation, Registration

Action = Literal["create", "update", "replace", "delete", "state-only", "same"]
StepKind = Literal["create", "update", "delete", "state-only"]

# Properties the providers cannot change in place: they name the object, or the API refuses the
# update. Azure resources are addressed by their name and group; role assignments and federated
# credentials are immutable; a Job's pod template is immutable; a Helm release is identified by
# its name and namespace.
_FORCE_NEW: dict[str, frozenset[str]] = {
    "azure-native:authorization:RoleAssignment": frozenset(
        {"scope", "principalId", "roleDefinitionId", "roleAssignmentName"}
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": frozenset(
        {"resourceName", "federatedIdentityCredentialResourceName"}
    ),
    "kubernetes:batch/v1:Job": frozenset({"spec"}),
    "kubernetes:helm.sh/v3:Release": frozenset({"name", "namespace"}),
}
_AZURE_FORCE_NEW = frozenset(
    {
        "location",
        "resourceGroupName",
        "resourceName",
        "virtualNetworkName",
        "subnetName",
        "applicationGatewayName",
        "publicIpAddressName",
    }
)
_KUBERNETES_FORCE_NEW = frozenset({"metadata.name", "metadata.namespace"})


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

    def by_action(self, action: Action) -> list[Change]:
        return [c for c in self.changes.values() if c.action == action]

    @property
    def untouched(self) -> list[Change]:
        return self.by_action("same")

    @property
    def touched(self) -> list[Change]:
        return [c for c in self.changes.values() if c.action not in ("same", "state-only")]


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves or subtrees that differ, e.g. `spec.replicas`."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths += changed_paths(before[key], after[key], path)
        return paths
    return [] if before == after else [prefix]


def _matches(path: str, patterns: Iterable[str]) -> str | None:
    for pattern in patterns:
        if (
            pattern == "*"
            or path == pattern
            or path.startswith(f"{pattern}.")
            or path.startswith(f"{pattern}[")
        ):
            return pattern
    return None


def _force_new(reg: Registration) -> frozenset[str]:
    if reg.type.startswith("azure-native:"):
        return _AZURE_FORCE_NEW | _FORCE_NEW.get(reg.type, frozenset())
    if reg.type.startswith("kubernetes:"):
        return _KUBERNETES_FORCE_NEW | _FORCE_NEW.get(reg.type, frozenset())
    return frozenset()


def _compare(before: Registration, after: Registration) -> Change:
    ignored = after.ignore_changes
    changed = [p for p in changed_paths(before.inputs, after.inputs) if not _matches(p, ignored)]
    reasons: list[str] = []
    if before.provider != after.provider:
        old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]
        reasons.append(f"provider {old} -> {new}")
    forcing = after.replace_on_changes + tuple(_force_new(after))
    reasons += [f"{path} changed" for path in changed if _matches(path, forcing)]
    action: Action = "same"
    if reasons:
        action = "replace"
    elif changed:
        action = "update"
        reasons = [", ".join(changed[:4]) + (" ..." if len(changed) > 4 else "") + " changed"]
    elif before.protect != after.protect:
        action = "state-only"
        reasons = ["protect " + ("on" if after.protect else "off")]
    reason = "; ".join(reasons)
    return Change(
        urn=after.urn,
        type=after.type,
        name=after.name,
        action=action,
        changed=tuple(changed),
        reason=reason,
        delete_before_replace=after.delete_before_replace,
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


def diff(base: Evaluation, head: Evaluation) -> Plan:
    # Components are bookkeeping; only custom resources (and providers) reach a provider.
    changes: dict[str, Change] = {}
    for urn, after in head.resources.items():
        if not after.custom:
            continue
        before = base.resources.get(urn)
        if before is None:
            changes[urn] = Change(
                urn,
                after.type,
                after.name,
                "create",
                (),
                "new",
                after.delete_before_replace,
                after.touches_cloud,
                None,
                after,
            )
        else:
            changes[urn] = _compare(before, after)
    for urn, before in base.resources.items():
        if before.custom and urn not in head.resources:
            changes[urn] = Change(
                urn,
                before.type,
                before.name,
                "delete",
                (),
                "no longer declared",
                before.delete_before_replace,
                before.touches_cloud,
                before,
                None,
            )

    steps: list[Step] = []
    deferred_deletes: list[Step] = []
    for urn in _dependency_order(head.resources):
        change = changes.get(urn)
        if change is None:
            continue
        if change.action == "create":
            steps.append(Step("create", change, ""))
        elif change.action == "update":
            steps.append(Step("update", change, ""))
        elif change.action == "state-only":
            steps.append(Step("state-only", change, change.reason))
        elif change.action == "replace" and change.delete_before_replace:
            steps.append(Step("delete", change, "replaced, deleted first (delete_before_replace)"))
            steps.append(Step("create", change, "replacement"))
        elif change.action == "replace":
            steps.append(Step("create", change, "replacement, created first"))
            deferred_deletes.append(Step("delete", change, "original of a replacement"))
    removed = [
        Step("delete", changes[urn], "no longer declared")
        for urn in reversed(_dependency_order(base.resources))
        if urn in changes and changes[urn].action == "delete"
    ]
    # The engine deletes what is gone, and originals of create-first replacements, after every
    # create and update has run, dependents before what they depend on.
    deletes_last = {step.change.urn: step for step in [*deferred_deletes, *removed]}
    base_order = list(reversed(_dependency_order(base.resources)))
    steps += [deletes_last[urn] for urn in base_order if urn in deletes_last]
    return Plan(changes=changes, steps=tuple(steps))

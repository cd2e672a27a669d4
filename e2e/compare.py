"""The engine's preview steps against the offline plan's: operation, URN and order.

`pulumi preview --json --show-replacement-steps` lists the steps the engine generated, in the
order it ran them (pulumi pkg/v3/backend/display/json.go: each with `op` and `urn`). A
replacement appears as three steps: `create-replacement`, the `replace` marker and
`delete-replaced`, in the order the engine runs them (delete first when it deletes before
replacing); bin/plan prints the same replacement as its create and its delete.
So both sides become (kind, URN) lists of custom resources: the engine's `create-replacement`
is a create and `delete-replaced` a delete; `replace` markers, `same` and `read` steps are left out.

Order: the engine runs independent steps in parallel and emits them as the program registers
resources, so two valid orders of independent steps can differ. What both must agree on is
every order the engine enforces: each resource's own steps (a delete-before-replace deletes
before it creates), dependencies before their dependents for creates and updates, and every
delete of an original or a removed resource after them. `order_violations` checks the engine's
order against those constraints taken from the plan.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

ENGINE_KIND = {
    "create": "create",
    "create-replacement": "create",
    "update": "update",
    "delete": "delete",
    "delete-replaced": "delete",
    "discard": "drop",
    "discard-replaced": "drop",
}
# A protect-only change is a `same` step whose old and new states differ in `protect`.
STATE_ONLY = "state-only"

Step = tuple[str, str]  # (kind, urn)


@dataclass(frozen=True)
class Comparison:
    engine: tuple[Step, ...]
    plan: tuple[Step, ...]
    missing: tuple[Step, ...]  # in the plan, not in the engine's preview
    extra: tuple[Step, ...]  # in the engine's preview, not in the plan
    order_violations: tuple[str, ...]
    # protect-only steps one side has and the other has not: history, not config (compare)
    protect_only: tuple[Step, ...] = ()

    @property
    def same_sequence(self) -> bool:
        """Whether even the independent steps came in bin/plan's order."""
        return self.engine == self.plan

    @property
    def equal(self) -> bool:
        return not (self.missing or self.extra or self.order_violations)

    def describe(self) -> str:
        lines = [f"engine {len(self.engine)} steps, plan {len(self.plan)} steps"]
        lines += [f"  only in bin/plan: {kind} {urn}" for kind, urn in self.missing]
        lines += [f"  only in the engine: {kind} {urn}" for kind, urn in self.extra]
        lines += [f"  order: {v}" for v in self.order_violations]
        lines += [f"  protect bookkeeping, not compared: {urn}" for _, urn in self.protect_only]
        return "\n".join(lines)


def engine_steps(preview: dict[str, Any]) -> list[Step]:
    steps: list[Step] = []
    for step in preview.get("steps") or []:
        op = step.get("op")
        state = step.get("newState") or step.get("oldState") or {}
        if state.get("custom") is False:
            # Components are the program's bookkeeping: no provider is called for them, and
            # bin/plan lists only custom resources.
            continue
        if op == "same":
            old, new = step.get("oldState") or {}, step.get("newState") or {}
            if old and new and bool(old.get("protect")) != bool(new.get("protect")):
                steps.append((STATE_ONLY, step["urn"]))
            continue
        kind = ENGINE_KIND.get(op)
        if kind is not None:
            steps.append((kind, step["urn"]))
    return steps


def plan_steps(plan: dict[str, Any], include_drops: bool = True) -> list[Step]:
    return [
        (step["kind"], step["urn"])
        for step in plan["steps"]
        if include_drops or step["kind"] != "drop"
    ]


def compare(preview: dict[str, Any], plan: dict[str, Any]) -> Comparison:
    """Every step the engine previews is bin/plan's and the other way round, except `protect`
    bookkeeping, which is reported apart (`protect_only`). bin/plan evaluates its base as a
    converged deployment; the program protects the active cluster and the one last verified
    serving (config/transition.py protected_colors), so whether the cluster a flip left is still
    protected depends on how many deployments ran since the last verified flip, which no stack
    file shows: right after a flip, the plan's "protect on" for it is already true, and a
    break glass's second run lifts a protect the converged base never had."""
    engine = engine_steps(preview)
    # The refresh's drops are not preview steps of the update: `preview --refresh --json`
    # reports the refresh apart (compared by the caller from the state after the refresh).
    planned = plan_steps(plan, include_drops=False)
    engine_count, plan_count = Counter(engine), Counter(planned)
    missing = [s for s in planned if engine_count[s] < plan_count[s]]
    extra = [s for s in engine if plan_count[s] < engine_count[s]]
    return Comparison(
        engine=tuple(engine),
        plan=tuple(planned),
        missing=tuple(dict.fromkeys(s for s in missing if s[0] != STATE_ONLY)),
        extra=tuple(dict.fromkeys(s for s in extra if s[0] != STATE_ONLY)),
        order_violations=tuple(order_violations(engine, planned, preview)),
        protect_only=tuple(dict.fromkeys(s for s in missing + extra if s[0] == STATE_ONLY)),
    )


def _dependencies(preview: dict[str, Any], state_key: str) -> dict[str, set[str]]:
    """URN -> what it depends on (provider, parent, dependencies) in one side's states.

    A create or update waits for what the new state depends on (the SDK registers a resource
    only once its dependencies are done), deletes are ordered by the old states' graph (pulumi
    pkg/v3/resource/deploy/step_generator.go ScheduleDeletes, over the previous snapshot): a
    replaced resource's old and new dependencies differ (the AGIC release of a flip depends
    on the other cluster's gates), so each order is judged on its own side's graph."""
    found: dict[str, set[str]] = {}
    for step in preview.get("steps") or []:
        for state in (step.get(state_key),):
            if not state:
                continue
            deps = set(state.get("dependencies") or [])
            provider = state.get("provider") or ""
            if provider:
                deps.add(provider.rsplit("::", 1)[0])
            if state.get("parent"):
                deps.add(state["parent"])
            for values in (state.get("propertyDependencies") or {}).values():
                deps.update(values)
            found.setdefault(step["urn"], set()).update(deps)
    return found


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        for dep in graph.get(urn, ()):
            if dep == goal:
                return True
            todo.append(dep)
    return False


def order_violations(engine: list[Step], planned: list[Step], preview: dict[str, Any]) -> list[str]:
    """Pairs the plan orders one way and the engine the other, where the order is enforced."""
    news, olds = _dependencies(preview, "newState"), _dependencies(preview, "oldState")
    position = {step: index for index, step in enumerate(engine)}
    # Deleted before their replacement is created: these run mid-update, not at the end.
    first_seen: dict[str, str] = {}
    for kind, urn in planned:
        first_seen.setdefault(urn, kind)
    deleted_first = {
        urn for urn, kind in first_seen.items() if kind == "delete" and ("create", urn) in planned
    }
    found: list[str] = []
    for i, first in enumerate(planned):
        for second in planned[i + 1 :]:
            if first not in position or second not in position:
                continue
            if position[first] < position[second]:
                continue
            same = first[1] == second[1]
            creates = {"create", "update", STATE_ONLY}
            dependent = (
                first[0] in creates and second[0] in creates and _reaches(news, second[1], first[1])
            ) or (
                first[0] == "delete"
                and second[0] == "delete"
                and _reaches(olds, first[1], second[1])
            )
            deletes_last = (
                first[0] in creates and second[0] == "delete" and second[1] not in deleted_first
            )
            if same or dependent or deletes_last:
                found.append(f"plan: {first} before {second}; engine: the other way")
    return found

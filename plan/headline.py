"""What a change is, in the words of the runbook: a flip, a standby upgrade, a retire, a break
glass, an app change; read from the two configs, placed in the plan's steps where it matters.

A flip's traffic moves when the AGIC release is installed on the new cluster: from then on that
AGIC writes the gateway's pools (DESIGN.md, "The switch"), so that step is the one marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

import config
from plan.diff import HELM_RELEASE, Plan


@dataclass(frozen=True)
class Headline:
    text: str
    # 1-based number of the step where traffic moves to the other cluster, if it does.
    traffic_step: int | None = None


def traffic_step(plan: Plan, color: str) -> int | None:
    """The step that installs the AGIC release on `color`'s cluster."""
    for number, step in enumerate(plan.steps, 1):
        reg = step.change.after
        if (
            step.kind == "create"
            and step.change.type == HELM_RELEASE
            and reg is not None
            and reg.provider.rsplit("::", 1)[-1].removesuffix("-kubernetes") == color
        ):
            return number
    return None


def _dump(value: Any) -> Any:
    return value.model_dump() if hasattr(value, "model_dump") else value


def _apps(base: config.StackConfig, head: config.StackConfig) -> list[str]:
    old = {app.name: app.model_dump() for app in base.workloads}
    new = {app.name: app.model_dump() for app in head.workloads}
    parts = [f"{name} added" for name in new if name not in old]
    parts += [f"{name} removed" for name in old if name not in new]
    for name in new:
        if name in old and old[name] != new[name]:
            keys = [to_camel(k) for k in new[name] if new[name][k] != old[name].get(k)]
            parts.append(f"{name} ({', '.join(keys)})")
    return parts


def describe(
    base: config.StackConfig | None, head: config.StackConfig, plan: Plan, created: int
) -> Headline:
    if base is None:
        return Headline(f"new stack: {created} resources to create, {head.active} serving")
    parts: list[str] = []
    step: int | None = None
    if head.unreachable and head.unreachable != base.unreachable:
        parts.append(f"break glass: {head.unreachable} declared unreachable")
    if base.active != head.active:
        step = traffic_step(plan, head.active)
        where = f" at step {step}" if step else ""
        parts.append(f"flip: traffic moves from {base.active} to {head.active}{where}")
    for color in config.COLORS:
        old, new = base.clusters[color], head.clusters[color]
        role = "standby" if color != head.active else "serving cluster"
        if old.enabled and not new.enabled:
            parts.append(f"retire {color}")
        elif new.enabled and not old.enabled:
            parts.append(f"rebuild {color} as the standby")
        elif old.kubernetes_version != new.kubernetes_version:
            parts.append(
                f"{role} upgrade: {color} {old.kubernetes_version} -> {new.kubernetes_version}"
            )
        elif old.model_dump() != new.model_dump():
            parts.append(f"{role} change: {color}")
    apps = _apps(base, head)
    if apps:
        parts.append(f"app change: {', '.join(apps)}")
    seen = {"active", "clusters", "workloads", "break_glass"}
    other = [
        to_camel(key)
        for key in type(head).model_fields
        if key not in seen and _dump(getattr(base, key)) != _dump(getattr(head, key))
    ]
    if other:
        parts.append(f"config change: {', '.join(other)}")
    if base.unreachable and not head.unreachable:
        parts.append(f"break glass over: {base.unreachable} reachable again")
    return Headline("; ".join(parts) or "no config change", step)

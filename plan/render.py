"""Prints a plan for a terminal or as Markdown for a pull request's job summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from live_gateway.preflight_provider import PREFLIGHT_TYPE
from live_gateway.providers import GATEWAY_SERVES_TYPE, RETIRE_GUARD_TYPE
from plan import values
from plan.diff import HELM_RELEASE, Plan, Step
from plan.headline import Headline

Format = Literal["text", "markdown", "json"]


# Changed properties shown under one step; the rest are counted.
_VALUES_SHOWN = 8


@dataclass(frozen=True)
class PlanReport:
    # None for a new stack, which has no base.
    base_label: str | None
    head_label: str
    stack: str
    base_active: str | None
    head_active: str
    plan: Plan
    policy_lines: tuple[str, ...]
    policies_ran: bool
    # What the change is, and whether its revert is accepted: the report's first line.
    headline: Headline
    revert: str
    # Engine URNs of the providers to arm before the break-glass `up --refresh`.
    arm_targets: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Policies the policy config makes advisory or disables: "all passed" would overstate.
    weakened_policies: tuple[str, ...] = ()
    # The safety invariants' refusals (plan/verdict.py); empty when every invariant holds.
    safety_refusals: tuple[str, ...] = ()
    # The mocks' URN of each resource -> the URN the engine gives it (Evaluation.engine_urn).
    engine_urns: dict[str, str] = field(default_factory=dict)
    # Engine URNs of the head's custom resources: what the state holds after the `up`.
    head_resources: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        if self.base_label is None:
            return f"new stack {self.head_label}"
        return f"{self.base_label} -> {self.head_label}"


def _where(step: Step) -> str:
    change = step.change
    reg = (
        (change.before or change.after)
        if step.kind in ("delete", "drop")
        else (change.after or change.before)
    )
    if reg is None or not reg.provider:
        return ""
    # Kubernetes resources run on one cluster's provider, named after its color.
    return reg.provider.rsplit("::", 1)[-1].removesuffix("-kubernetes")


def _object(step: Step) -> str:
    """A Kubernetes object's `namespace/name` in its cluster, beside its Pulumi name."""
    reg = step.change.after if step.kind == "create" else step.change.before
    reg = reg or step.change.after or step.change.before
    if reg is None or not reg.type.startswith("kubernetes:"):
        return ""
    source = reg.inputs if reg.type == HELM_RELEASE else reg.inputs.get("metadata") or {}
    name, namespace = source.get("name"), source.get("namespace")
    if not isinstance(name, str):
        return ""
    return f"{namespace}/{name}" if isinstance(namespace, str) and namespace else name


def _values(step: Step) -> list[str]:
    """Old -> new of each changed property, on an update and on a replacement's create."""
    change = step.change
    shows = (step.kind == "update") or (step.kind == "create" and change.action == "replace")
    if not shows or change.before is None or change.after is None:
        return []
    lines = values.changes(change.before, change.after, change.changed[:_VALUES_SHOWN])
    if len(change.changed) > _VALUES_SHOWN:
        lines.append(f"... and {len(change.changed) - _VALUES_SHOWN} more changed")
    return lines


def _resource(step: Step) -> str:
    obj = _object(step)
    return f"{step.change.type} {step.change.name}" + (f" ({obj})" if obj else "")


def _traffic(report: PlanReport, number: int) -> str:
    if report.headline.traffic_step != number:
        return ""
    return f"traffic moves to {report.head_active} here"


def _detail(step: Step) -> str:
    own_reason = step.kind not in ("state-only", "drop")
    parts = [p for p in (step.note, step.change.reason if own_reason else "") if p]
    return "; ".join(dict.fromkeys(parts))


def _summary(report: PlanReport) -> list[str]:
    plan = report.plan
    counts = Counter(c.action for c in plan.changes.values())
    cloud = [c for c in plan.changes.values() if c.touches_cloud]
    cloud_touched = [c for c in plan.touched if c.touches_cloud]
    if report.base_active is None:
        flip = f"active: {report.head_active} (a new stack)"
    elif report.base_active != report.head_active:
        flip = f"active: {report.base_active} -> {report.head_active}"
    else:
        flip = f"active: {report.head_active} (unchanged)"
    return [
        f"change: {report.headline.text}; {report.revert}",
        flip,
        f"{len(plan.changes)} resources: {counts['create']} to create, {counts['replace']} to "
        f"replace, {counts['update']} to update, {counts['delete']} to delete, "
        f"{counts['state-only']} state-only, "
        + (f"{counts['drop']} dropped from the state, " if counts["drop"] else "")
        + f"{counts['same']} untouched",
        f"Azure resources touched: {len(cloud_touched)} of {len(cloud)}",
    ]


def _live_checks(plan: Plan) -> list[str]:
    """What `pulumi preview` and `up` will check against the live gateway, which this cannot."""
    checks: list[str] = []
    asks: list[str] = []
    for change in plan.changes.values():
        reg = change.after
        if reg is not None and reg.type == PREFLIGHT_TYPE:
            asks.append(_preflight_line(reg.inputs))
            continue
        if reg is None or change.action in ("same", "state-only"):
            continue
        if reg.type == GATEWAY_SERVES_TYPE:
            active, bound = reg.inputs["activeColor"], int(reg.inputs["timeoutSeconds"])
            checks.append(
                f"`pulumi up`, after the AGIC release: waits up to {bound} s until the gateway "
                f"serves {active} (provisioning Succeeded, every app pool "
                f"address in {reg.inputs['subnets'][active]} and healthy), else fails saying "
                "what it saw"
            )
        elif reg.type == RETIRE_GUARD_TYPE:
            color = reg.inputs["retiredColor"]
            checks.append(
                f"`pulumi preview` and `up`: refuse to retire {color} while the gateway has a "
                f"backend address in {reg.inputs['subnetCidr']}"
            )
    return checks + asks


def _preflight_line(inputs: dict[str, Any]) -> str:
    """The preflight runs on every preview and `up`; what it asks depends on what is created."""
    region = inputs["location"]
    asked = []
    for cluster in inputs["clusters"]:
        color = cluster["color"]
        if cluster["versionChanges"]:
            asked.append(f"{color}'s Kubernetes {cluster['kubernetesVersion']} in {region}")
        if cluster["creating"]:
            asked.append(f"{color}'s {cluster['vmSize']} in zones {cluster['zones'] or 'none'}")
            if cluster["encryptionAtHost"]:
                asked.append("the EncryptionAtHost feature's registration")
    asked.append(f"AGIC chart {inputs['chartVersion']} in {inputs['chartRegistry']}")
    return (
        "`pulumi preview` and `up`, before anything changes: ask the subscription and the chart "
        f"registry for {'; '.join(asked)}"
    )


def render(report: PlanReport, fmt: Format) -> str:
    if fmt == "json":
        return _json(report)
    return _markdown(report) if fmt == "markdown" else _text(report)


def _json(report: PlanReport) -> str:
    """The steps for tools: what `pulumi preview --json` is compared with (e2e/compare.py)."""
    steps = [
        {
            "kind": step.kind,
            "urn": report.engine_urns.get(step.change.urn, step.change.urn),
            "type": step.change.type,
            "name": step.change.name,
            "cluster": _where(step),
            "why": _detail(step),
        }
        for step in report.plan.steps
    ]
    document = {
        "stack": report.stack,
        "base": report.base_label,
        "head": report.head_label,
        "activeBefore": report.base_active,
        "activeAfter": report.head_active,
        "armFirst": list(report.arm_targets),
        "steps": steps,
        "resources": list(report.head_resources),
        "policies": list(report.policy_lines) if report.policies_ran else None,
    }
    return json.dumps(document, indent=2) + "\n"


def _text(report: PlanReport) -> str:
    lines = [f"Offline plan for stack '{report.stack}': {report.title}"]
    lines += [f"  {line}" for line in _summary(report)]
    lines.append("")
    lines += _break_glass(report, code="")
    if report.plan.steps:
        lines.append("Steps, in the order the engine runs them:")
        for number, step in enumerate(report.plan.steps, 1):
            where = _where(step)
            traffic = _traffic(report, number)
            lines.append(
                f"  {number:>2}. {step.kind:<10} {_resource(step)}"
                + (f" [{where}]" if where else "")
                + (f"  ({_detail(step)})" if _detail(step) else "")
                + (f"  <- {traffic}" if traffic else "")
            )
            lines += [f"{'':>17}{line}" for line in _values(step)]
    else:
        lines.append("No changes.")
    lines.append("")
    lines += _live_section(report, bullet="  ")
    lines += _safety_section(report, bullet="  ")
    lines += _policy_section(report, bullet="  ")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(report: PlanReport) -> str:
    lines = [f"### Offline plan: `{report.stack}`", ""]
    if report.base_label is None:
        lines.append(f"New stack `{report.head_label}`")
    else:
        lines.append(f"`{report.base_label}` → `{report.head_label}`")
    lines.append("")
    lines += [f"- {line}" for line in _summary(report)]
    lines.append("")
    if report.notes:
        lines += [f"- {_cell(note)}" for note in report.notes]
        lines.append("")
    lines += _break_glass(report, code="`")
    if report.plan.steps:
        lines += ["| # | step | resource | cluster | why |", "|---|---|---|---|---|"]
        for number, step in enumerate(report.plan.steps, 1):
            obj = _object(step)
            why = [_detail(step)] if _detail(step) else []
            why += [f"`{_cell(line)}`" for line in _values(step)]
            traffic = _traffic(report, number)
            why += [f"**{traffic}**"] if traffic else []
            lines.append(
                f"| {number} | {step.kind} | `{step.change.type}` `{step.change.name}`"
                + (f" (`{obj}`)" if obj else "")
                + f" | {_where(step)} | {'<br>'.join(why)} |"
            )
    else:
        lines.append("No changes.")
    lines.append("")
    lines += _live_section(report, bullet="- ")
    lines += _safety_section(report, bullet="- ")
    lines += _policy_section(report, bullet="- ")
    lines += [
        "",
        "_Evaluated offline under Pulumi's mocks: no cloud, no credentials. "
        "The `pulumi preview` job, where it can run, is the authority on Azure's side._",
    ]
    return "\n".join(lines) + "\n"


def _live_section(report: PlanReport, bullet: str) -> list[str]:
    checks = _live_checks(report.plan)
    if not checks:
        return []
    heading = "Live checks (the offline plan cannot see the gateway; these run against it):"
    return [heading, *(f"{bullet}{check}" for check in checks), ""]


def _safety_section(report: PlanReport, bullet: str) -> list[str]:
    if not report.safety_refusals:
        return [
            "Safety: every invariant holds both ways (nothing serving deleted or replaced, a "
            "flip alone, the revert accepted; docs/safety.md).",
            "",
        ]
    return (
        ["Safety: refused (docs/safety.md):"]
        + [f"{bullet}{line.removeprefix('refused: ')}" for line in report.safety_refusals]
        + [""]
    )


def _policy_section(report: PlanReport, bullet: str) -> list[str]:
    if not report.policies_ran:
        return ["Policies: not run (--no-policies)."]
    weakened = (
        [f"{bullet}not mandatory by the policy config: {', '.join(report.weakened_policies)}"]
        if report.weakened_policies
        else []
    )
    if not report.policy_lines:
        if weakened:
            return ["Policies: no violation reported, but not every policy is enforced:", *weakened]
        return ["Policies: all passed on the head config."]
    return ["Policies:"] + [f"{bullet}{line}" for line in report.policy_lines] + weakened


def _break_glass(report: PlanReport, code: str) -> list[str]:
    """The runbook's two runs, when this change arms a break-glass (docs/break-glass.md)."""
    if not report.arm_targets:
        return []
    colors = ", ".join(
        urn.rsplit("::", 1)[-1].removesuffix("-kubernetes") for urn in report.arm_targets
    )
    lines = [
        f"Break glass: {colors} declared unreachable. Run, in this order:",
        "  first arm its provider, and change nothing else:",
    ]
    lines += [f"    {code}pulumi up --target '{urn}'{code}" for urn in report.arm_targets]
    lines += [
        f"  then {code}pulumi up --refresh{code}: the steps below; the refresh drops {colors}'s "
        "Kubernetes objects from the state without calling it.",
        "",
    ]
    return lines

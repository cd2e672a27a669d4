"""A model checker for the safety invariants: random sequences of config edits on the sample
stack, each judged by the plan's own judge, and every accepted step checked on its evaluated
diff against invariants 1-3 as stated here, independently of how the judge finds them.

The suite runs a small fixed budget; `pytest --hypothesis-profile=deep tests/test_safety_model.py`
runs thousands of steps. Each run prints how many steps it judged and accepted.
"""

from __future__ import annotations

import atexit
import copy
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from safety_cases import Judge, stack_config

import config
from config import COLORS
from conftest import STACK
from plan.diff import diff
from plan.evaluate import Evaluation
from plan.verdict import Verdict, judge

APP = "mcr.microsoft.com/dotnet/samples:aspnetapp"
SHARED = {
    "ResourceGroup",
    "VirtualNetwork",
    "ApplicationGateway",
    "PublicIPAddress",
    "Workspace",
}
JUDGE = Judge()
COUNTS = {"steps": 0, "accepted": 0, "invalid": 0}


def _report() -> None:
    if COUNTS["steps"]:
        print(
            f"\nsafety model: {COUNTS['steps']} steps judged, {COUNTS['accepted']} accepted, "
            f"{COUNTS['invalid']} invalid configs refused by the config rules",
            flush=True,
        )


atexit.register(_report)


@dataclass(frozen=True)
class App:
    name: str
    path: str
    namespace: str | None = None
    tag: str = "aspnetapp"


@dataclass(frozen=True)
class State:
    """A stack config as edits build it; `overrides` renders it on the blue sample."""

    active: str = "blue"
    versions: tuple[tuple[str, str], ...] = (("blue", "1.35"), ("green", "1.36"))
    enabled: tuple[tuple[str, bool], ...] = (("blue", True), ("green", True))
    network_policy: tuple[tuple[str, str], ...] = (("blue", "cilium"), ("green", "cilium"))
    vm_size: tuple[tuple[str, str], ...] = (
        ("blue", "Standard_D4ds_v5"),
        ("green", "Standard_D4ds_v5"),
    )
    subnets: tuple[tuple[str, str], ...] = (("blue", "10.240.0.0/16"), ("green", "10.241.0.0/16"))
    apps: tuple[App, ...] = (App("aspnetapp", "/"),)
    agic_namespace: str = "agic"
    sku: str = "Standard_v2"
    zones: tuple[str, ...] = ("1", "2", "3")
    unreachable: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def get(self, table: tuple[tuple[str, Any], ...], color: str) -> Any:
        return dict(table)[color]

    def put(self, name: str, color: str, value: Any) -> State:
        table = dict(getattr(self, name))
        table[color] = value
        return replace(self, **{name: tuple(sorted(table.items()))})

    def overrides(self) -> dict[str, Any]:
        clusters = {
            color: {
                "kubernetesVersion": self.get(self.versions, color),
                "enabled": self.get(self.enabled, color),
                "networkPolicy": self.get(self.network_policy, color),
                "vmSize": self.get(self.vm_size, color),
                "subnetCidr": self.get(self.subnets, color),
            }
            for color in COLORS
        }
        found: dict[str, Any] = {
            "active": self.active,
            "clusters": clusters,
            "agic": {"namespace": self.agic_namespace},
            "gateway": {"sku": self.sku, "zones": list(self.zones)},
            "workloads": [
                {
                    "name": app.name,
                    "image": f"{APP}-{app.tag}" if app.tag != "aspnetapp" else APP,
                    "path": app.path,
                    **({"namespace": app.namespace} if app.namespace else {}),
                }
                for app in self.apps
            ],
        }
        if self.unreachable:
            found["breakGlass"] = {"unreachableCluster": self.unreachable}
        return found


def _other(color: str) -> str:
    return "green" if color == "blue" else "blue"


def _bump(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"{major}.{int(minor) + 1}"


def _lost(plan: Any, base: Evaluation, before: State, after: State) -> list[str]:
    """Invariant 1 as the issue states it, on the diff: what serving was deleted or replaced."""
    serving = {before.active, after.active}
    removed = {a.name for a in before.apps} - {a.name for a in after.apps}
    flip = before.active != after.active
    found = []
    for change in plan.changes.values():
        if change.action not in ("delete", "replace") or change.before is None:
            continue
        reg, kind = change.before, change.type.split(":")[-1]
        provider = reg.provider.rsplit("::", 1)[-1].removesuffix("-kubernetes")
        shared = kind in SHARED or (kind == "Subnet" and reg.inputs.get("subnetName") == "appgw")
        cluster = kind == "ManagedCluster" and reg.name.removesuffix("-aks") in serving
        if shared or cluster or (kind == "Release" and not flip):
            found.append(f"{kind} {reg.name}")
        elif change.type.startswith("kubernetes:") and kind not in ("Job", "Release"):
            app = next((a for a in removed if reg.name.startswith(f"{provider}-{a}-")), None)
            if provider in serving and not (change.action == "delete" and app):
                found.append(f"{kind} {reg.name} on {provider}")
    return found


class SafetyModel(RuleBasedStateMachine):
    """The deployed stack: a state that every accepted change moves to."""

    @initialize()
    def deployed_sample(self) -> None:
        self.state = State()

    def _propose(self, after: State) -> None:
        before = self.state
        base_raw = stack_config(before.overrides())
        head_raw = stack_config(after.overrides())
        try:
            config_after = _parsed(head_raw)
        except config.ConfigError:
            COUNTS["invalid"] += 1
            return
        COUNTS["steps"] += 1
        if DEEP and COUNTS["steps"] % 100 == 0:
            _report()
        judged = JUDGE.verdict(base_raw, head_raw)
        verdict: Verdict = judged.verdict
        if verdict.refusals:
            return
        COUNTS["accepted"] += 1
        plan = diff(judged.base, judged.head)
        # 1. Nothing serving is deleted or replaced.
        assert _lost(plan, judged.base, before, after) == [], verdict
        # 2. A flip changes nothing else that touches the cloud.
        if before.active != after.active:
            others = replace(after, active=before.active, unreachable=before.unreachable)
            assert others.overrides() == before.overrides(), (before, after)
        # 3. The revert is accepted by the same judge (a standby's version aside, and the
        # break-glass, whose way back is a retire and a rebuild).
        if before.unreachable == after.unreachable:
            base_cfg = _parsed(base_raw)
            back = judge(
                judged.head,
                judged.base,
                config_after,
                base_cfg,
                config.resource_prefix(base_cfg, STACK),
                serving=after.active,
            )
            assert not [r for r in back.refusals if "kubernetesVersion" not in r], back.refusals
        assert config_after.active == after.active
        self.state = after

    @rule()
    def flip(self) -> None:
        self._propose(replace(self.state, active=_other(self.state.active)))

    @rule(color=st.sampled_from(COLORS))
    def bump_version(self, color: str) -> None:
        version = self.state.get(self.state.versions, color)
        self._propose(self.state.put("versions", color, _bump(version)))

    @rule(color=st.sampled_from(COLORS))
    def toggle_network_policy(self, color: str) -> None:
        value = "none" if self.state.get(self.state.network_policy, color) == "cilium" else "cilium"
        self._propose(self.state.put("network_policy", color, value))

    @rule(
        color=st.sampled_from(COLORS),
        size=st.sampled_from(["Standard_D4ds_v5", "Standard_D8ds_v5"]),
    )
    def node_size(self, color: str, size: str) -> None:
        self._propose(self.state.put("vm_size", color, size))

    @rule(color=st.sampled_from(COLORS), enabled=st.booleans())
    def retire_or_re_enable(self, color: str, enabled: bool) -> None:
        self._propose(self.state.put("enabled", color, enabled))

    @rule()
    def break_glass(self) -> None:
        old = self.state.active
        self._propose(replace(self.state, active=_other(old), unreachable=old))

    @rule()
    def lift_break_glass(self) -> None:
        color = self.state.unreachable
        if color is not None:
            lifted = replace(self.state, unreachable=None)
            self._propose(lifted.put("enabled", color, False))

    @rule(name=st.sampled_from(["shop", "cart"]))
    def add_app(self, name: str) -> None:
        if name not in {a.name for a in self.state.apps}:
            app = App(name, f"/{name}")
            self._propose(replace(self.state, apps=(*self.state.apps, app)))

    @rule(index=st.integers(0, 2), new_name=st.sampled_from(["shop2", "web"]))
    def rename_app(self, index: int, new_name: str) -> None:
        apps = list(self.state.apps)
        if index < len(apps) and new_name not in {a.name for a in apps}:
            apps[index] = replace(apps[index], name=new_name)
            self._propose(replace(self.state, apps=tuple(apps)))

    @rule(index=st.integers(0, 2), namespace=st.sampled_from(["apps", "agic", "kube-system"]))
    def move_app_namespace(self, index: int, namespace: str) -> None:
        apps = list(self.state.apps)
        if index < len(apps):
            apps[index] = replace(apps[index], namespace=namespace)
            self._propose(replace(self.state, apps=tuple(apps)))

    @rule(index=st.integers(0, 2))
    def change_app(self, index: int) -> None:
        apps = list(self.state.apps)
        if index < len(apps):
            tag = "aspnetapp-9.0" if apps[index].tag == "aspnetapp" else "aspnetapp"
            apps[index] = replace(apps[index], tag=tag)
            self._propose(replace(self.state, apps=tuple(apps)))

    @rule(namespace=st.sampled_from(["agic", "ingress", "aspnetapp"]))
    def agic_namespace(self, namespace: str) -> None:
        self._propose(replace(self.state, agic_namespace=namespace))

    @rule(sku=st.sampled_from(["Standard_v2", "WAF_v2"]))
    def gateway_sku(self, sku: str) -> None:
        self._propose(replace(self.state, sku=sku))

    @rule(zones=st.sampled_from([("1", "2", "3"), ("1",), ()]))
    def gateway_zones(self, zones: tuple[str, ...]) -> None:
        self._propose(replace(self.state, zones=zones))

    @rule(
        color=st.sampled_from(COLORS),
        cidr=st.sampled_from(["10.240.0.0/16", "10.241.0.0/16", "10.242.0.0/16"]),
    )
    def cluster_subnet(self, color: str, cidr: str) -> None:
        self._propose(self.state.put("subnets", color, cidr))

    @invariant()
    def active_is_enabled(self) -> None:
        assert self.state.get(self.state.enabled, self.state.active)


def _parsed(raw: dict[str, Any]) -> config.StackConfig:
    from safety_cases import parsed

    return parsed(copy.deepcopy(raw))


# The deep profile (tests/conftest.py) asks for thousands of examples; here each example is a
# sequence of up to 20 judged steps, each one or two evaluations of the program.
DEEP = settings().max_examples >= 10_000
SafetyModel.TestCase.settings = settings(
    max_examples=150 if DEEP else 2,
    stateful_step_count=20 if DEEP else 3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
test_safety_model = SafetyModel.TestCase

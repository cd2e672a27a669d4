"""Retire only what no longer serves: a retired cluster goes only once the gateway sends it nothing.

Config alone cannot know which cluster the live gateway sends traffic to (a flip whose `up`
failed, AGIC that never wrote, a manual change). So while a cluster is retired
(`enabled: false`), `pulumi preview` and `up` read the live gateway and refuse while any backend
address lies in that cluster's subnet, naming the addresses. The refusal happens when this guard
is checked, during the program's registrations, so before the engine deletes anything. Reading
the gateway needs only Reader. The offline plan cannot see the gateway: it says the check runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from config import Color
from live_gateway.providers import RetireGuardProvider


class _RetireCheck(pulumi.dynamic.Resource, module="cutover", name="RetireGuard"):
    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(RetireGuardProvider(), name, props, opts)


@dataclass(frozen=True)
class RetireGuardArgs:
    gateway_id: pulumi.Input[str]
    color: Color
    subnet_cidr: str
    # What the change does to the cluster: "retire" (it is no longer declared) or "replace".
    change: str = "retire"


class RetireGuard(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: RetireGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:RetireGuard", name, None, opts)
        _RetireCheck(
            f"{name}-check",
            {
                "gatewayId": args.gateway_id,
                "retiredColor": args.color,
                "subnetCidr": args.subnet_cidr,
                **({"change": args.change} if args.change != "retire" else {}),
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"retiredColor": args.color, "subnetCidr": args.subnet_cidr})

"""Who may reach an app: the gateway and the smoke gate, on the app's port, and nobody else.

With plain Azure CNI the gateway sends requests and health probes from its instances' addresses
in the gateway subnet straight to pod IPs (AGIC 1.9.8 pkg/appgw/backendaddresspools.go fills
the pools with the Endpoints' pod IPs), so an ipBlock of that subnet admits exactly the gateway.
The smoke gate's pod runs in the app's namespace and reaches the pods through the Service,
which arrives as its own pod IP. Only ingress is restricted: what an app must call (databases,
APIs, DNS) is the app's business, and a default egress deny would break it silently.

The kubelet's liveness and readiness probes need no rule: traffic from the node a pod runs on
is always allowed (kubernetes.io/docs/concepts/services-networking/network-policies). The
cluster enforces these only where it runs a network policy engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

# The smoke gate's pods carry this label; the app admits them by it.
SMOKE_GATE_LABELS: dict[str, str] = {"aks-bluegreen/gate": "smoke"}


@dataclass(frozen=True)
class AppIngressArgs:
    namespace: str
    app_labels: Mapping[str, str]
    container_port: int
    gateway_subnet_cidr: str


def app_network_policies(
    name: str, args: AppIngressArgs, opts: pulumi.ResourceOptions
) -> list[k8s.networking.v1.NetworkPolicy]:
    """A default-deny for the namespace, and the app's one way in."""
    labels = {"app.kubernetes.io/part-of": "aks-bluegreen"}
    deny_all = k8s.networking.v1.NetworkPolicy(
        f"{name}-default-deny",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="default-deny-ingress", namespace=args.namespace, labels=labels
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(), policy_types=["Ingress"]
        ),
        opts=opts,
    )
    app_port = [k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=args.container_port)]
    admit = k8s.networking.v1.NetworkPolicy(
        f"{name}-admit",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="admit-gateway-and-smoke-gate", namespace=args.namespace, labels=labels
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(args.app_labels)),
            policy_types=["Ingress"],
            ingress=[
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            ip_block=k8s.networking.v1.IPBlockArgs(cidr=args.gateway_subnet_cidr)
                        )
                    ],
                    ports=app_port,
                ),
                k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                    from_=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            pod_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels=SMOKE_GATE_LABELS
                            )
                        )
                    ],
                    ports=app_port,
                ),
            ],
        ),
        opts=opts,
    )
    return [deny_all, admit]

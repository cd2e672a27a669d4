"""One slot of the blue/green pair: a cluster, the apps in it, and each app's smoke gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.smoke_gate import SmokeGate, SmokeGateArgs
from components.workload import Workload, WorkloadArgs
from config import (
    AccessConfig,
    ClusterConfig,
    Color,
    NetworkConfig,
    SmokeConfig,
    WorkloadConfig,
)


@dataclass(frozen=True)
class SlotArgs:
    color: Color
    resource_group_name: pulumi.Input[str]
    location: str
    cluster_name: str
    subnet_id: pulumi.Input[str]
    cluster: ClusterConfig
    network: NetworkConfig
    workloads: Sequence[WorkloadConfig]
    smoke: SmokeConfig
    # The slot AGIC serves from: its cluster is protected and its gates vouch for ingress.
    active: bool
    access: AccessConfig
    # The cluster is protected: it serves, or the gateway was last verified serving it.
    protect: bool
    # AGIC's namespace, where Helm keeps the release's records.
    agic_namespace: str
    log_analytics_workspace_id: pulumi.Input[str] | None = None
    # Declared unreachable by the break-glass: only its Azure resources are declared, and its
    # Kubernetes objects leave the state without a call to it (components/cluster.py).
    unreachable: bool = False
    # Resolves once the gateway has the certificates installed: an Ingress naming one waits.
    certificates_ready: pulumi.Output[bool] | None = None
    # What must be checked before the cluster is registered (a replace guard).
    after: Sequence[pulumi.Resource] = ()


class Slot(pulumi.ComponentResource):
    cluster: Cluster
    gates: list[SmokeGate]

    def __init__(
        self, name: str, args: SlotArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Slot", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.cluster = Cluster(
            args.color,
            ClusterArgs(
                color=args.color,
                resource_group_name=args.resource_group_name,
                location=args.location,
                name=args.cluster_name,
                subnet_id=args.subnet_id,
                config=args.cluster,
                network=args.network,
                active=args.active,
                access=args.access,
                protect=args.protect,
                after=args.after,
                helm_namespace=args.agic_namespace,
                log_analytics_workspace_id=args.log_analytics_workspace_id,
                unreachable=args.unreachable,
            ),
            child,
        )
        provider = self.cluster.provider
        self.gates = []
        # Nothing may be created on a cluster that cannot be reached: its objects are dropped
        # from the state by the refresh, and none are declared again until it is rebuilt.
        for app in [] if args.unreachable else args.workloads:
            workload = Workload(
                f"{args.color}-{app.name}",
                WorkloadArgs(
                    app,
                    provider,
                    str(args.network.gateway_subnet_cidr),
                    args.certificates_ready,
                ),
                child,
            )
            gate_args = SmokeGateArgs(
                workload=workload,
                workload_config=app,
                kubernetes_version=args.cluster.kubernetes_version,
                serves_ingress=args.active,
                config=args.smoke,
                provider=provider,
            )
            self.gates.append(SmokeGate(f"{args.color}-{app.name}-smoke", gate_args, child))
        self.register_outputs(
            {
                "clusterName": self.cluster.cluster_name,
                "gates": [gate.job_name for gate in self.gates],
            }
        )

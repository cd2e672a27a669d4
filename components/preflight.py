"""Ask the subscription, before anything changes, what ARM would refuse mid-deployment.

The config refuses what cannot exist (config/catalogs/); what exists but this subscription may
not have in this region (a Kubernetes patch, a VM size or zone, host encryption's feature) and
whether the chart version is in its registry is asked live by the preflight's Check
(live_gateway/preflight.py). The resource group depends on it, and every other resource on the
resource group, so a refusal stops `pulumi preview` and `up` before the engine changes
anything. The offline plan cannot see the subscription: it says the check runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi_azure_native import authorization

from config import StackConfig
from config.transition import DeployedFacts
from live_gateway.preflight_provider import PreflightProvider


class _PreflightCheck(pulumi.dynamic.Resource, module="cutover", name="Preflight"):
    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(PreflightProvider(), name, props, opts)


@dataclass(frozen=True)
class PreflightArgs:
    config: StackConfig
    # The last deployment's facts (None: never deployed): what this deployment creates.
    previous: DeployedFacts | None


def asks(args: PreflightArgs) -> list[dict[str, Any]]:
    """Each enabled cluster as the preflight judges it."""
    found = []
    for color in args.config.enabled_colors():
        cluster = args.config.clusters[color]
        before = args.previous.cluster(color) if args.previous else None
        creating = before is None or not before.enabled
        found.append(
            {
                "color": color,
                "kubernetesVersion": cluster.kubernetes_version,
                "vmSize": cluster.vm_size,
                "zones": list(cluster.availability_zones),
                "encryptionAtHost": cluster.encryption_at_host,
                "creating": creating,
                "versionChanges": creating
                or (before is not None and before.kubernetes_version != cluster.kubernetes_version),
            }
        )
    return found


class Preflight(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: PreflightArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Preflight", name, None, opts)
        # getClientConfig answers in preview too, from the provider's own sign-in: the
        # subscription is known before anything exists.
        client = authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self.check = _PreflightCheck(
            f"{name}-check",
            {
                "subscriptionId": client.subscription_id,
                "location": args.config.location,
                "clusters": asks(args),
                "chartRegistry": args.config.agic.chart_registry,
                "chartRepository": args.config.agic.chart_repository,
                "chartVersion": args.config.agic.chart_version,
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})

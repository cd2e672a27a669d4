"""Where a cut-over is seen afterwards: one Log Analytics workspace for the stack, the gateway's
logs and metrics, and both clusters' container logs and metrics through Container Insights.

All of it belongs to the stack, not to a color: a flip changes none of it, so the gateway's
access log shows the same request stream before, during and after the cut-over, with the
backend address (a pod IP, so a cluster subnet) that served each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor, operationalinsights

from config import Color, MonitoringConfig

# Resource-specific tables (AGWAccessLogs, AGWPerformanceLogs, AGWFirewallLogs) rather than the
# shared AzureDiagnostics table: typed columns, and the mode Microsoft recommends for
# Application Gateway ("Storage locations" in
# learn.microsoft.com/azure/application-gateway/application-gateway-diagnostics; `Dedicated`
# is the API's name for it).
DEDICATED = "Dedicated"
ACCESS_LOG = "ApplicationGatewayAccessLog"
# Produces rows only on v1 gateways; a v2 gateway reports performance as metrics (AllMetrics,
# in AzureMetrics). Enabled all the same: the category exists for every gateway, and it costs
# nothing where it is empty.
PERFORMANCE_LOG = "ApplicationGatewayPerformanceLog"
FIREWALL_LOG = "ApplicationGatewayFirewallLog"
ALL_METRICS = "AllMetrics"

# Container Insights with managed-identity authentication, as Microsoft's own onboarding
# template sets it up (microsoft/Docker-Provider
# scripts/onboarding/aks/onboarding-using-msi-auth/existingClusterOnboarding.json): a Linux data
# collection rule with the ContainerInsights extension, one association per cluster named
# ContainerInsightsExtension, and the cluster's `omsagent` addon with useAADAuth "true".
CONTAINER_INSIGHTS_ASSOCIATION = "ContainerInsightsExtension"
CONTAINER_INSIGHTS_STREAMS: tuple[str, ...] = (
    "Microsoft-ContainerLogV2",
    "Microsoft-KubeEvents",
    "Microsoft-KubePodInventory",
    "Microsoft-KubeNodeInventory",
    "Microsoft-KubePVInventory",
    "Microsoft-KubeServices",
    "Microsoft-KubeMonAgentEvents",
    "Microsoft-InsightsMetrics",
    "Microsoft-ContainerInventory",
    "Microsoft-ContainerNodeInventory",
    "Microsoft-Perf",
)
_DESTINATION = "ciworkspace"


def gateway_log_categories(sku: str) -> tuple[str, ...]:
    """The firewall log exists only where there is a firewall: on a WAF_v2 gateway."""
    categories = (ACCESS_LOG, PERFORMANCE_LOG)
    return (*categories, FIREWALL_LOG) if sku.startswith("WAF") else categories


@dataclass(frozen=True)
class MonitoringArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    name: str
    gateway_id: pulumi.Input[str]
    gateway_sku: str
    config: MonitoringConfig


class Monitoring(pulumi.ComponentResource):
    workspace_id: pulumi.Output[str]
    # The workspace's GUID, which `az monitor log-analytics query --workspace` takes.
    workspace_customer_id: pulumi.Output[str]
    container_insights_rule_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Monitoring", name, None, opts)
        # Protected like the gateway: it holds the only record of past cut-overs.
        workspace = operationalinsights.Workspace(
            f"{name}-workspace",
            resource_group_name=args.resource_group_name,
            workspace_name=args.name,
            location=args.location,
            sku=operationalinsights.WorkspaceSkuArgs(
                name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018
            ),
            retention_in_days=args.config.retention_in_days,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        monitor.DiagnosticSetting(
            f"{name}-gateway-diagnostics",
            name=args.name,
            resource_uri=args.gateway_id,
            workspace_id=workspace.id,
            log_analytics_destination_type=DEDICATED,
            logs=[
                monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                for category in gateway_log_categories(args.gateway_sku)
            ],
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category=ALL_METRICS, enabled=True)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        rule = monitor.DataCollectionRule(
            f"{name}-container-insights",
            resource_group_name=args.resource_group_name,
            data_collection_rule_name=f"{args.name}-container-insights",
            location=args.location,
            kind="Linux",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                extensions=[
                    monitor.ExtensionDataSourceArgs(
                        name=CONTAINER_INSIGHTS_ASSOCIATION,
                        extension_name="ContainerInsights",
                        streams=list(CONTAINER_INSIGHTS_STREAMS),
                        extension_settings={
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    )
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[
                    monitor.LogAnalyticsDestinationArgs(
                        name=_DESTINATION, workspace_resource_id=workspace.id
                    )
                ]
            ),
            data_flows=[
                monitor.DataFlowArgs(
                    streams=list(CONTAINER_INSIGHTS_STREAMS), destinations=[_DESTINATION]
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workspace_id = workspace.id
        self.workspace_customer_id = workspace.customer_id
        self.container_insights_rule_id = rule.id
        self.register_outputs(
            {
                "workspaceId": self.workspace_id,
                "workspaceCustomerId": self.workspace_customer_id,
                "containerInsightsRuleId": self.container_insights_rule_id,
            }
        )


@dataclass(frozen=True)
class ContainerInsightsArgs:
    rule_id: pulumi.Input[str]
    # The ARM ID of each running cluster; a retired standby has none, and loses its association
    # before the cluster goes.
    clusters: Mapping[Color, pulumi.Input[str]]


class ContainerInsights(pulumi.ComponentResource):
    """Associates each cluster with the Container Insights rule, after the cluster exists.

    The cluster's `omsagent` addon points its agent at the workspace; the association tells the
    agent what to collect. The cluster must exist first, so this is a component of its own.
    """

    def __init__(
        self, name: str, args: ContainerInsightsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:ContainerInsights", name, None, opts)
        for color, cluster_id in args.clusters.items():
            monitor.DataCollectionRuleAssociation(
                f"{name}-{color}",
                resource_uri=cluster_id,
                association_name=CONTAINER_INSIGHTS_ASSOCIATION,
                data_collection_rule_id=args.rule_id,
                description="Container Insights for this cluster; deleting it stops collection.",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})

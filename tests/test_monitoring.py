"""The stack's Log Analytics workspace, the gateway's diagnostic settings and Container Insights:
what the program registers, that a flip leaves all of it alone, and the retention rule."""

from __future__ import annotations

from dataclasses import asdict

import pytest

import config
from components.monitoring import (
    ACCESS_LOG,
    CONTAINER_INSIGHTS_STREAMS,
    FIREWALL_LOG,
    PERFORMANCE_LOG,
    gateway_log_categories,
)
from conftest import ACCESS, by_name
from plan.evaluate import Evaluation

RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
WORKSPACE_ID = f"{RG}/providers/Microsoft.OperationalInsights/workspaces/aksbg-prod-logs"
MONITORING_TYPES = {
    "azure-native:operationalinsights:Workspace",
    "azure-native:monitor:DiagnosticSetting",
    "azure-native:monitor:DataCollectionRule",
    "azure-native:monitor:DataCollectionRuleAssociation",
}


def test_one_protected_pay_as_you_go_workspace_with_the_configured_retention(
    blue: Evaluation,
) -> None:
    workspace = blue.one("azure-native:operationalinsights:Workspace")
    assert workspace.inputs["workspaceName"] == "aksbg-prod-logs"
    assert workspace.inputs["sku"] == {"name": "PerGB2018"}
    assert workspace.inputs["retentionInDays"] == 30
    assert workspace.protect
    assert blue.outputs["logAnalyticsWorkspaceId"]  # the GUID `az monitor ... query` takes


def test_gateway_logs_and_metrics_go_to_resource_specific_tables(blue: Evaluation) -> None:
    setting = blue.one("azure-native:monitor:DiagnosticSetting")
    gateway = blue.one("azure-native:network:ApplicationGateway")
    assert (
        setting.inputs["resourceUri"]
        == f"{RG}/providers/Microsoft.Network/applicationGateways/aksbg-prod-appgw"
    )
    assert gateway.urn in setting.dependencies
    assert setting.inputs["workspaceId"] == WORKSPACE_ID
    assert setting.inputs["logAnalyticsDestinationType"] == "Dedicated"
    assert setting.inputs["logs"] == [
        {"category": "ApplicationGatewayAccessLog", "enabled": True},
        {"category": "ApplicationGatewayPerformanceLog", "enabled": True},
    ]
    assert setting.inputs["metrics"] == [{"category": "AllMetrics", "enabled": True}]


def test_the_firewall_log_is_collected_only_where_there_is_a_firewall() -> None:
    assert gateway_log_categories("Standard_v2") == (ACCESS_LOG, PERFORMANCE_LOG)
    assert gateway_log_categories("WAF_v2") == (ACCESS_LOG, PERFORMANCE_LOG, FIREWALL_LOG)


def test_both_clusters_send_container_insights_with_managed_identity(blue: Evaluation) -> None:
    rule = blue.one("azure-native:monitor:DataCollectionRule")
    assert rule.inputs["kind"] == "Linux"
    [extension] = rule.inputs["dataSources"]["extensions"]
    assert extension["extensionName"] == "ContainerInsights"
    assert extension["streams"] == list(CONTAINER_INSIGHTS_STREAMS)
    assert "Microsoft-ContainerLogV2" in extension["streams"]
    assert extension["extensionSettings"]["dataCollectionSettings"]["enableContainerLogV2"]
    [destination] = rule.inputs["destinations"]["logAnalytics"]
    assert destination["workspaceResourceId"] == WORKSPACE_ID
    assert rule.inputs["dataFlows"] == [
        {"streams": list(CONTAINER_INSIGHTS_STREAMS), "destinations": [destination["name"]]}
    ]
    for color in ("blue", "green"):
        cluster = by_name(blue, f"{color}-aks")
        assert cluster.inputs["addonProfiles"]["omsagent"] == {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": WORKSPACE_ID, "useAADAuth": "true"},
        }
        association = by_name(blue, f"container-insights-{color}")
        assert association.inputs["associationName"] == "ContainerInsightsExtension"
        assert association.inputs["resourceUri"] == (
            f"{RG}/providers/Microsoft.ContainerService/managedClusters/aksbg-prod-{color}"
        )
        assert association.inputs["dataCollectionRuleId"].endswith(
            "/dataCollectionRules/aksbg-prod-logs-container-insights"
        )
        assert cluster.urn in association.dependencies


def test_a_flip_changes_no_monitoring_resource(blue: Evaluation, green: Evaluation) -> None:
    monitoring = [u for u, r in blue.resources.items() if r.type in MONITORING_TYPES]
    assert len(monitoring) == 5
    for urn in monitoring:
        assert asdict(blue.resources[urn]) == asdict(green.resources[urn]), urn
    assert blue.outputs["logAnalyticsWorkspaceId"] == green.outputs["logAnalyticsWorkspaceId"]


def test_a_retired_standby_loses_only_its_own_association(evaluate_variant) -> None:
    retired = evaluate_variant("blue", clusters={"green": {"enabled": False}})
    associations = retired.of_type("azure-native:monitor:DataCollectionRuleAssociation")
    assert [a.name for a in associations] == ["container-insights-blue"]
    assert retired.one("azure-native:operationalinsights:Workspace")


@pytest.mark.parametrize("days", [30, 90, 730])
def test_retention_within_what_azure_offers_is_accepted(days: int) -> None:
    cfg = config.parse(
        {"active": "blue", "access": ACCESS, "monitoring": {"retentionInDays": days}}
    )
    assert cfg.monitoring.retention_in_days == days


@pytest.mark.parametrize("days", [7, 29, 731])
def test_retention_azure_does_not_offer_is_refused_by_key(days: int) -> None:
    with pytest.raises(config.ConfigError) as err:
        config.parse({"active": "blue", "access": ACCESS, "monitoring": {"retentionInDays": days}})
    assert str(err.value) == (
        f"aks-bluegreen:monitoring.retentionInDays: {days} days is not a retention Azure allows "
        "for a pay-as-you-go workspace; use 30 to 730"
    )


def test_an_unknown_monitoring_key_is_refused() -> None:
    with pytest.raises(config.ConfigError) as err:
        config.parse({"active": "blue", "access": ACCESS, "monitoring": '{"retention": 30}'})
    assert err.value.key == "monitoring.retention"

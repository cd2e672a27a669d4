"""What the program would send, in the forms scanners read: an ARM template and manifests.

The Azure resources become one ARM deployment template; the Kubernetes objects become one
manifest file per cluster. The AGIC Helm release is left out: its pods are rendered by
Microsoft's chart inside the cluster, from values, not sent by this program as objects.

azure-native sends each resource to ARM as a PUT of the resource's REST body: its own name in
the URL, `location`, `tags`, `sku`, `identity`, `zones` beside `properties`, and every other
input flattened into `properties` by the provider. This puts them back where ARM has them, with
the API version each resource module of pulumi-azure-native 3.29.0 uses ("Uses Azure REST API
version ..." in its docstring; `test_scanner` checks the table against the installed SDK).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from plan.evaluate import Evaluation, Registration

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"


@dataclass(frozen=True)
class ArmType:
    type: str
    api_version: str
    # Inputs that make up the resource's name (parent first); ARM joins them with "/".
    name_inputs: tuple[str, ...]
    # The SDK module that registers the token, for the API-version check.
    sdk_module: str
    # Inputs ARM holds beside `properties` for this type.
    top_level: frozenset[str] = frozenset({"location", "tags", "zones", "identity", "sku"})
    # An extension resource's target: the input ARM takes as the resource's top-level `scope`.
    scope_input: str | None = None
    # Inputs that ARM carries in the resource type itself, not in the body.
    in_type: frozenset[str] = frozenset()


ARM_TYPES: dict[str, ArmType] = {
    "azure-native:resources:ResourceGroup": ArmType(
        "Microsoft.Resources/resourceGroups",
        "2024-03-01",
        ("resourceGroupName",),
        "resources/resource_group",
    ),
    "azure-native:network:VirtualNetwork": ArmType(
        "Microsoft.Network/virtualNetworks",
        "2024-05-01",
        ("virtualNetworkName",),
        "network/virtual_network",
    ),
    "azure-native:network:Subnet": ArmType(
        "Microsoft.Network/virtualNetworks/subnets",
        "2024-05-01",
        ("virtualNetworkName", "subnetName"),
        "network/subnet",
    ),
    "azure-native:network:PublicIPAddress": ArmType(
        "Microsoft.Network/publicIPAddresses",
        "2024-05-01",
        ("publicIpAddressName",),
        "network/public_ip_address",
    ),
    # An Application Gateway's SKU is part of its properties, not a top-level `sku`.
    "azure-native:network:ApplicationGateway": ArmType(
        "Microsoft.Network/applicationGateways",
        "2024-05-01",
        ("applicationGatewayName",),
        "network/application_gateway",
        frozenset({"location", "tags", "zones", "identity"}),
    ),
    "azure-native:network:WebApplicationFirewallPolicy": ArmType(
        "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
        "2024-05-01",
        ("policyName",),
        "network/web_application_firewall_policy",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "2023-01-31",
        ("resourceName",),
        "managedidentity/user_assigned_identity",
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        "2023-01-31",
        ("resourceName", "federatedIdentityCredentialResourceName"),
        "managedidentity/federated_identity_credential",
    ),
    "azure-native:authorization:RoleAssignment": ArmType(
        "Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        ("roleAssignmentName",),
        "authorization/role_assignment",
        frozenset(),
        scope_input="scope",
    ),
    # A custom role: `scope` is where it is defined, its assignable scopes are properties.
    "azure-native:authorization:RoleDefinition": ArmType(
        "Microsoft.Authorization/roleDefinitions",
        "2022-05-01-preview",
        ("roleDefinitionId",),
        "authorization/role_definition",
        frozenset(),
        scope_input="scope",
    ),
    "azure-native:containerservice:MaintenanceConfiguration": ArmType(
        "Microsoft.ContainerService/managedClusters/maintenanceConfigurations",
        "2025-09-01",
        ("resourceName", "configName"),
        "containerservice/maintenance_configuration",
        frozenset(),
    ),
    "azure-native:containerservice:ManagedCluster": ArmType(
        "Microsoft.ContainerService/managedClusters",
        "2025-09-01",
        ("resourceName",),
        "containerservice/managed_cluster",
    ),
    # A Log Analytics workspace's SKU is part of its properties.
    "azure-native:operationalinsights:Workspace": ArmType(
        "Microsoft.OperationalInsights/workspaces",
        "2023-09-01",
        ("workspaceName",),
        "operationalinsights/workspace",
        frozenset({"location", "tags", "identity"}),
    ),
    "azure-native:monitor:DataCollectionRule": ArmType(
        "Microsoft.Insights/dataCollectionRules",
        "2022-06-01",
        ("dataCollectionRuleName",),
        "monitor/data_collection_rule",
        frozenset({"location", "tags", "identity", "kind"}),
    ),
    "azure-native:monitor:DataCollectionRuleAssociation": ArmType(
        "Microsoft.Insights/dataCollectionRuleAssociations",
        "2022-06-01",
        ("associationName",),
        "monitor/data_collection_rule_association",
        frozenset(),
        scope_input="resourceUri",
    ),
    "azure-native:monitor:DiagnosticSetting": ArmType(
        "Microsoft.Insights/diagnosticSettings",
        "2021-05-01-preview",
        ("name",),
        "monitor/diagnostic_setting",
        frozenset(),
        scope_input="resourceUri",
    ),
    # The program writes A record sets only: the record type is the last segment of ARM's type.
    "azure-native:dns:RecordSet": ArmType(
        "Microsoft.Network/dnsZones/A",
        "2023-07-01-preview",
        ("zoneName", "relativeRecordSetName"),
        "dns/record_set",
        frozenset(),
        in_type=frozenset({"recordType"}),
    ),
}


def plain(value: Any) -> Any:
    # Recorded numbers come back from protobuf as floats; ARM and Kubernetes want integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def arm_resource(reg: Registration) -> dict[str, Any]:
    """One registration as an ARM template resource; a token not in ARM_TYPES is an error."""
    arm = ARM_TYPES[reg.type]
    inputs = plain(reg.inputs)
    resource: dict[str, Any] = {
        "type": arm.type,
        "apiVersion": arm.api_version,
        "name": "/".join(str(inputs[key]) for key in arm.name_inputs),
    }
    properties: dict[str, Any] = {}
    for key, value in inputs.items():
        if key in arm.name_inputs or key in arm.in_type or key == "resourceGroupName":
            continue
        if key == arm.scope_input:
            resource["scope"] = value
        elif key in arm.top_level:
            resource[key] = value
        else:
            properties[key] = value
    identity = resource.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # azure-native takes a list of identity IDs; ARM's body is a map of ID -> {}.
        identity["userAssignedIdentities"] = {ref: {} for ref in identity["userAssignedIdentities"]}
    if properties:
        resource["properties"] = properties
    return resource


def arm_template(evaluation: Evaluation) -> dict[str, Any]:
    """Every Azure resource of an evaluation, in registration order, as one template."""
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            arm_resource(reg) for reg in evaluation.resources.values() if reg.touches_cloud
        ],
    }


def kubernetes_manifests(evaluation: Evaluation) -> dict[str, str]:
    """Each cluster's objects as one multi-document YAML, keyed by the provider's name."""
    by_cluster: dict[str, list[dict[str, Any]]] = {}
    for reg in evaluation.resources.values():
        if not reg.type.startswith("kubernetes:") or reg.type.startswith("kubernetes:helm.sh"):
            continue
        cluster = reg.provider.rsplit("::", 1)[-1]
        by_cluster.setdefault(cluster, []).append(plain(reg.inputs))
    return {
        cluster: yaml.safe_dump_all(objects, sort_keys=False)
        for cluster, objects in by_cluster.items()
    }

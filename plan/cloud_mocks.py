"""Deterministic stand-ins for what Azure and Kubernetes would answer.

Every value derives from the resource's own inputs, so two evaluations of the same config give
identical outputs, and a diff between two configs shows only what the configs change.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pulumi

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
# TEST-NET-3: a documentation address that can never be someone's real gateway.
PUBLIC_IP = "203.0.113.10"
_NAMESPACE = uuid.UUID("3f1c2b9e-0d7a-4c55-8e8b-6a2f4d1e9c70")

# token -> (ARM provider path, input that holds the resource's own name)
_ARM: dict[str, tuple[str, str]] = {
    "azure-native:resources:ResourceGroup": ("", "resourceGroupName"),
    "azure-native:network:VirtualNetwork": (
        "Microsoft.Network/virtualNetworks",
        "virtualNetworkName",
    ),
    "azure-native:network:PublicIPAddress": (
        "Microsoft.Network/publicIPAddresses",
        "publicIpAddressName",
    ),
    "azure-native:network:ApplicationGateway": (
        "Microsoft.Network/applicationGateways",
        "applicationGatewayName",
    ),
    "azure-native:network:WebApplicationFirewallPolicy": (
        "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
        "policyName",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "resourceName",
    ),
    "azure-native:containerservice:ManagedCluster": (
        "Microsoft.ContainerService/managedClusters",
        "resourceName",
    ),
    "azure-native:operationalinsights:Workspace": (
        "Microsoft.OperationalInsights/workspaces",
        "workspaceName",
    ),
    "azure-native:monitor:DataCollectionRule": (
        "Microsoft.Insights/dataCollectionRules",
        "dataCollectionRuleName",
    ),
}
# Extension resources live under the resource they extend: token -> (child path, name input).
_EXTENSIONS: dict[str, tuple[str, str]] = {
    "azure-native:monitor:DiagnosticSetting": ("Microsoft.Insights/diagnosticSettings", "name"),
    "azure-native:monitor:DataCollectionRuleAssociation": (
        "Microsoft.Insights/dataCollectionRuleAssociations",
        "associationName",
    ),
}


# The program's own dynamic providers (live_gateway/): they read the live gateway, which the
# offline plan cannot. Their stand-in answers are what a converged `pulumi up` would store.
_DYNAMIC = "pulumi-python:dynamic/cutover:"


def _dynamic(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if typ == f"{_DYNAMIC}GatewayServesActive":
        active = inputs.get("activeColor")
        return "gateway-serves-active", {
            **inputs,
            "serving": True,
            "waitedSeconds": 0,
            "message": f"offline plan: `pulumi up` verifies that the live gateway serves {active}",
            "seen": {},
        }
    if typ == f"{_DYNAMIC}CertificatesInstalled":
        return "certificates-installed", {
            **inputs,
            "installed": True,
            "message": "offline plan: `pulumi up` waits for the gateway to install them",
            "seen": {},
        }
    if typ == f"{_DYNAMIC}RetireGuard":
        return f"{inputs.get('retiredColor')}-retired", inputs
    return f"{name}-id", inputs


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def _arm_id(typ: str, inputs: dict[str, Any], name: str) -> str:
    group = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('resourceGroupName', name)}"
    )
    if typ == "azure-native:network:Subnet":
        return (
            f"{group}/providers/Microsoft.Network/virtualNetworks/"
            f"{inputs['virtualNetworkName']}/subnets/{inputs['subnetName']}"
        )
    if typ == "azure-native:managedidentity:FederatedIdentityCredential":
        return (
            f"{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
            f"{inputs['resourceName']}/federatedIdentityCredentials/"
            f"{inputs['federatedIdentityCredentialResourceName']}"
        )
    if typ == "azure-native:authorization:RoleAssignment":
        return (
            f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/"
            f"{inputs.get('roleAssignmentName', name)}"
        )
    if typ in _EXTENSIONS:
        path, name_key = _EXTENSIONS[typ]
        return f"{inputs['resourceUri']}/providers/{path}/{inputs.get(name_key, name)}"
    if typ == "azure-native:authorization:RoleDefinition":
        return (
            f"{inputs['scope']}/providers/Microsoft.Authorization/roleDefinitions/"
            f"{inputs.get('roleDefinitionId', name)}"
        )
    if typ == "azure-native:dns:RecordSet":
        return (
            f"{group}/providers/Microsoft.Network/dnsZones/{inputs['zoneName']}/"
            f"{inputs['recordType']}/{inputs.get('relativeRecordSetName', name)}"
        )
    if typ == "azure-native:containerservice:MaintenanceConfiguration":
        return (
            f"{group}/providers/Microsoft.ContainerService/managedClusters/"
            f"{inputs['resourceName']}/maintenanceConfigurations/{inputs['configName']}"
        )
    path, name_key = _ARM.get(typ, ("Mock/unknown", "name"))
    resource_name = inputs.get(name_key, name)
    if not path:
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{resource_name}"
    return f"{group}/providers/{path}/{resource_name}"


def cluster_ca(cluster: str) -> str:
    """A stand-in for the cluster CA's base64 PEM: stable per cluster, never a real key."""
    pem = f"-----BEGIN CERTIFICATE-----\n{stable_uuid('ca', cluster)}\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


def kubeconfig_for(cluster: str, fqdn: str, entra_id: bool) -> str:
    """listClusterUserCredential's kubeconfig as ARM shapes it (format=exec).

    With Entra ID the user is kubelogin in device-code mode with AKS's public client, the
    tenant and the server app; with local accounts it is the cluster's static user token.
    """
    cluster_part = (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n"
        f"    certificate-authority-data: {cluster_ca(cluster)}\n"
        f"    server: https://{fqdn}:443\n"
        f"contexts:\n- name: {cluster}\n  context:\n"
        f"    cluster: {cluster}\n    user: clusterUser_{cluster}\n"
        f"current-context: {cluster}\n"
    )
    if not entra_id:
        token = stable_uuid("local-account-token", cluster).replace("-", "")
        return (
            cluster_part + f"users:\n- name: clusterUser_{cluster}\n  user:\n    token: {token}\n"
        )
    return cluster_part + (
        f"users:\n- name: clusterUser_{cluster}\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
        "      args:\n      - get-token\n      - --environment\n      - AzurePublicCloud\n"
        "      - --server-id\n      - 6dae42f8-4368-4678-94ff-3960e28e3630\n"
        "      - --client-id\n      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a\n"
        f"      - --tenant-id\n      - {TENANT_ID}\n      - --login\n      - devicecode\n"
        "      command: kubelogin\n      env: null\n"
        "      provideClusterInfo: false\n"
    )


STACK_REFERENCE = "pulumi:pulumi:StackReference"


CLIENT_CONFIG = "azure-native:authorization:getClientConfig"


def client_config() -> dict[str, str]:
    """Who azure-native signed in as (getClientConfig): the preflight asks this subscription."""
    return {
        "clientId": stable_uuid("client", "deployer"),
        "objectId": stable_uuid("principal", "deployer"),
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    }


class CloudMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes the way Azure and Kubernetes would, offline.

    `previous_outputs` are the outputs a stack reference reads: those of the stack's last
    deployment, or none for a stack that was never deployed (what both state backends answer).
    """

    def __init__(self, previous_outputs: dict[str, Any] | None = None) -> None:
        self.previous_outputs = dict(previous_outputs or {})
        # Clusters registered so far, by name: what listClusterUserCredential answers depends on
        # how the cluster was configured, as it does in ARM.
        self._clusters: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        typ = args.typ
        if typ == STACK_REFERENCE:
            # The engine's builtin provider answers a stack reference with these three fields
            # (pulumi/pulumi pkg/resource/deploy/builtins.go readStackReference).
            name = str(inputs.get("name") or args.resource_id)
            return name, {"name": name, "outputs": self.previous_outputs, "secretOutputNames": []}
        if typ.startswith("pulumi:providers:"):
            return f"{args.name}-provider-id", inputs
        if typ.startswith(_DYNAMIC):
            return _dynamic(typ, args.name, inputs)
        if typ.startswith("kubernetes:"):
            meta = inputs.get("metadata") or {}
            namespace = meta.get("namespace") or inputs.get("namespace")
            name = meta.get("name") or inputs.get("name") or args.name
            return (f"{namespace}/{name}" if namespace else name), inputs
        if not typ.startswith("azure-native:"):
            return f"{args.name}-id", inputs
        arm_id = _arm_id(typ, inputs, args.name)
        state = {**inputs, "id": arm_id, "name": arm_id.rsplit("/", 1)[-1]}
        if typ == "azure-native:managedidentity:UserAssignedIdentity":
            state["clientId"] = stable_uuid("client", arm_id)
            state["principalId"] = stable_uuid("principal", arm_id)
            state["tenantId"] = TENANT_ID
        elif typ == "azure-native:network:PublicIPAddress":
            state["ipAddress"] = PUBLIC_IP
        elif typ == "azure-native:operationalinsights:Workspace":
            state["customerId"] = stable_uuid("workspace", arm_id)
        elif typ == "azure-native:containerservice:ManagedCluster":
            issuer = f"https://{inputs.get('location')}.oic.prod-aks.azure.com/{TENANT_ID}/{stable_uuid(arm_id)}/"
            state["oidcIssuerProfile"] = {
                **(inputs.get("oidcIssuerProfile") or {}),
                "issuerURL": issuer,
            }
            state["currentKubernetesVersion"] = inputs.get("kubernetesVersion")
            # ARM answers the identity list it was sent as a map of ID -> client/principal IDs.
            identity = inputs.get("identity") or {}
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    ref: {
                        "clientId": stable_uuid("client", ref),
                        "principalId": stable_uuid("principal", ref),
                    }
                    for ref in identity.get("userAssignedIdentities") or []
                },
            }
            state["fqdn"] = f"{inputs.get('dnsPrefix')}-dns.hcp.{inputs.get('location')}.azmk8s.io"
            self._clusters[state["name"]] = state
        elif typ == "azure-native:network:ApplicationGateway" and inputs.get("identity"):
            # ARM answers a gateway's identity list, too, as a map of ID -> client/principal IDs.
            identity = inputs["identity"]
            state["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    ref: {
                        "clientId": stable_uuid("client", ref),
                        "principalId": stable_uuid("principal", ref),
                    }
                    for ref in identity.get("userAssignedIdentities") or []
                },
            }
        return arm_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:containerservice:listManagedClusterUserCredentials":
            cluster = str(args.args.get("resourceName"))
            state = self._clusters[cluster]
            entra_id = bool((state.get("aadProfile") or {}).get("managed"))
            kubeconfig = kubeconfig_for(cluster, state["fqdn"], entra_id)
            encoded = base64.b64encode(kubeconfig.encode()).decode()
            # No check failures: an empty list, as MockMonitor.Invoke iterates it (mocks.py).
            return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}, []
        if args.token == CLIENT_CONFIG:
            return client_config(), []
        raise NotImplementedError(f"the offline plan has no answer for invoke {args.token}")

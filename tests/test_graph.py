"""The full resource graph of each sample stack: what exists, where it hangs, what it is sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.agic import TOKEN_AUDIENCE
from components.gateway import AGIC_OWNED_PROPERTIES
from components.role_grant import ROLE_IDS
from config import SAMPLE_IMAGE
from config.catalogs.agic_chart import CHART
from conftest import by_name
from plan.cloud_mocks import stable_uuid
from plan.evaluate import Evaluation, Registration

COLORS = ("blue", "green")
VERSIONS = {"blue": "1.35", "green": "1.36"}
SUBNETS = {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"}


@pytest.fixture(params=COLORS)
def active(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def stack(request: pytest.FixtureRequest, active: str) -> Evaluation:
    return request.getfixturevalue(active)


def parent_name(stack: Evaluation, reg: Registration) -> str:
    return stack.resources[reg.parent].name if reg.parent in stack.resources else "<stack>"


def test_each_sample_stack_registers_the_same_78_resources(stack: Evaluation) -> None:
    counts = Counter(r.type for r in stack.resources.values())
    assert counts == {
        "azure-native:resources:ResourceGroup": 1,
        "azure-native:network:VirtualNetwork": 1,
        "azure-native:network:Subnet": 3,
        "azure-native:network:PublicIPAddress": 1,
        "azure-native:network:ApplicationGateway": 1,
        "azure-native:managedidentity:UserAssignedIdentity": 3,
        # AGIC 3, subnet 2, per cluster: deployer 1, preview 3.
        "azure-native:authorization:RoleAssignment": 13,
        "azure-native:authorization:RoleDefinition": 2,
        "azure-native:containerservice:ManagedCluster": 2,
        "azure-native:containerservice:MaintenanceConfiguration": 4,
        "azure-native:managedidentity:FederatedIdentityCredential": 2,
        "pulumi:providers:kubernetes": 2,
        "kubernetes:core/v1:Namespace": 4,
        "kubernetes:apps/v1:Deployment": 2,
        "kubernetes:core/v1:Service": 2,
        "kubernetes:networking.k8s.io/v1:Ingress": 2,
        "kubernetes:policy/v1:PodDisruptionBudget": 2,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 4,
        "kubernetes:batch/v1:Job": 2,
        "kubernetes:helm.sh/v3:Release": 1,
        "aks-bluegreen:index:Network": 1,
        "aks-bluegreen:index:Gateway": 1,
        "aks-bluegreen:index:Slot": 2,
        "aks-bluegreen:index:Cluster": 2,
        "aks-bluegreen:index:ClusterAccess": 2,
        "aks-bluegreen:index:Workload": 2,
        "aks-bluegreen:index:SmokeGate": 2,
        "aks-bluegreen:index:Agic": 1,
        "aks-bluegreen:index:CutoverVerification": 1,
        "pulumi-python:dynamic/cutover:GatewayServesActive": 1,
        "aks-bluegreen:index:Preflight": 1,
        "pulumi-python:dynamic/cutover:Preflight": 1,
        "azure-native:operationalinsights:Workspace": 1,
        "azure-native:monitor:DiagnosticSetting": 1,
        "azure-native:monitor:DataCollectionRule": 1,
        "azure-native:monitor:DataCollectionRuleAssociation": 2,
        "aks-bluegreen:index:Monitoring": 1,
        "aks-bluegreen:index:ContainerInsights": 1,
    }


def test_components_own_their_children(stack: Evaluation) -> None:
    expected_parents = {
        "network-vnet": "network",
        "network-gateway-subnet": "network-vnet",
        "network-blue-subnet": "network-vnet",
        "gateway-public-ip": "gateway",
        "gateway-appgw": "gateway",
        "blue-aks": "blue",
        "green-kubernetes": "green",
        "blue-control-plane-identity": "blue",
        "green-subnet-network-contributor": "green",
        "blue-patch-maintenance": "blue",
        "green-node-image-maintenance": "green",
        "blue-access": "blue",
        "blue-access-deployer-cluster-admin": "blue-access",
        "green-access-helm-release-reader": "green-access",
        "blue-aspnetapp-deployment": "blue-aspnetapp",
        "green-aspnetapp-ingress": "green-aspnetapp",
        "blue-aspnetapp-disruption-budget": "blue-aspnetapp",
        "blue-aspnetapp-smoke-job": "blue-aspnetapp-smoke",
        "blue": "blue-slot",
        "green-aspnetapp": "green-slot",
        "green-aspnetapp-smoke": "green-slot",
        "agic-identity": "agic",
        "agic-release": "agic",
        "agic-green-federation": "agic",
        "cutover-gateway-serves": "cutover",
    }
    for child, parent in expected_parents.items():
        assert parent_name(stack, by_name(stack, child)) == parent, child


def test_network_reproduces_the_runbook_address_plan(stack: Evaluation) -> None:
    vnet = stack.one("azure-native:network:VirtualNetwork")
    assert vnet.inputs["addressSpace"] == {"addressPrefixes": ["10.224.0.0/11"]}
    assert "subnets" not in vnet.inputs
    assert by_name(stack, "network-gateway-subnet").inputs["addressPrefix"] == "10.225.0.0/24"
    for color in COLORS:
        assert by_name(stack, f"network-{color}-subnet").inputs["addressPrefix"] == SUBNETS[color]


def test_gateway_is_v2_minimal_and_leaves_agic_collections_alone(stack: Evaluation) -> None:
    gw = stack.one("azure-native:network:ApplicationGateway")
    assert gw.inputs["sku"] == {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2}
    assert gw.protect
    assert set(AGIC_OWNED_PROPERTIES) - {"sslCertificates"} <= set(gw.ignore_changes)
    gw_id = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
        "/providers/Microsoft.Network/applicationGateways/aksbg-prod-appgw"
    )
    [rule] = gw.inputs["requestRoutingRules"]
    assert rule["priority"] >= 1
    assert rule["httpListener"]["id"] == f"{gw_id}/httpListeners/placeholder-listener"
    assert rule["backendAddressPool"]["id"] == f"{gw_id}/backendAddressPools/placeholder-pool"
    [listener] = gw.inputs["httpListeners"]
    assert listener["frontendIPConfiguration"]["id"] == (
        f"{gw_id}/frontendIPConfigurations/appgw-public-frontend"
    )
    assert listener["frontendPort"]["id"] == f"{gw_id}/frontendPorts/port-80"
    [ip_config] = gw.inputs["gatewayIPConfigurations"]
    assert ip_config["subnet"]["id"].endswith("/virtualNetworks/aksbg-prod-vnet/subnets/appgw")
    pip = stack.one("azure-native:network:PublicIPAddress")
    assert pip.inputs["sku"] == {"name": "Standard"}
    assert pip.inputs["publicIPAllocationMethod"] == "Static"
    # Zone-redundant by default, the gateway and its public IP alike.
    assert gw.inputs["zones"] == pip.inputs["zones"] == ["1", "2", "3"]
    assert gw.inputs["sslPolicy"] == {
        "policyType": "Predefined",
        "policyName": "AppGwSslPolicy20220101S",
    }
    assert "firewallPolicy" not in gw.inputs
    assert not stack.of_type("azure-native:network:WebApplicationFirewallPolicy")
    assert gw.inputs["frontendIPConfigurations"][0]["publicIPAddress"]["id"].endswith(
        "/publicIPAddresses/aksbg-prod-appgw-pip"
    )


def test_waf_v2_gateway_references_the_firewall_policy_the_program_creates(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    stack = evaluate_variant("blue", gateway={"sku": "WAF_v2"})
    gw = stack.one("azure-native:network:ApplicationGateway")
    policy = stack.one("azure-native:network:WebApplicationFirewallPolicy")
    assert gw.inputs["sku"] == {"name": "WAF_v2", "tier": "WAF_v2", "capacity": 2}
    assert policy.inputs["policyName"] == "aksbg-prod-appgw-waf"
    assert policy.inputs["managedRules"] == {
        "managedRuleSets": [{"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.2"}]
    }
    settings = policy.inputs["policySettings"]
    assert (settings["state"], settings["mode"], settings["requestBodyCheck"]) == (
        "Enabled",
        "Prevention",
        True,
    )
    assert gw.inputs["firewallPolicy"]["id"] == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
        "/providers/Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"
        "/aksbg-prod-appgw-waf"
    )
    assert policy.urn in gw.dependencies
    assert parent_name(stack, policy) == "gateway"
    # AGIC never writes the firewall policy, so Pulumi keeps diffing it.
    assert "firewallPolicy" not in gw.ignore_changes


def test_gateway_in_a_region_without_zones_names_none(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    stack = evaluate_variant("blue", gateway={"zones": []})
    gw = stack.one("azure-native:network:ApplicationGateway")
    pip = stack.one("azure-native:network:PublicIPAddress")
    assert "zones" not in gw.inputs and "zones" not in pip.inputs


def test_clusters_use_azure_cni_oidc_and_workload_identity(stack: Evaluation) -> None:
    for color in COLORS:
        aks = by_name(stack, f"{color}-aks")
        inputs = aks.inputs
        assert inputs["kubernetesVersion"] == VERSIONS[color]
        assert inputs["networkProfile"] == {
            "networkPlugin": "azure",
            "networkDataplane": "cilium",
            "networkPolicy": "cilium",
            "loadBalancerSku": "standard",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
        }
        assert inputs["oidcIssuerProfile"] == {"enabled": True}
        assert inputs["securityProfile"] == {"workloadIdentity": {"enabled": True}}
        [pool] = inputs["agentPoolProfiles"]
        assert pool["mode"] == "System" and pool["count"] == 3
        assert pool["orchestratorVersion"] == VERSIONS[color]
        assert pool["vnetSubnetID"].endswith(f"/subnets/aks-{color}")
        assert inputs["identity"]["type"] == "UserAssigned"
        [identity_id] = inputs["identity"]["userAssignedIdentities"]
        assert identity_id.endswith(f"aksbg-prod-{color}-control-plane")
        assert inputs["tags"] == {"aks-bluegreen-color": color}


def test_cluster_waits_for_its_subnet_grant(stack: Evaluation) -> None:
    for color in COLORS:
        grant = by_name(stack, f"{color}-subnet-network-contributor")
        assert grant.inputs["scope"].endswith(f"/subnets/aks-{color}")
        assert grant.inputs["roleDefinitionId"].endswith(ROLE_IDS["Network Contributor"])
        assert grant.urn in by_name(stack, f"{color}-aks").dependencies


def test_each_cluster_has_its_own_provider_from_its_user_credential(stack: Evaluation) -> None:
    for color in COLORS:
        provider = by_name(stack, f"{color}-kubernetes")
        kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
        assert kubeconfig["current-context"] == f"aksbg-prod-{color}"
    credential_calls = [
        (args["resourceName"], args["format"])
        for token, args in stack.invokes
        if token == "azure-native:containerservice:listManagedClusterUserCredentials"
    ]
    assert sorted(credential_calls) == [("aksbg-prod-blue", "exec"), ("aksbg-prod-green", "exec")]


def test_workload_runs_in_both_clusters_on_their_providers(stack: Evaluation) -> None:
    for color in COLORS:
        provider = by_name(stack, f"{color}-kubernetes").urn
        deployment = by_name(stack, f"{color}-aspnetapp-deployment")
        assert deployment.provider == provider
        spec = deployment.inputs["spec"]
        assert spec["replicas"] == 3
        [container] = spec["template"]["spec"]["containers"]
        assert container["image"] == SAMPLE_IMAGE
        assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": 8080}
        ingress = by_name(stack, f"{color}-aspnetapp-ingress")
        assert ingress.provider == provider
        # Matched to AGIC by the annotation alone: no IngressClass the release deletes.
        assert "ingressClassName" not in ingress.inputs["spec"]
        assert ingress.inputs["metadata"]["annotations"] == {
            "kubernetes.io/ingress.class": "azure/application-gateway",
            "appgw.ingress.kubernetes.io/connection-draining": "true",
            "appgw.ingress.kubernetes.io/connection-draining-timeout": "30",
            "pulumi.com/skipAwait": "true",
        }
        budget = by_name(stack, f"{color}-aspnetapp-disruption-budget")
        assert budget.provider == provider
        service = by_name(stack, f"{color}-aspnetapp-service")
        assert service.inputs["spec"]["ports"] == [{"port": 80, "targetPort": 8080}]


def _pod_specs(stack: Evaluation) -> dict[str, dict[str, Any]]:
    kinds = {"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"}
    return {
        r.name: r.inputs["spec"]["template"]["spec"]
        for r in stack.resources.values()
        if r.type in kinds
    }


def test_every_pod_runs_restricted_with_a_high_uid_and_no_token(stack: Evaluation) -> None:
    pods = _pod_specs(stack)
    assert len(pods) == 4  # the app and its smoke gate, in each cluster
    for name, pod in pods.items():
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        }, name
        for container in pod["containers"]:
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }, name
            assert "@sha256:" in container["image"], name


def test_app_writes_only_to_a_bounded_tmp_and_is_restarted_when_it_stops_answering(
    stack: Evaluation,
) -> None:
    for color in COLORS:
        pod = _pod_specs(stack)[f"{color}-aspnetapp-deployment"]
        assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
        [container] = pod["containers"]
        assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
        liveness = container["livenessProbe"]
        assert liveness["httpGet"] == container["readinessProbe"]["httpGet"]
        # Slower than readiness: the pod leaves the gateway's pool before it is restarted.
        readiness = container["readinessProbe"]
        assert (
            liveness["periodSeconds"] * liveness["failureThreshold"]
            > readiness["periodSeconds"] * readiness["failureThreshold"]
        )


def test_each_app_namespace_denies_ingress_but_from_the_gateway_and_its_gate(
    stack: Evaluation,
) -> None:
    for color in COLORS:
        provider = by_name(stack, f"{color}-kubernetes").urn
        deny = by_name(stack, f"{color}-aspnetapp-default-deny")
        admit = by_name(stack, f"{color}-aspnetapp-admit")
        assert deny.provider == admit.provider == provider
        assert deny.inputs["metadata"]["namespace"] == "aspnetapp"
        assert deny.inputs["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
        spec = admit.inputs["spec"]
        app = by_name(stack, f"{color}-aspnetapp-deployment").inputs["spec"]["selector"]
        assert spec["podSelector"] == app
        assert spec["policyTypes"] == ["Ingress"]
        port = [{"protocol": "TCP", "port": 8080}]
        assert spec["ingress"] == [
            {"from": [{"ipBlock": {"cidr": "10.225.0.0/24"}}], "ports": port},
            {
                "from": [{"podSelector": {"matchLabels": {"aks-bluegreen/gate": "smoke"}}}],
                "ports": port,
            },
        ]
        job = by_name(stack, f"{color}-aspnetapp-smoke-job").inputs["spec"]["template"]
        assert job["metadata"]["labels"] == {"aks-bluegreen/gate": "smoke"}
        # The gate runs once the policies exist, so it proves the path under them.
        assert parent_name(stack, admit) == f"{color}-aspnetapp"
        gate = by_name(stack, f"{color}-aspnetapp-smoke-job")
        assert {deny.urn, admit.urn} <= set(gate.dependencies)


def test_one_agic_release_on_the_active_cluster(stack: Evaluation, active: str) -> None:
    release = stack.one("kubernetes:helm.sh/v3:Release")
    assert release.provider == by_name(stack, f"{active}-kubernetes").urn
    assert release.inputs["name"] == f"agic-{active}"
    assert (
        release.inputs["chart"]
        == CHART
        == ("oci://mcr.microsoft.com/azure-application-gateway/charts/ingress-azure")
    )
    assert release.inputs["version"] == "1.9.8"
    assert release.delete_before_replace
    assert "name" in release.replace_on_changes
    values = release.inputs["values"]
    assert values["armAuth"]["type"] == "workloadIdentity"
    identity_id = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
        "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aksbg-prod-agic"
    )
    assert values["armAuth"]["identityClientID"] == stable_uuid("client", identity_id)
    assert values["appgw"]["applicationGatewayID"].endswith("/applicationGateways/aksbg-prod-appgw")
    assert values["rbac"] == {"enabled": True}
    assert values["reconcilePeriodSeconds"] == 60
    assert values["kubernetes"] == {"ingressClassResource": {"enabled": False}}
    assert stack.outputs["agicRelease"] == f"agic-{active}"
    assert stack.outputs["agicCluster"] == f"aksbg-prod-{active}"


def test_agic_waits_for_the_active_gate_credential_and_grants(
    stack: Evaluation, active: str
) -> None:
    deps = set(stack.one("kubernetes:helm.sh/v3:Release").dependencies)
    for needed in (
        f"{active}-aspnetapp-smoke-job",
        f"agic-{active}-federation",
        "agic-gateway-contributor",
        "agic-resource-group-reader",
        "agic-gateway-subnet-network-contributor",
    ):
        assert by_name(stack, needed).urn in deps, needed
    standby = "green" if active == "blue" else "blue"
    assert by_name(stack, f"{standby}-aspnetapp-smoke-job").urn not in deps


def test_federated_credentials_match_the_chart_service_account(stack: Evaluation) -> None:
    for color in COLORS:
        fic = by_name(stack, f"agic-{color}-federation")
        assert fic.inputs["subject"] == (
            f"system:serviceaccount:agic:agic-{color}-sa-ingress-azure"
        )
        assert fic.inputs["audiences"] == [TOKEN_AUDIENCE] == ["api://AzureADTokenExchange"]
        assert fic.inputs["resourceName"] == "aksbg-prod-agic"
        # The issuer is the cluster's own OIDC issuer, as the mock ARM reports it.
        assert fic.inputs["issuer"].startswith("https://westeurope.oic.prod-aks.azure.com/")
    blue_issuer = by_name(stack, "agic-blue-federation").inputs["issuer"]
    assert blue_issuer != by_name(stack, "agic-green-federation").inputs["issuer"]
    # One identity cannot take concurrent credential writes: green waits for blue.
    assert (
        by_name(stack, "agic-blue-federation").urn
        in by_name(stack, "agic-green-federation").dependencies
    )


def test_agic_grants_are_least_privilege_and_resource_scoped(stack: Evaluation) -> None:
    grants = {
        r.name: r
        for r in stack.of_type("azure-native:authorization:RoleAssignment")
        if r.name.startswith("agic-")
    }
    rg = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
    expected = {
        "agic-gateway-contributor": (
            "Contributor",
            f"{rg}/providers/Microsoft.Network/applicationGateways/aksbg-prod-appgw",
        ),
        "agic-resource-group-reader": ("Reader", rg),
        "agic-gateway-subnet-network-contributor": (
            "Network Contributor",
            f"{rg}/providers/Microsoft.Network/virtualNetworks/aksbg-prod-vnet/subnets/appgw",
        ),
    }
    assert set(grants) == set(expected)
    for name, (role, scope) in expected.items():
        assert grants[name].inputs["scope"] == scope
        assert grants[name].inputs["roleDefinitionId"] == (
            f"/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
            f"Microsoft.Authorization/roleDefinitions/{ROLE_IDS[role]}"
        )
        assert grants[name].inputs["principalType"] == "ServicePrincipal"


def test_stateful_resources_and_only_the_active_cluster_are_protected(
    stack: Evaluation, active: str
) -> None:
    protected = {r.name for r in stack.resources.values() if r.protect}
    assert {
        "resource-group",
        "network-vnet",
        "gateway-public-ip",
        "gateway-appgw",
        f"{active}-aks",
    } <= protected
    standby = "green" if active == "blue" else "blue"
    assert f"{standby}-aks" not in protected


def test_outputs_name_the_active_color_gateway_ip_and_clusters(
    stack: Evaluation, active: str
) -> None:
    assert stack.outputs["activeColor"] == active
    assert stack.outputs["gatewayPublicIp"] == "203.0.113.10"
    assert stack.outputs["clusters"] == {
        color: {"name": f"aksbg-prod-{color}", "kubernetesVersion": VERSIONS[color]}
        for color in COLORS
    }
    # Nothing to hand out: the providers' kubeconfigs name a cluster and kubelogin, no credential.
    assert not any("kubeconfig" in key.lower() for key in stack.outputs)

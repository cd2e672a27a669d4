"""One AKS cluster of the pair, with its control-plane identity and its Kubernetes provider."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import containerservice, managedidentity

from components.role_grant import RoleGrant, assign
from config import ClusterConfig, Color, NetworkConfig

COLOR_TAG = "aks-bluegreen-color"
# The break-glass kubeconfig: it names no cluster, so pulumi-kubernetes marks the provider
# unreachable without a network call (Configure: kubeconfig.ClientConfig() fails), and as it has
# no active cluster, DiffConfig plans no replacement of the provider (pulumi-kubernetes
# provider.go DiffConfig compares active clusters only when both kubeconfigs have one).
UNREACHABLE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"


@dataclass(frozen=True)
class ClusterArgs:
    color: Color
    resource_group_name: pulumi.Input[str]
    location: str
    name: str
    subnet_id: pulumi.Input[str]
    config: ClusterConfig
    network: NetworkConfig
    active: bool
    # Container Insights' workspace (components/monitoring.py); None leaves the addon off.
    log_analytics_workspace_id: pulumi.Input[str] | None = None
    # Declared unreachable by the break-glass: its provider never contacts the API server.
    unreachable: bool = False


class Cluster(pulumi.ComponentResource):
    cluster_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    kubernetes_version: str
    oidc_issuer_url: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Cluster", name, None, opts)
        cfg = args.config
        # A system-assigned identity exists only once the cluster does, too late to be granted
        # its subnet before AKS needs it; a user-assigned one is granted first.
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=f"{args.name}-control-plane",
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # `az aks create` grants this itself; ARM does not. Without it, load balancers and
        # node NICs in the custom subnet fail with LinkedAuthorizationFailed.
        subnet_grant = assign(
            f"{name}-subnet-network-contributor",
            RoleGrant(role="Network Contributor", scope=args.subnet_id),
            identity.principal_id,
            pulumi.ResourceOptions(parent=self),
        )
        cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=args.resource_group_name,
            resource_name_=args.name,
            location=args.location,
            dns_prefix=args.name,
            kubernetes_version=cfg.kubernetes_version,
            identity=containerservice.ManagedClusterIdentityArgs(
                type=containerservice.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name="system",
                    mode=containerservice.AgentPoolMode.SYSTEM,
                    count=cfg.node_count,
                    vm_size=cfg.vm_size,
                    max_pods=cfg.max_pods,
                    orchestrator_version=cfg.kubernetes_version,
                    os_type=containerservice.OSType.LINUX,
                    type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                    vnet_subnet_id=args.subnet_id,
                )
            ],
            # Plain Azure CNI, not overlay: AGIC programs pod IPs into the gateway's backend
            # pools, so pod IPs must be VNet addresses the gateway can route to. A plain dict,
            # not ContainerServiceNetworkProfileArgs: the Args class fills in podCidr
            # 10.244.0.0/16, which only kubenet and overlay use and plain Azure CNI must not get.
            network_profile={
                "network_plugin": containerservice.NetworkPlugin.AZURE,
                "load_balancer_sku": containerservice.LoadBalancerSku.STANDARD,
                "service_cidr": str(args.network.service_cidr),
                "dns_service_ip": str(args.network.dns_service_ip),
            },
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                )
            ),
            enable_rbac=True,
            addon_profiles=_container_insights(args.log_analytics_workspace_id),
            # Lets reviewers and the policy pack tell the pair apart without parsing names.
            tags={COLOR_TAG: args.color},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[subnet_grant],
                protect=args.active,
                # AKS cannot resize a node pool in place: azure-native marks vmSize force-new on
                # the AgentPool resource but not in the inline profile (pulumi-azure-native
                # provider/pkg/gen/replacement.go forceNewMap), so the rebuild is asked for here;
                # the name is fixed, so the old cluster must go first (azure-native's Create
                # refuses an existing name: provider.go defaultCreate, CanCreate).
                replace_on_changes=["agentPoolProfiles[*].vmSize"],
                delete_before_replace=True,
            ),
        )
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=_kubeconfig(args, cluster),
            # pulumi-kubernetes 4.x Configure/Read/Delete: with deleteUnreachable, a cluster the
            # provider cannot reach has its resources dropped from the state without a call.
            # Only the break-glass sets it; False is explicit so that a PULUMI_K8S_DELETE_
            # UNREACHABLE in the environment (the SDK's and the provider's fallback) never
            # drops the state of a cluster that is merely slow.
            delete_unreachable=args.unreachable,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cluster_id = cluster.id
        self.cluster_name = cluster.name
        self.kubernetes_version = cfg.kubernetes_version
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda profile: (profile.issuer_url if profile else None) or ""
        )
        self.register_outputs(
            {
                "clusterId": self.cluster_id,
                "clusterName": self.cluster_name,
                "kubernetesVersion": self.kubernetes_version,
                "oidcIssuerUrl": self.oidc_issuer_url,
            }
        )


def _container_insights(
    workspace_id: pulumi.Input[str] | None,
) -> dict[str, containerservice.ManagedClusterAddonProfileArgs] | None:
    if workspace_id is None:
        return None
    # The monitoring addon with managed-identity auth, as Microsoft's onboarding template sets
    # it (microsoft/Docker-Provider scripts/onboarding/aks/onboarding-using-msi-auth/
    # existingClusterOnboarding.json); what it collects is the data collection rule's business.
    return {
        "omsagent": containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"},
        )
    }


def _kubeconfig(args: ClusterArgs, cluster: containerservice.ManagedCluster) -> pulumi.Output[str]:
    if args.unreachable:
        # No credentials are asked of ARM either: the break-glass works even when ARM cannot
        # list the cluster's credentials, and nothing contacts the API server.
        return pulumi.Output.secret(UNREACHABLE_KUBECONFIG)
    credentials = containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=args.resource_group_name, resource_name=cluster.name
    )
    return pulumi.Output.secret(
        credentials.kubeconfigs[0].value.apply(lambda v: base64.b64decode(v).decode())
    )

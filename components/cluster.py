"""One AKS cluster of the pair: its identity, the cluster, its upgrade windows, who may use its
Kubernetes API, and the Kubernetes provider the stack reaches it with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import containerservice, managedidentity

from components.access import ClusterAccess, ClusterAccessArgs
from components.kubeconfig import entra_kubeconfig
from components.role_grant import RoleGrant, assign
from config import PROJECT, AccessConfig, ClusterConfig, Color, MaintenanceWindow, NetworkConfig

COLOR_TAG = "aks-bluegreen-color"
# The break-glass kubeconfig: it names no cluster, so pulumi-kubernetes marks the provider
# unreachable without a network call (Configure: kubeconfig.ClientConfig() fails), and as it has
# no active cluster, DiffConfig plans no replacement of the provider (pulumi-kubernetes
# provider.go DiffConfig compares active clusters only when both kubeconfigs have one).
UNREACHABLE_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n"
# Node pool settings AKS fixes when the pool is created: it cannot resize a pool, change its
# zones (reliability-availability-zones-configure.md), its OS disk type (the API's osDiskType:
# "May not be changed after creation") or its maxPods (concepts-network-ip-address-planning.md:
# "add a new node pool"). azure-native marks none of them force-new in the inline profile
# (pulumi-azure-native provider/pkg/gen/replacement.go forceNewMap lists vmSize for the
# standalone AgentPool only), so the rebuild is asked for here.
CREATE_ONLY_POOL_FIELDS: tuple[str, ...] = (
    "agentPoolProfiles[*].vmSize",
    "agentPoolProfiles[*].osDiskType",
    "agentPoolProfiles[*].availabilityZones",
    "agentPoolProfiles[*].maxPods",
    "agentPoolProfiles[*].enableEncryptionAtHost",
)


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
    access: AccessConfig
    # Protected: the cluster serves, or may (components/protection.py); set by the caller.
    protect: bool
    # The AGIC release's namespace: previews read Helm's release records there.
    helm_namespace: str
    # Container Insights' workspace (components/monitoring.py); None leaves the addon off.
    log_analytics_workspace_id: pulumi.Input[str] | None = None
    # Declared unreachable by the break-glass: its provider never contacts the API server.
    unreachable: bool = False
    # Checked before the cluster is registered, so before the engine could delete it.
    after: Sequence[pulumi.Resource] = ()


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
        child = pulumi.ResourceOptions(parent=self)
        # A system-assigned identity exists only once the cluster does, too late to be granted
        # its subnet before AKS needs it; a user-assigned one is granted first.
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-control-plane-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=f"{args.name}-control-plane",
            location=args.location,
            opts=child,
        )
        # `az aks create` grants this itself; ARM does not. Without it, load balancers and
        # node NICs in the custom subnet fail with LinkedAuthorizationFailed.
        subnet_grant = assign(
            f"{name}-subnet-network-contributor",
            RoleGrant(role="Network Contributor", scope=args.subnet_id),
            identity.principal_id,
            child,
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
            agent_pool_profiles=[_system_pool(cfg, args.subnet_id)],
            network_profile=_network_profile(cfg, args.network),
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                    enabled=True
                )
            ),
            enable_rbac=True,
            # Entra ID signs callers in and Azure RBAC authorizes them; with local accounts gone
            # the static admin and user credentials of the cluster no longer work
            # (AKS local-accounts.md), so every access is an Entra identity with a role.
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                admin_group_object_ids=list(args.access.admin_group_object_ids) or None,
            ),
            disable_local_accounts=True,
            # Patch releases and node images arrive by themselves, each in its own window
            # below; a minor version moves only through kubernetesVersion, one cut-over at a
            # time (AKS auto-upgrade-cluster.md: `patch` keeps the minor version).
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=containerservice.UpgradeChannel.PATCH,
                node_os_upgrade_channel=containerservice.NodeOSUpgradeChannel.NODE_IMAGE,
            ),
            addon_profiles=_addons(args.log_analytics_workspace_id),
            # Lets reviewers and the policy pack tell the pair apart without parsing names.
            tags={COLOR_TAG: args.color},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[subnet_grant, *args.after],
                protect=args.protect,
                replace_on_changes=list(CREATE_ONLY_POOL_FIELDS),
                # The name is fixed, so the old cluster must go first (azure-native's Create
                # refuses an existing name: provider.go defaultCreate, CanCreate).
                delete_before_replace=True,
            ),
        )
        for key, config_name, window in (
            ("patch", "aksManagedAutoUpgradeSchedule", cfg.maintenance.patch),
            ("node-image", "aksManagedNodeOSUpgradeSchedule", cfg.maintenance.node_image),
        ):
            _maintenance(f"{name}-{key}-maintenance", args, cluster, config_name, window, child)
        access = ClusterAccess(
            f"{name}-access",
            ClusterAccessArgs(
                cluster_id=cluster.id,
                cluster_name=args.name,
                config=args.access,
                helm_namespace=args.helm_namespace,
            ),
            child,
        )
        note = cfg.os_disk_note()
        if note:
            pulumi.log.warn(f"{PROJECT}:clusters.{args.color}.vmSize: {note}", resource=self)
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=_kubeconfig(args, cluster),
            # The provider is replaced, and every object in the cluster with it, only when this
            # changes; a new CA (certificate rotation) or kubeconfig shape is an update
            # (pulumi-kubernetes provider/pkg/provider/provider.go DiffConfig).
            cluster_identifier=cluster.id,
            # pulumi-kubernetes 4.x Configure/Read/Delete: with deleteUnreachable, a cluster the
            # provider cannot reach has its resources dropped from the state without a call.
            # Only the break-glass sets it; False is explicit so that a PULUMI_K8S_DELETE_
            # UNREACHABLE in the environment (the SDK's and the provider's fallback) never
            # drops the state of a cluster that is merely slow.
            delete_unreachable=args.unreachable,
            # The same for the three other switches the SDK would otherwise take from the
            # environment (pulumi-kubernetes sdk/python provider.py: PULUMI_K8S_UPSERT_EXISTING_
            # OBJECTS, PULUMI_K8S_ENABLE_PATCH_FORCE, PULUMI_K8S_SKIP_UPDATE_UNREACHABLE when the
            # argument is None): upserting would let an app adopt kube-system's objects, patch
            # force would take fields from AKS's own managers, and skipping updates of an
            # unreachable cluster would record a change that never reached it.
            upsert_existing_objects=False,
            enable_patch_force=False,
            skip_update_unreachable=False,
            # Azure RBAC is the only way into the cluster: nothing may reach the API before the
            # deployer holds its role there.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access.deployer_grant]),
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


def _system_pool(
    cfg: ClusterConfig, subnet_id: pulumi.Input[str]
) -> containerservice.ManagedClusterAgentPoolProfileArgs:
    return containerservice.ManagedClusterAgentPoolProfileArgs(
        name="system",
        mode=containerservice.AgentPoolMode.SYSTEM,
        count=cfg.node_count,
        vm_size=cfg.vm_size,
        os_disk_type=cfg.os_disk_type,
        # Host-based encryption also covers the ephemeral OS disk and temp disk on the host
        # (config.ClusterConfig.encryption_at_host says what it needs).
        enable_encryption_at_host=cfg.encryption_at_host,
        availability_zones=list(cfg.availability_zones) or None,
        max_pods=cfg.max_pods,
        upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(
            max_surge=str(cfg.max_surge)
        ),
        orchestrator_version=cfg.kubernetes_version,
        os_type=containerservice.OSType.LINUX,
        type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
        vnet_subnet_id=subnet_id,
    )


def _network_profile(
    cfg: ClusterConfig, network: NetworkConfig
) -> containerservice.ContainerServiceNetworkProfileArgsDict:
    # Plain Azure CNI, not overlay: AGIC programs pod IPs into the gateway's backend pools, so
    # pod IPs must be VNet addresses the gateway can route to. A plain dict, not
    # ContainerServiceNetworkProfileArgs: the Args class fills in podCidr 10.244.0.0/16, which
    # only kubenet and overlay use and plain Azure CNI must not get.
    profile: containerservice.ContainerServiceNetworkProfileArgsDict = {
        "network_plugin": containerservice.NetworkPlugin.AZURE,
        "load_balancer_sku": containerservice.LoadBalancerSku.STANDARD,
        "service_cidr": str(network.service_cidr),
        "dns_service_ip": str(network.dns_service_ip),
    }
    if cfg.network_policy == "cilium":
        # Microsoft's recommended engine, supported on the node-subnet mode this cluster uses;
        # Azure NPM leaves support for Linux nodes on 2028-09-30 (AKS use-network-policies.md,
        # azure-cni-powered-by-cilium.md). Cilium policy requires the Cilium data plane. Both
        # are force-new in azure-native (networkProfile), so an existing cluster adopts them by
        # being rebuilt.
        profile["network_dataplane"] = containerservice.NetworkDataplane.CILIUM
        profile["network_policy"] = containerservice.NetworkPolicy.CILIUM
    return profile


def _maintenance(
    name: str,
    args: ClusterArgs,
    cluster: containerservice.ManagedCluster,
    config_name: str,
    window: MaintenanceWindow,
    opts: pulumi.ResourceOptions,
) -> containerservice.MaintenanceConfiguration:
    return containerservice.MaintenanceConfiguration(
        name,
        resource_group_name=args.resource_group_name,
        resource_name_=cluster.name,
        config_name=config_name,
        maintenance_window=containerservice.MaintenanceWindowArgs(
            schedule=containerservice.ScheduleArgs(
                weekly=containerservice.WeeklyScheduleArgs(day_of_week=window.day, interval_weeks=1)
            ),
            start_time=window.start_time,
            duration_hours=window.duration_hours,
            utc_offset=window.utc_offset,
        ),
        opts=opts,
    )


def _addons(
    workspace_id: pulumi.Input[str] | None,
) -> dict[str, containerservice.ManagedClusterAddonProfileArgs]:
    # Apps take secrets from Key Vault through the Secrets Store CSI driver, under their own
    # workload identity, rather than from Kubernetes Secrets; rotation re-reads a changed secret
    # every two minutes instead of only at pod start (AKS csi-secrets-store-driver.md,
    # "enableSecretRotation", "rotationPollInterval").
    addons = {
        "azureKeyvaultSecretsProvider": containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        )
    }
    if workspace_id is not None:
        # The monitoring addon with managed-identity auth, as Microsoft's onboarding template
        # sets it (microsoft/Docker-Provider scripts/onboarding/aks/onboarding-using-msi-auth/
        # existingClusterOnboarding.json); what it collects is the data collection rule's.
        addons["omsagent"] = containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"},
        )
    return addons


def _kubeconfig(args: ClusterArgs, cluster: containerservice.ManagedCluster) -> pulumi.Output[str]:
    if args.unreachable:
        # No credentials are asked of ARM either: the break-glass works even when ARM cannot
        # list the cluster's credentials, and nothing contacts the API server.
        return pulumi.Output.secret(UNREACHABLE_KUBECONFIG)
    credentials = containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=args.resource_group_name,
        resource_name=cluster.name,
        format="exec",
    )
    # Not a secret: it holds the server, the CA and the kubelogin command, no credential
    # (components/kubeconfig.py).
    return credentials.kubeconfigs[0].value.apply(entra_kubeconfig)

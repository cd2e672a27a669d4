"""Azure and AKS facts the config enforces, each with where it is documented.

A limit lives here once; the value types, the model and the rules import it, and every message
that enforces one names its source.
"""

from __future__ import annotations

from typing import Literal

from config.catalogs.vm_sizes import SIZES

# Where each limit below is documented; every message that enforces one names it.
AKS_SYSTEM_POOLS = "learn.microsoft.com/azure/aks/use-system-pools"
AKS_MAX_PODS = "learn.microsoft.com/azure/aks/concepts-network-ip-address-planning"
AKS_QUOTAS = "learn.microsoft.com/azure/aks/quotas-skus-regions"
AKS_NAMING = "aka.ms/aks-naming-rules"
AKS_MAINTENANCE = "learn.microsoft.com/azure/aks/planned-maintenance"
AKS_SURGE = "learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling"
APPGW_SUBNET_SIZING = (
    "learn.microsoft.com/azure/application-gateway/configuration-infrastructure#size-of-the-subnet"
)
APPGW_SCALING = (
    "learn.microsoft.com/azure/application-gateway/application-gateway-autoscaling-zone-redundant"
)


# quotas-skus-regions: "don't use B series VMs and the following VM SKUs ... on system node pools".
TOO_SMALL_FOR_AKS = {"Standard_A0", "Standard_A1", "Standard_A1_v2", "Standard_F1", "Standard_F1s"}
SYSTEM_POOL_MIN_VCPUS = 4
SYSTEM_POOL_MIN_PODS = 30


AVAILABILITY_ZONES: tuple[Literal["1", "2", "3"], ...] = ("1", "2", "3")


# Temp (local) disk in GiB of each size the VM size catalog lists; 0: no temp disk, which cannot
# hold an ephemeral OS disk (config/catalogs/vm_sizes.py, with its sources).
TEMP_DISK_GIB: dict[str, int] = {name: size.temp_disk_gib for name, size in SIZES.items()}
# AKS sizes an ephemeral OS disk to the temp disk when that holds at least 128 GiB, and refuses
# an explicit Ephemeral request that does not fit (AKS concepts-storage.md, "Ephemeral OS disks").
EPHEMERAL_MIN_GIB = 128


GATEWAY_SKUS: tuple[str, ...] = ("Standard_v2", "WAF_v2")
# The predefined policies of 2022: TLS 1.2 minimum with TLS 1.3, v2 gateways only; the "S" one
# also drops the CBC ciphers. The older ones lack TLS 1.3 or allow TLS 1.0/1.1, which Application
# Gateway stopped accepting in August 2025 (learn.microsoft.com, application-gateway-ssl-policy-
# overview).
TLS_POLICIES: tuple[Literal["AppGwSslPolicy20220101S", "AppGwSslPolicy20220101"], ...] = (
    "AppGwSslPolicy20220101S",
    "AppGwSslPolicy20220101",
)


DRAINING_TIMEOUT_SECONDS = 30
DRAINING_RANGE = (1, 3600)
PRE_STOP_DELAY_SECONDS = 90
# Longer than preStop + draining (120): see rules.py, _check_workload_timing.
TERMINATION_GRACE_PERIOD_SECONDS = 125
# AKS fails a node upgrade whose drain outlasts the node pool's drainTimeoutInMinutes, 30 minutes
# unless set (AgentPoolUpgradeSettings.drainTimeoutInMinutes in the AKS API): a pod that may take
# longer to terminate makes every node it runs on undrainable.
AKS_DRAIN_TIMEOUT_SECONDS = 30 * 60
# The preStop `sleep` handler needs PodLifecycleSleepAction, on by default since 1.30 (beta) and GA
# in 1.34 (kubernetes pkg/features/kube_features.go); older API servers refuse the Deployment.
SLEEP_ACTION_SINCE = (1, 30)


# aka.ms/aks-naming-rules: AKS names each cluster's node resource group
# MC_<resource group>_<cluster>_<region>, and that name may be at most 80 characters. With a
# namePrefix of at most 12 it is the binding limit: the cluster name (63) and DNS prefix (54)
# built from the same parts stay shorter.
NODE_RESOURCE_GROUP_MAX = 80

# Namespaces Kubernetes or AKS itself owns: an app or AGIC there would share them with the
# system. Kubernetes creates default, kube-system, kube-public and kube-node-lease in every
# cluster (kubernetes.io/docs/concepts/overview/working-with-objects/namespaces, "Initial
# namespaces"); AKS puts its add-ons in their own: gatekeeper-system (Azure Policy add-on,
# AKS use-azure-policy.md), calico-system and tigera-operator (Calico network policy, AKS
# use-network-policies.md), app-routing-system (application routing add-on, AKS app-routing.md),
# aks-command (`az aks command invoke`, AKS access-private-cluster.md), aks-istio-system,
# aks-istio-ingress and aks-istio-egress (Istio add-on, AKS istio-about.md) and
# dataprotection-microsoft (AKS backup extension, azure-kubernetes-service-backup-overview.md).
SYSTEM_NAMESPACES: frozenset[str] = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "gatekeeper-system",
        "calico-system",
        "tigera-operator",
        "app-routing-system",
        "aks-command",
        "aks-istio-system",
        "aks-istio-ingress",
        "aks-istio-egress",
        "dataprotection-microsoft",
    }
)
# Ranges AKS refuses for the VNet and the service range: "169.254.0.0/16, 172.30.0.0/16,
# 172.31.0.0/16, or 192.0.2.0/24" (Microsoft Learn, AKS azure-cni-overview.md, prerequisites).
AKS_RESERVED_RANGES: tuple[str, ...] = (
    "169.254.0.0/16",
    "172.30.0.0/16",
    "172.31.0.0/16",
    "192.0.2.0/24",
)
AKS_RESERVED_SOURCE = "AKS azure-cni-overview: reserved address ranges"
# Address space a VNet may not use: 224.0.0.0/4 (multicast), 255.255.255.255/32 (broadcast),
# 127.0.0.0/8 (loopback), 169.254.0.0/16 (link-local), 168.63.129.16/32 (Azure's internal DNS and
# health probes) (Microsoft Learn, virtual-networks-faq.md, "What address ranges can I use in my
# virtual networks?").
VNET_RESERVED_RANGES: tuple[str, ...] = (
    "224.0.0.0/4",
    "255.255.255.255/32",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "168.63.129.16/32",
)
VNET_RESERVED_SOURCE = "Azure virtual network FAQ: address ranges a VNet cannot use"

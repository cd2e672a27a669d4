"""The stack's configuration: one pydantic model, read from `pulumi.Config`, validated up front.

Every default reproduces the runbook: one VNet, a gateway subnet, 10.240.0.0/16 for blue and
10.241.0.0/16 for green, Azure CNI, three replicas of aspnetapp. Every invalid value stops the
program with one `pulumi.RunError` that names the key and the fix, before any resource exists.
"""

from __future__ import annotations

import json
import re
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError
from typing import Annotated, Any, Literal, get_args

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

PROJECT = "aks-bluegreen"
COLORS: tuple[str, str] = ("blue", "green")
Color = Literal["blue", "green"]

# AKS accepts "1.33" (latest patch) or "1.33.2"; anything else is refused by ARM mid-deployment,
# long after the gateway and network exist, so it is refused here instead.
_VERSION = re.compile(r"^1\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
# An image reference as the container runtimes parse it (distribution/reference's grammar):
# [registry[:port]/]path[:tag][@sha256:<64 hex>]. Only sha256 digests are accepted: it is the
# one algorithm every registry and kubelet handles.
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
_IMAGE = re.compile(
    rf"^(?:{_HOST}(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

# Where each limit below is documented; every message that enforces one names it.
AKS_SYSTEM_POOLS = "learn.microsoft.com/azure/aks/use-system-pools"
AKS_MAX_PODS = "learn.microsoft.com/azure/aks/concepts-network-ip-address-planning"
AKS_QUOTAS = "learn.microsoft.com/azure/aks/quotas-skus-regions"
AKS_NAMING = "aka.ms/aks-naming-rules"
AKS_MAINTENANCE = "learn.microsoft.com/azure/aks/planned-maintenance"
AKS_SURGE = "learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling"
APPGW_SCALING = (
    "learn.microsoft.com/azure/application-gateway/application-gateway-autoscaling-zone-redundant"
)


def _show(value: Any) -> str:
    """A user's value in a message: one line, quoted when it is text, never a page long."""
    shown = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _within(low: int, high: int, source: str) -> AfterValidator:
    """An inclusive integer range, refused with the limit and where it comes from."""

    def check(value: int) -> int:
        if value < low:
            raise ValueError(f"{value} is below the minimum of {low} ({source})")
        if value > high:
            raise ValueError(f"{value} is above the maximum of {high} ({source})")
        return value

    return AfterValidator(check)


def _cidr(value: Any) -> IPv4Network:
    # pydantic's own IPv4Network takes integers and says only "not a valid IPv4 network"; a
    # range with host bits set deserves the range the user probably meant.
    if isinstance(value, IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} must be text like 10.240.0.0/16")
    try:
        return IPv4Network(value)
    except ValueError as err:
        if "has host bits set" in str(err):
            network = IPv4Network(value, strict=False)
            raise ValueError(
                f"{value!r} has host bits set: a range starts at its network address; "
                f"write {network}"
            ) from None
        problem = f"{_show(value)} is not an IPv4 range; write it like 10.240.0.0/16"
        raise ValueError(problem) from None


def _address(value: Any) -> IPv4Address:
    if isinstance(value, IPv4Address):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} must be text like 10.0.0.10")
    try:
        return IPv4Address(value)
    except (AddressValueError, NetmaskValueError, ValueError):
        problem = f"{_show(value)} is not an IPv4 address; write it like 10.0.0.10"
        raise ValueError(problem) from None


Cidr = Annotated[IPv4Network, BeforeValidator(_cidr)]
Address = Annotated[IPv4Address, BeforeValidator(_address)]

# Azure VM size names: [Family][Sub-family][vCPUs][-constrained vCPUs][features][_accelerator][_vN]
# (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions).
_VM_SIZE = re.compile(
    r"^Standard_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?:-(?P<constrained>\d+))?[a-z]*"
    r"(?:_[A-Z][A-Za-z0-9]*)??(?:_v(?P<version>\d+))?(?:_Promo)?$"
)
# Sizes older than that convention, where the number is a size index, not vCPUs (D3_v2 has 4
# vCPUs, D11_v2 and A5 have 2): their vCPUs cannot be read from the name, so AKS checks them.
_LEGACY_SIZE_NUMBERING = re.compile(r"^Standard_(DS?\d+(_v2)?|A\d+|GS?\d+)(_Promo)?$")
# quotas-skus-regions: "don't use B series VMs and the following VM SKUs ... on system node pools".
_TOO_SMALL_FOR_AKS = {"Standard_A0", "Standard_A1", "Standard_A1_v2", "Standard_F1", "Standard_F1s"}
SYSTEM_POOL_MIN_VCPUS = 4
SYSTEM_POOL_MIN_PODS = 30


def _system_pool_vm_size(value: str) -> str:
    if not re.match(r"^Standard_[A-Za-z0-9_-]+$", value):
        raise ValueError(f"{_show(value)} is not an Azure VM size; write it like Standard_D4ds_v5")
    if value in _TOO_SMALL_FOR_AKS:
        raise ValueError(f"{value} is too small for an AKS system node pool ({AKS_QUOTAS})")
    match = _VM_SIZE.match(value)
    if match and match["family"] == "B":
        raise ValueError(
            f"{value} is a B-series size, which AKS does not support for system node pools "
            f"({AKS_SYSTEM_POOLS}); pick e.g. Standard_D4ds_v5"
        )
    if match and not _LEGACY_SIZE_NUMBERING.match(value):
        vcpus = int(match["constrained"] or match["vcpus"])
        if vcpus < SYSTEM_POOL_MIN_VCPUS:
            raise ValueError(
                f"{value} has {vcpus} vCPUs; an AKS system node pool needs at least "
                f"{SYSTEM_POOL_MIN_VCPUS} vCPUs and 4 GB of memory ({AKS_SYSTEM_POOLS}); "
                "pick e.g. Standard_D4ds_v5"
            )
    return value


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class NetworkConfig(_Model):
    vnet_cidr: Cidr = IPv4Network("10.224.0.0/11")
    # Application Gateway v2 needs a subnet of its own; Microsoft recommends a /24 so the
    # gateway can scale out, and refuses to share it with anything else.
    gateway_subnet_cidr: Cidr = IPv4Network("10.225.0.0/24")
    # Cluster-internal ranges: must not overlap the VNet, or pods cannot reach VNet addresses.
    service_cidr: Cidr = IPv4Network("10.0.0.0/16")
    dns_service_ip: Address = IPv4Address("10.0.0.10")


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS: tuple[str, ...] = get_args(Weekday)
_MINUTES_PER_WEEK = 7 * 24 * 60


def _quoted_clock(value: Any) -> Any:
    # YAML 1.1 (PyYAML, which the offline plan reads stack files with) turns an unquoted 22:00
    # into the sexagesimal number 1320; the Pulumi CLI's YAML 1.2 keeps it text. Quoting keeps
    # both readers on the same value.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('must be quoted in YAML, e.g. "22:00" (unquoted, it reads as a number)')
    return value


class MaintenanceWindow(_Model):
    """A weekly window in which AKS may upgrade this cluster; AKS reads `day` and `startTime` in
    the window's `utcOffset` (AKS planned-maintenance.md, maintenance window properties)."""

    day: Weekday
    start_time: Annotated[str, BeforeValidator(_quoted_clock)] = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$"
    )
    # AKS asks for at least four hours when auto-upgrade uses the window (planned-maintenance.md);
    # the API caps a window at 24 hours.
    duration_hours: Annotated[int, _within(4, 24, f"AKS: {AKS_MAINTENANCE}")] = 4
    utc_offset: Annotated[str, BeforeValidator(_quoted_clock)] = Field(
        default="+00:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$"
    )

    def utc_span(self) -> tuple[int, int]:
        """(start, length) in minutes of the UTC week, Monday 00:00 UTC being minute 0."""
        hours, minutes = (int(part) for part in self.start_time.split(":"))
        offset_hours, offset_minutes = (int(part) for part in self.utc_offset[1:].split(":"))
        offset = (offset_hours * 60 + offset_minutes) * (-1 if self.utc_offset[0] == "-" else 1)
        local = _WEEKDAYS.index(self.day) * 24 * 60 + hours * 60 + minutes
        return (local - offset) % _MINUTES_PER_WEEK, self.duration_hours * 60

    def overlaps(self, other: MaintenanceWindow) -> bool:
        """Whether the two weekly windows share a minute, wrapping from Sunday into Monday."""
        start, length = self.utc_span()
        other_start, other_length = other.utc_span()
        return (other_start - start) % _MINUTES_PER_WEEK < length or (
            start - other_start
        ) % _MINUTES_PER_WEEK < other_length

    def describe(self) -> str:
        return f"{self.day} {self.start_time} UTC{self.utc_offset} for {self.duration_hours} h"


class MaintenanceConfig(_Model):
    # Kubernetes patch upgrades (AKS's aksManagedAutoUpgradeSchedule for the `patch` channel).
    patch: MaintenanceWindow
    # Node image upgrades (aksManagedNodeOSUpgradeSchedule for the `NodeImage` channel).
    node_image: MaintenanceWindow


# Non-overlapping defaults: each cluster rolls its nodes on its own nights, so an upgrade never
# takes both colors at once and the standby can always take traffic from the active one.
_DEFAULT_MAINTENANCE: dict[str, dict[str, dict[str, Any]]] = {
    "blue": {
        "patch": {"day": "Monday", "startTime": "02:00"},
        "nodeImage": {"day": "Tuesday", "startTime": "02:00"},
    },
    "green": {
        "patch": {"day": "Wednesday", "startTime": "02:00"},
        "nodeImage": {"day": "Thursday", "startTime": "02:00"},
    },
}


def _with_default_maintenance(color: str, cluster: Any) -> Any:
    """The cluster's raw config with its color's default windows where it names none."""
    if not isinstance(cluster, dict):
        return cluster
    given = cluster.get("maintenance", {})
    if not isinstance(given, dict):
        return cluster
    merged = dict(_DEFAULT_MAINTENANCE[color])
    merged.update(given)
    return {**cluster, "maintenance": merged}


AVAILABILITY_ZONES: tuple[str, ...] = ("1", "2", "3")


def _zones(value: Any) -> Any:
    # `availabilityZones: [1, 2, 3]` is the natural YAML; ARM takes the zone names as text (as
    # for the gateway's zones).
    if isinstance(value, list | tuple):
        return [
            str(zone) if isinstance(zone, int) and not isinstance(zone, bool) else zone
            for zone in value
        ]
    return value


# Temp (local) disk in GiB of system-pool sizes (4+ vCPUs) whose ephemeral OS support is
# documented; 0: no temp disk. All those with one hold an ephemeral OS disk (EPHEMERAL_MIN_GIB).
# Ddsv5: learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/ddsv5-series;
# Dsv5: .../dsv5-series ("No local storage", "Ephemeral OS Disk: Not Supported").
TEMP_DISK_GIB: dict[str, int] = {
    "Standard_D4ds_v5": 150,
    "Standard_D8ds_v5": 300,
    "Standard_D16ds_v5": 600,
    "Standard_D32ds_v5": 1200,
    "Standard_D48ds_v5": 1800,
    "Standard_D64ds_v5": 2400,
    "Standard_D96ds_v5": 3600,
    **{f"Standard_D{cpus}s_v5": 0 for cpus in (2, 4, 8, 16, 32, 48, 64, 96)},
}
# AKS sizes an ephemeral OS disk to the temp disk when that holds at least 128 GiB, and refuses
# an explicit Ephemeral request that does not fit (AKS concepts-storage.md, "Ephemeral OS disks").
EPHEMERAL_MIN_GIB = 128


class ClusterConfig(_Model):
    enabled: bool = True
    kubernetes_version: str
    subnet_cidr: Cidr
    # Per-cluster overrides of network.serviceCidr / dnsServiceIp. AKS cannot change either on an
    # existing cluster (azure-native replaces it), so a new range is rolled out one cluster at a
    # time: set it on the standby, cut over, then on the other, then in `network`.
    service_cidr: Cidr | None = None
    dns_service_ip: Address | None = None
    # The one node pool is the system pool: use-system-pools says a system pool "must contain
    # at least two nodes"; the API allows at most 1000 per pool (ManagedClusterAgentPoolProfile
    # `count`, and the node pool limit in quotas-skus-regions).
    node_count: Annotated[int, _within(2, 1000, f"AKS system node pools: {AKS_SYSTEM_POOLS}")] = 3
    # A size with a temp disk large enough for an ephemeral OS disk (Standard_D4ds_v5: 150 GiB).
    vm_size: Annotated[str, AfterValidator(_system_pool_vm_size)] = "Standard_D4ds_v5"
    # Ephemeral OS disks live on the host: faster reimage and scale, no replicated OS disk.
    os_disk_type: Literal["Ephemeral", "Managed"] = "Ephemeral"
    # Spread over three zones; fixed when the node pool is created. [] in a region without zones.
    availability_zones: Annotated[tuple[str, ...], BeforeValidator(_zones)] = AVAILABILITY_ZONES
    # Azure CNI reserves max_pods + 1 VNet addresses per node up front. AKS enforces 10-250
    # per node, and at least 30 pods per system pool (checked with node_count below). 110 is the
    # per-node pod count Kubernetes is designed for (kubernetes.io "Considerations for large
    # clusters").
    max_pods: Annotated[int, _within(10, 250, f"AKS maximum pods per node: {AKS_MAX_PODS}")] = 110
    # Nodes added during an upgrade. Set explicitly: AKS documents 1 (upgrade-aks-node-pools-
    # rolling.md) while the 2025-09-01 API spec says 10%; the address check must know which.
    max_surge: Annotated[int, _within(1, 100, f"this program's limit; AKS: {AKS_SURGE}")] = 1
    # Cilium on plain Azure CNI (node subnet); `none` keeps a cluster built without an engine.
    network_policy: Literal["cilium", "none"] = "cilium"
    # Host-based encryption of the node VMs' OS and temp disks and caches, which with ephemeral
    # OS disks is where the OS disk lives. The subscription needs the Microsoft.Compute/
    # EncryptionAtHost feature registered first, and the setting is fixed when the node pool is
    # created (AKS enable-host-encryption.md): on by default, `false` where it cannot be had.
    encryption_at_host: bool = True
    maintenance: MaintenanceConfig

    @field_validator("kubernetes_version")
    @classmethod
    def _version_is_aks_shaped(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(
                f"{_show(value)} is not a Kubernetes version AKS accepts; "
                'write MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "1.33" (quote it in YAML)'
            )
        return value

    @field_validator("availability_zones")
    @classmethod
    def _zones_distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for zone in value:
            if zone not in AVAILABILITY_ZONES:
                raise ValueError(
                    f"{zone!r} is not an availability zone; Azure numbers a region's zones 1, 2 "
                    "and 3 (use [] in a region without zones)"
                )
        if len(set(value)) != len(value):
            raise ValueError(f"{list(value)} names a zone twice; list each zone once")
        return value

    def addresses_needed(self) -> int:
        # Nodes and surge nodes each take one address plus max_pods for their pods (AKS
        # concepts-network-ip-address-planning.md); Azure keeps 5 addresses of every subnet.
        return (self.node_count + self.max_surge) * (self.max_pods + 1) + 5

    def os_disk_note(self) -> str | None:
        """What to check when the size's temp disk is not in the table; None when it is known."""
        if self.os_disk_type != "Ephemeral" or self.vm_size in TEMP_DISK_GIB:
            return None
        return (
            f"{self.vm_size} is not among the sizes this program knows the temp disk of; AKS "
            f"refuses an ephemeral OS disk unless the size supports ephemeral OS disks and its "
            f"temp disk holds at least {EPHEMERAL_MIN_GIB} GiB: check 'Temp Disk Size' on the "
            "size's page at learn.microsoft.com/azure/virtual-machines/sizes, or set "
            "osDiskType: Managed"
        )


def _default_clusters() -> dict[str, ClusterConfig]:
    return {
        color: ClusterConfig.model_validate(
            _with_default_maintenance(color, {"kubernetesVersion": version, "subnetCidr": subnet})
        )
        for color, version, subnet in (
            ("blue", "1.33", "10.240.0.0/16"),
            ("green", "1.34", "10.241.0.0/16"),
        )
    }


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_FIND_OBJECT_ID = (
    "find it with `az ad signed-in-user show --query id -o tsv` (yourself), "
    "`az ad sp show --id <appId> --query id -o tsv` (a service principal) or "
    "`az ad group show --group <name> --query id -o tsv` (a group)"
)


def _object_id(value: Any) -> Any:
    if not isinstance(value, str) or not _GUID.match(value):
        raise ValueError(f"{value!r} is not an Entra object ID (a GUID); {_FIND_OBJECT_ID}")
    if value.strip("0-") == "":
        raise ValueError(f"{value!r} is the nil GUID, not a principal; {_FIND_OBJECT_ID}")
    # Role assignment names derive from it: one spelling, whatever case the config uses.
    return value.lower()


ObjectId = Annotated[str, BeforeValidator(_object_id)]


class Principal(_Model):
    object_id: ObjectId
    # ARM checks the type against Entra ID and refuses a mismatch (UnmatchedPrincipalType).
    type: Literal["ServicePrincipal", "User", "Group"] = "ServicePrincipal"


class AccessConfig(_Model):
    """Who may use the clusters' Kubernetes API; local accounts are disabled, so no one else."""

    # Runs `pulumi up`: Azure Kubernetes Service RBAC Cluster Admin on each cluster.
    deployer: Principal
    # Runs pull-request previews: read-only (README "Who may use the clusters").
    preview: Principal | None = None
    # Entra groups AKS binds to cluster-admin through Kubernetes RBAC: break-glass for operators.
    admin_group_object_ids: tuple[ObjectId, ...] = ()


GATEWAY_SKUS: tuple[str, ...] = ("Standard_v2", "WAF_v2")
# The predefined policies of 2022: TLS 1.2 minimum with TLS 1.3, v2 gateways only; the "S" one
# also drops the CBC ciphers. The older ones lack TLS 1.3 or allow TLS 1.0/1.1, which Application
# Gateway stopped accepting in August 2025 (learn.microsoft.com, application-gateway-ssl-policy-
# overview).
TLS_POLICIES: tuple[str, ...] = ("AppGwSslPolicy20220101S", "AppGwSslPolicy20220101")


class GatewayConfig(_Model):
    # AGIC drives only v2 gateways; WAF_v2 adds the firewall policy components/gateway.py creates.
    sku: Literal["Standard_v2", "WAF_v2"] = "Standard_v2"
    # A fixed capacity is manual scale mode: 1 to 125 instances.
    capacity: Annotated[int, _within(1, 125, f"Application Gateway v2: {APPGW_SCALING}")] = 2
    # Azure fixes a gateway's and a Standard public IP's zones when they are created. Empty: no
    # zones, for a region that has none.
    zones: tuple[Literal["1", "2", "3"], ...] = AVAILABILITY_ZONES
    tls_policy: Literal["AppGwSslPolicy20220101S", "AppGwSslPolicy20220101"] = TLS_POLICIES[0]
    # Only with WAF_v2; unset there means Prevention.
    waf_mode: Literal["Detection", "Prevention"] | None = None

    @field_validator("sku", mode="before")
    @classmethod
    def _sku_is_offered(cls, value: Any) -> Any:
        # Built from the field's own type, so the message never offers a value it then refuses.
        offered = gateway_skus()
        if not isinstance(value, str) or value not in offered:
            raise ValueError(f"{_show(value)} is not offered; use {' or '.join(offered)}")
        return value

    @field_validator("zones", mode="before")
    @classmethod
    def _zones_are_text(cls, value: Any) -> Any:
        # YAML reads `zones: [1, 2, 3]` as numbers; ARM takes them as strings.
        if isinstance(value, list | tuple):
            return tuple(str(zone) if isinstance(zone, int) else zone for zone in value)
        return value

    @field_validator("zones")
    @classmethod
    def _zones_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"{list(value)} names a zone twice; list each zone once")
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _waf_mode_needs_waf(self) -> GatewayConfig:
        if self.waf_mode is not None and self.sku != "WAF_v2":
            raise ConfigError(
                "gateway.wafMode",
                f"applies only to sku WAF_v2, but sku is {self.sku}; "
                "set gateway.sku to WAF_v2 or remove wafMode",
            )
        return self

    @property
    def firewall_mode(self) -> str | None:
        """The WAF policy's mode, or None when the gateway has no firewall."""
        if self.sku != "WAF_v2":
            return None
        return self.waf_mode or "Prevention"


def gateway_skus() -> tuple[str, ...]:
    """The gateway SKUs this program accepts, in the order the README lists them."""
    return get_args(GatewayConfig.model_fields["sku"].annotation)


class AgicConfig(_Model):
    chart_version: str = "1.9.8"
    namespace: str = "agic"
    # The chart accepts 30-300 s. Without it AGIC only reacts to Kubernetes events and never
    # repairs drift on the gateway made outside Kubernetes.
    reconcile_period_seconds: Annotated[
        int, _within(30, 300, "AGIC chart values.yaml, reconcilePeriodSeconds")
    ] = 60

    @field_validator("chart_version")
    @classmethod
    def _chart_version_is_semver(cls, value: str) -> str:
        if not re.match(r"^\d+\.\d+\.\d+$", value):
            raise ValueError(f"{_show(value)} is not a chart version; write it like 1.9.8")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace_is_dns_label(cls, value: str) -> str:
        return _dns_label(value)


DRAINING_TIMEOUT_SECONDS = 30
DRAINING_RANGE = (1, 3600)
PRE_STOP_DELAY_SECONDS = 90
# Longer than preStop + draining (120): see _check_workload_timing.
TERMINATION_GRACE_PERIOD_SECONDS = 125
# AKS fails a node upgrade whose drain outlasts the node pool's drainTimeoutInMinutes, 30 minutes
# unless set (AgentPoolUpgradeSettings.drainTimeoutInMinutes in the AKS API): a pod that may take
# longer to terminate makes every node it runs on undrainable.
AKS_DRAIN_TIMEOUT_SECONDS = 30 * 60
# The preStop `sleep` handler needs PodLifecycleSleepAction, on by default since 1.30 (beta) and GA
# in 1.34 (kubernetes pkg/features/kube_features.go); older API servers refuse the Deployment.
SLEEP_ACTION_SINCE = (1, 30)


class WorkloadConfig(_Model):
    name: str
    image: str
    replicas: Annotated[int, _within(1, 100, "this program's limit")] = 3
    container_port: Annotated[int, _within(1, 65535, "TCP ports")] = 8080
    path: str = "/"
    host: str | None = None
    health_path: str = "/"
    namespace: str | None = None
    # How a pod leaves the gateway's backend pool without dropping a request. Defaults from AGIC
    # 1.9.8 docs/how-tos/minimize-downtime-during-deployments.md (a preStop delay of at least
    # 90 s, draining of about 30 s); the three are checked together in _check_workload_timing.
    # drainingTimeoutSeconds: how long the gateway lets in-flight requests finish on a member
    # AGIC removed. preStopDelaySeconds: how long a terminating pod keeps serving before SIGTERM;
    # AGIC's write that removes it from the pool has to land within it.
    draining_timeout_seconds: int = DRAINING_TIMEOUT_SECONDS
    pre_stop_delay_seconds: int = PRE_STOP_DELAY_SECONDS
    termination_grace_period_seconds: int = TERMINATION_GRACE_PERIOD_SECONDS

    @field_validator("path", "health_path")
    @classmethod
    def _paths_are_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{_show(value)} is not an absolute path; start it with /")
        return value

    @field_validator("name", "namespace")
    @classmethod
    def _names_are_dns_labels(cls, value: str | None) -> str | None:
        return None if value is None else _dns_label(value)

    @field_validator("draining_timeout_seconds")
    @classmethod
    def _draining_within_azure_limits(cls, value: int) -> int:
        # azure-rest-api-specs network stable/2024-05-01 applicationGateway.json,
        # ApplicationGatewayConnectionDraining.drainTimeoutInSec: minimum 1, maximum 3600. AGIC
        # 1.9.8 copies the annotation unchecked (pkg/appgw/backendhttpsettings.go), so ARM would
        # refuse AGIC's whole gateway write and the gateway would stop following the cluster.
        if not DRAINING_RANGE[0] <= value <= DRAINING_RANGE[1]:
            raise ValueError(
                f"{value} is outside what Application Gateway accepts for connection draining; "
                f"set {DRAINING_RANGE[0]} to {DRAINING_RANGE[1]} seconds "
                f"(default {DRAINING_TIMEOUT_SECONDS})"
            )
        return value

    @field_validator("pre_stop_delay_seconds")
    @classmethod
    def _pre_stop_delay_positive(cls, value: int) -> int:
        # Kubernetes validates a preStop sleep of 0 or less as invalid (zero only behind the
        # PodLifecycleSleepActionAllowZero gate), and without a delay nothing keeps a pod
        # serving while AGIC removes it from the pool.
        if value < 1:
            raise ValueError(
                f"{value} leaves no time for AGIC to take the pod out of the gateway's pool; "
                f"set at least 1 second (default {PRE_STOP_DELAY_SECONDS}, AGIC's guidance)"
            )
        return value

    @field_validator("image")
    @classmethod
    def _image_is_a_reference(cls, value: str) -> str:
        return _image_reference(value)

    @property
    def resolved_namespace(self) -> str:
        return self.namespace or self.name


# The runbook's app, pinned: the multi-architecture index the `aspnetapp` tag named when
# Microsoft last published it (dotnet/versions build-info/docker/
# image-info.dotnet-dotnet-docker-main-samples.json, 2026-08-11: .NET 10 on Alpine, port 8080).
SAMPLE_IMAGE = (
    "mcr.microsoft.com/dotnet/samples:aspnetapp"
    "@sha256:b8e94412a96b19ac12c78a7064af1bb0a6f584e752b9de7cc31ca4d45ead36b0"
)
# curl's own image: small, and `sh` for the status-code check; the digest of its 8.11.1 tag.
SMOKE_IMAGE = (
    "curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69"
)


def _default_workloads() -> tuple[WorkloadConfig, ...]:
    return (WorkloadConfig(name="aspnetapp", image=SAMPLE_IMAGE),)


class SmokeConfig(_Model):
    image: str = SMOKE_IMAGE
    attempts: Annotated[int, _within(1, 60, "this program's limit")] = 10
    timeout_seconds: Annotated[int, _within(1, 60, "this program's limit")] = 5

    @field_validator("image")
    @classmethod
    def _image_is_a_reference(cls, value: str) -> str:
        return _image_reference(value)


class CutoverConfig(_Model):
    # How long `pulumi up` waits for the live gateway to serve the active cluster after AGIC's
    # release. AGIC writes in 10-20 s; a role or federated credential still propagating can take
    # minutes. At least one AGIC reconcile period, at most an hour.
    timeout_seconds: int = Field(default=600, ge=60, le=3600)


class MonitoringConfig(_Model):
    retention_in_days: int = 30

    @field_validator("retention_in_days")
    @classmethod
    def _retention_azure_allows(cls, value: int) -> int:
        # A pay-as-you-go (PerGB2018) workspace keeps 30 to 730 days, the first 31 included in
        # the ingestion price (learn.microsoft.com/azure/azure-monitor/logs/
        # data-retention-configure; terraform-provider-azurerm's log_analytics_workspace:
        # "either 7 (Free Tier only) or range between 30 and 730").
        if not 30 <= value <= 730:
            raise ValueError(
                f"{value} days is not a retention Azure allows for a pay-as-you-go workspace; "
                "use 30 to 730"
            )
        return value


class BreakGlassConfig(_Model):
    # The cluster whose API server cannot be reached. Its Kubernetes objects leave the state
    # without a call to it, and its AGIC loses its federated credential (README: "Break glass").
    unreachable_cluster: Color

    @field_validator("unreachable_cluster", mode="before")
    @classmethod
    def _is_a_color(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in COLORS:
            raise ValueError(f"{_show(value)} is not a cluster; name blue or green")
        return value


class StackConfig(_Model):
    active: Color
    location: str = "westeurope"
    name_prefix: str = "aksbg"
    network: NetworkConfig = NetworkConfig()
    gateway: GatewayConfig = GatewayConfig()
    clusters: dict[Color, ClusterConfig] = Field(default_factory=_default_clusters)
    agic: AgicConfig = AgicConfig()
    workloads: tuple[WorkloadConfig, ...] = Field(default_factory=_default_workloads, min_length=1)
    smoke: SmokeConfig = SmokeConfig()
    cutover: CutoverConfig = CutoverConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    break_glass: BreakGlassConfig | None = None
    access: AccessConfig

    @field_validator("active", mode="before")
    @classmethod
    def _active_is_a_color(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in COLORS:
            raise ValueError(f"{_show(value)} is not a cluster; set it to blue or green")
        return value

    @field_validator("location")
    @classmethod
    def _location_is_a_region_name(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]+$", value):
            raise ValueError(
                f"{_show(value)} is not an Azure region name; write it like westeurope "
                "(`az account list-locations -o table` lists them)"
            )
        return value

    @field_validator("name_prefix")
    @classmethod
    def _name_prefix_fits_azure_names(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9]{1,11}$", value):
            raise ValueError(
                f"{_show(value)} cannot start Azure resource names; use 2 to 12 lower-case "
                "letters and digits, starting with a letter"
            )
        return value

    @field_validator("clusters", mode="before")
    @classmethod
    def _both_colors_declared(cls, value: Any) -> Any:
        if isinstance(value, dict):
            missing = [color for color in COLORS if color not in value]
            unknown = [key for key in value if key not in COLORS]
            if unknown:
                raise ValueError(
                    f"unknown cluster {_show(unknown[0])}; the clusters are blue and green"
                )
            if missing:
                raise ValueError(
                    f"cluster {missing[0]!r} is missing; declare both blue and green "
                    "(retire one with enabled: false)"
                )
            return {color: _with_default_maintenance(color, value[color]) for color in COLORS}
        return value

    @model_validator(mode="after")
    def _coherent(self) -> StackConfig:
        _check_active_enabled(self)
        _check_system_pools(self)
        _check_os_disks(self)
        _check_addresses(self)
        _check_maintenance_apart(self)
        _check_access(self)
        _check_workloads_unique(self)
        _check_workload_timing(self)
        _check_clusters_run_sleep_action(self)
        _check_break_glass(self)
        return self

    @property
    def standby(self) -> Color:
        return "green" if self.active == "blue" else "blue"

    def enabled_colors(self) -> list[Color]:
        return [color for color in COLORS if self.clusters[color].enabled]

    def cluster_network(self, color: Color) -> NetworkConfig:
        """The network one cluster is built with: the shared one, with its own overrides."""
        cluster = self.clusters[color]
        return self.network.model_copy(
            update={
                "service_cidr": cluster.service_cidr or self.network.service_cidr,
                "dns_service_ip": cluster.dns_service_ip or self.network.dns_service_ip,
            }
        )

    @property
    def unreachable(self) -> Color | None:
        """The cluster the break-glass declares unreachable, if any."""
        return self.break_glass.unreachable_cluster if self.break_glass else None


class ConfigError(ValueError):
    """A problem with a named key; `key` is relative to the project namespace."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{PROJECT}:{printable_key(key)}: {problem}")
        self.key = key


class StackNameError(ValueError):
    """A stack name Azure cannot use in the names built from it; says the rule, not a key."""


def printable_key(key: str) -> str:
    """A key as a message shows it: as written, or JSON-quoted when it holds odd characters."""
    return key if key.isprintable() and key.strip() == key and key else json.dumps(key)


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{_show(value)} is not a Kubernetes name; use lower-case letters, digits and '-', "
            "starting with a letter, at most 63 characters"
        )
    return value


def _image_reference(value: str) -> str:
    if _IMAGE.match(value):
        return value
    if "@" in value and not _DIGEST.match(value.rsplit("@", 1)[1]):
        raise ValueError(
            f"'{value}' has a malformed digest; write IMAGE@sha256:<64 lower-case hex digits> "
            "or IMAGE:TAG@sha256:<64 lower-case hex digits>"
        )
    raise ValueError(
        f"'{value}' is not an image reference; write REGISTRY/NAME:TAG, "
        "optionally followed by @sha256:<64 lower-case hex digits>"
    )


def _check_active_enabled(cfg: StackConfig) -> None:
    if not cfg.clusters[cfg.active].enabled:
        raise ConfigError(
            f"clusters.{cfg.active}.enabled",
            f"the active cluster cannot be retired; move traffic first (set active: "
            f"{cfg.standby}), then retire {cfg.active} in a later change",
        )


def _check_system_pools(cfg: StackConfig) -> None:
    for color in COLORS:
        cluster = cfg.clusters[color]
        if cluster.node_count * cluster.max_pods < SYSTEM_POOL_MIN_PODS:
            raise ConfigError(
                f"clusters.{color}.maxPods",
                f"{cluster.node_count} nodes x {cluster.max_pods} pods is below the "
                f"{SYSTEM_POOL_MIN_PODS} pods an AKS system node pool must hold ({AKS_MAX_PODS}); "
                f"raise maxPods to at least {-(-SYSTEM_POOL_MIN_PODS // cluster.node_count)}",
            )


def _check_addresses(cfg: StackConfig) -> None:
    net = cfg.network
    subnets: list[tuple[str, IPv4Network]] = [
        ("network.gatewaySubnetCidr", net.gateway_subnet_cidr)
    ]
    subnets += [(f"clusters.{c}.subnetCidr", cfg.clusters[c].subnet_cidr) for c in COLORS]
    for key, cidr in subnets:
        if not cidr.subnet_of(net.vnet_cidr):
            raise ConfigError(
                key, f"{cidr} lies outside the VNet {net.vnet_cidr}; pick a range inside it"
            )
    for i, (key_a, a) in enumerate(subnets):
        for key_b, b in subnets[i + 1 :]:
            if a.overlaps(b):
                raise ConfigError(
                    key_b, f"{b} overlaps {PROJECT}:{key_a} ({a}); give each subnet its own range"
                )
    if net.gateway_subnet_cidr.prefixlen > 26:
        raise ConfigError(
            "network.gatewaySubnetCidr",
            f"{net.gateway_subnet_cidr} is too small for Application Gateway v2; "
            "use a /26 or larger (/24 recommended)",
        )
    for color in COLORS:
        cluster = cfg.clusters[color]
        usable = cluster.subnet_cidr.num_addresses
        if usable < cluster.addresses_needed():
            raise ConfigError(
                f"clusters.{color}.subnetCidr",
                f"{cluster.subnet_cidr} has {usable} addresses but Azure CNI needs "
                f"{cluster.addresses_needed()} for {cluster.node_count} nodes "
                f"(+{cluster.max_surge} upgrade surge) x {cluster.max_pods + 1}; use a larger "
                "range or fewer maxPods",
            )
    _check_service_range("network", net.service_cidr, net.dns_service_ip, net.vnet_cidr)
    for color in COLORS:
        cluster = cfg.clusters[color]
        if cluster.service_cidr is None and cluster.dns_service_ip is None:
            continue
        own = cfg.cluster_network(color)
        _check_service_range(
            f"clusters.{color}", own.service_cidr, own.dns_service_ip, net.vnet_cidr
        )


def _check_service_range(
    key: str, service_cidr: IPv4Network, dns_service_ip: IPv4Address, vnet: IPv4Network
) -> None:
    if service_cidr.prefixlen < 12:
        raise ConfigError(
            f"{key}.serviceCidr",
            f"{service_cidr} is larger than a /12, which Kubernetes refuses for a service range "
            f"(kube-apiserver --service-cluster-ip-range; {AKS_MAX_PODS}); use a /12 or smaller",
        )
    if service_cidr.overlaps(vnet):
        raise ConfigError(
            f"{key}.serviceCidr",
            f"{service_cidr} overlaps the VNet {vnet}; pick a range outside it",
        )
    if dns_service_ip not in service_cidr or dns_service_ip in (
        service_cidr.network_address,
        service_cidr.network_address + 1,
    ):
        raise ConfigError(
            f"{key}.dnsServiceIp",
            f"{dns_service_ip} must be inside serviceCidr {service_cidr}, "
            "and not its first two addresses (e.g. x.x.x.10)",
        )


def _check_break_glass(cfg: StackConfig) -> None:
    color = cfg.unreachable
    if color is None:
        return
    if color == cfg.active:
        raise ConfigError(
            "breakGlass.unreachableCluster",
            f"{color} is the active cluster; the break-glass moves traffic away from it: set "
            f"active: {cfg.standby} in the same change",
        )
    if not cfg.clusters[color].enabled:
        raise ConfigError(
            "breakGlass.unreachableCluster",
            f"{color} is retired (enabled: false), so nothing of it is left to drop from the "
            f"state; retire it only after the break-glass run has landed, and remove breakGlass "
            f"then",
        )


def _check_os_disks(cfg: StackConfig) -> None:
    for color in COLORS:
        cluster = cfg.clusters[color]
        if cluster.os_disk_type == "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:
            raise ConfigError(
                f"clusters.{color}.vmSize",
                f"{cluster.vm_size} has no temp disk, so it cannot hold an ephemeral OS disk; "
                f"use a size with one (e.g. {cluster.vm_size.replace('s_v5', 'ds_v5')}) or set "
                "osDiskType: Managed",
            )


def _check_maintenance_apart(cfg: StackConfig) -> None:
    """No minute of any blue window may fall in a green window: while AKS rolls one cluster's
    nodes, the other must be untouched and ready to serve."""
    if not all(cfg.clusters[color].enabled for color in COLORS):
        return
    blue, green = (cfg.clusters[color].maintenance for color in COLORS)
    for green_kind in ("patch", "node_image"):
        for blue_kind in ("patch", "node_image"):
            green_window: MaintenanceWindow = getattr(green, green_kind)
            blue_window: MaintenanceWindow = getattr(blue, blue_kind)
            if green_window.overlaps(blue_window):
                raise ConfigError(
                    f"clusters.green.maintenance.{to_camel(green_kind)}",
                    f"{green_window.describe()} overlaps {PROJECT}:clusters.blue.maintenance."
                    f"{to_camel(blue_kind)} ({blue_window.describe()}); AKS could upgrade both "
                    "clusters at once: move one window to another day or time",
                )


def _check_access(cfg: StackConfig) -> None:
    access = cfg.access
    if access.preview is None:
        return
    if access.preview.object_id == access.deployer.object_id:
        raise ConfigError(
            "access.preview.objectId",
            "is the deployer's; a preview runs the code of a pull request under review, so it "
            "must not hold the deployer's cluster admin: give previews their own principal",
        )
    if access.preview.object_id in access.admin_group_object_ids:
        raise ConfigError(
            "access.preview.objectId",
            "is also in adminGroupObjectIds, which AKS binds to cluster-admin; give previews a "
            "principal outside the admin groups",
        )


def _check_workloads_unique(cfg: StackConfig) -> None:
    seen_names: set[str] = set()
    seen_routes: dict[tuple[str | None, str], str] = {}
    for index, workload in enumerate(cfg.workloads):
        if workload.name in seen_names:
            raise ConfigError(
                f"workloads[{index}].name", f"'{workload.name}' is used twice; names must be unique"
            )
        seen_names.add(workload.name)
        route = (workload.host, workload.path)
        if route in seen_routes:
            raise ConfigError(
                f"workloads[{index}].path",
                f"host {workload.host or '(any)'} path {workload.path} is already routed to "
                f"'{seen_routes[route]}'; AGIC would merge both into one rule: "
                "give each workload its own host or path",
            )
        seen_routes[route] = workload.name


def _check_workload_timing(cfg: StackConfig) -> None:
    """A removed pod outlives the gateway's drain window, and AKS can still drain its node.

    When a pod is deleted it leaves the Service's endpoints at once, but keeps serving through its
    preStop delay; AGIC's write that removes it from the pool can land as late as the end of that
    delay, and from then the gateway lets in-flight requests run for the draining timeout. So the
    kubelet's kill must come after preStop + draining: the grace period is counted from before
    the preStop hook runs (kubernetes.io/docs/concepts/containers/container-lifecycle-hooks).
    AGIC's guidance asks only for a grace period above the preStop delay (its example: 90 and
    101), which lets the kubelet kill a pod while the gateway may still be draining requests to
    it. The default adds a 5 s margin to preStop + draining (90 + 30); no source gives a figure
    for it.
    """
    for index, workload in enumerate(cfg.workloads):
        key = f"workloads[{index}].terminationGracePeriodSeconds"
        drained_by = workload.pre_stop_delay_seconds + workload.draining_timeout_seconds
        grace = workload.termination_grace_period_seconds
        if grace <= drained_by:
            raise ConfigError(
                key,
                f"{grace} s ends before the gateway has drained the pod (preStopDelaySeconds "
                f"{workload.pre_stop_delay_seconds} + drainingTimeoutSeconds "
                f"{workload.draining_timeout_seconds} = {drained_by} s), so Kubernetes could kill "
                f"requests in flight; set it above {drained_by} (e.g. {drained_by + 5}) or "
                "shorten the delay or the draining",
            )
        if grace > AKS_DRAIN_TIMEOUT_SECONDS:
            raise ConfigError(
                key,
                f"{grace} s is longer than AKS waits to drain a node ({AKS_DRAIN_TIMEOUT_SECONDS} "
                "s by default), so node upgrades would fail; set it to at most "
                f"{AKS_DRAIN_TIMEOUT_SECONDS}, shortening preStopDelaySeconds or "
                "drainingTimeoutSeconds to fit",
            )


def version_key(version: str) -> tuple[int, ...]:
    """A validated Kubernetes version as numbers, for ordering: "1.33.2" -> (1, 33, 2)."""
    return tuple(int(part) for part in version.split("."))


def _check_clusters_run_sleep_action(cfg: StackConfig) -> None:
    floor = ".".join(map(str, SLEEP_ACTION_SINCE))
    for color in cfg.enabled_colors():
        version = cfg.clusters[color].kubernetes_version
        if version_key(version)[:2] < SLEEP_ACTION_SINCE:
            raise ConfigError(
                f"clusters.{color}.kubernetesVersion",
                f"{version} cannot run the apps' preStop sleep (PodLifecycleSleepAction is on by "
                f"default from {floor}), which keeps a pod serving while it leaves the gateway; "
                f"use {floor} or later",
            )


# --- reading ---------------------------------------------------------------------------------

# Keys whose values are objects or lists: Pulumi hands them over as JSON text.
_STRUCTURED = {
    "network",
    "gateway",
    "clusters",
    "agic",
    "workloads",
    "smoke",
    "cutover",
    "monitoring",
    "breakGlass",
    "access",
}
CONFIG_KEYS: tuple[str, ...] = tuple(to_camel(k) for k in StackConfig.model_fields)
_KNOWN = set(StackConfig.model_fields) | set(CONFIG_KEYS)


def parse(raw: dict[str, Any]) -> StackConfig:
    """Validates raw config values (keys without the project prefix), or raises ConfigError."""
    unknown = sorted((key for key in raw if key not in _KNOWN), key=str)
    if unknown:
        known = ", ".join(sorted(CONFIG_KEYS))
        raise ConfigError(
            str(unknown[0]), f"unknown key; remove it or fix its spelling (known: {known})"
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRUCTURED and isinstance(value, str):
            value = _structured(key, value)
        values[key] = value
    try:
        return StackConfig.model_validate(values)
    except ValidationError as err:
        raise _first_problem(err) from None


def _structured(key: str, text: str) -> Any:
    if not text.strip():
        # A key left empty in the stack file: the CLI passes it as an empty string.
        raise ConfigError(key, "has no value; give it one, or remove the line to use the defaults")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(key, f"is not valid structured config ({err.msg})") from None
    except RecursionError:
        raise ConfigError(key, "nests too deep to be config") from None


# pydantic's own wording names its classes, patterns and types; users get these instead.
_TYPE_PROBLEMS = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_from_float": "must be a whole number",
    "finite_number": "must be a whole number",
    "string_too_short": "must not be empty",
}


# Required keys whose absence deserves more than "add it".
_MISSING = {
    "access": "is required; add access.deployer.objectId, the Entra principal that runs "
    f"`pulumi up` (it becomes cluster admin; local accounts are disabled); {_FIND_OBJECT_ID}",
    "access.deployer": "is required; add deployer.objectId, the Entra principal that runs "
    f"`pulumi up`; {_FIND_OBJECT_ID}",
}


def _first_problem(err: ValidationError) -> ConfigError:
    problem = err.errors()[0]
    kind = problem["type"]
    key = _key_of(problem["loc"], raw_last=kind == "extra_forbidden")
    ctx = problem.get("ctx") or {}
    if isinstance(ctx.get("error"), ConfigError):
        return ctx["error"]
    value = problem.get("input")
    shown = _show(value)
    if kind == "missing":
        message = _MISSING.get(key, "is required; add it")
    elif kind == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif value is None:
        message = "has no value; give it one, or remove the line to use the default"
    elif kind in {"value_error", "assertion_error"}:
        message = str(ctx.get("error") or problem["msg"]).removeprefix("Value error, ")
    elif kind == "string_type":
        message = f'{shown} must be text; quote it in YAML ("1.30" stays 1.30, not 1.3)'
    elif kind in _TYPE_PROBLEMS:
        message = f"{shown} {_TYPE_PROBLEMS[kind]}"
    elif kind == "too_short":
        message = f"must have at least {ctx.get('min_length', 1)} entry"
    elif kind == "literal_error":
        message = f"{shown} is not allowed; use {ctx.get('expected', 'a documented value')}"
    elif kind in {"greater_than_equal", "greater_than"}:
        message = f"{shown} is below the minimum of {ctx.get('ge', ctx.get('gt'))}"
    elif kind in {"less_than_equal", "less_than"}:
        message = f"{shown} is above the maximum of {ctx.get('le', ctx.get('lt'))}"
    else:
        message = f"{shown} is not a valid value here; see Pulumi.yaml for what it takes"
    return ConfigError(key, message)


def _key_of(loc: tuple[int | str, ...], raw_last: bool = False) -> str:
    """The config key of a pydantic location; an unknown key is shown as the user wrote it."""
    key = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            key += f"[{part}]"
            continue
        name = str(part) if raw_last and index == len(loc) - 1 else to_camel(str(part))
        key += ("." if key else "") + name
    return key


def _raw_project_config() -> dict[str, Any]:
    """Every value set under the project's namespace, whether the CLI passed it or a test did."""
    prefix = f"{PROJECT}:"
    merged = dict(pulumi.runtime.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return {key[len(prefix) :]: value for key, value in merged.items() if key.startswith(prefix)}


_NAME_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# aka.ms/aks-naming-rules: AKS names each cluster's node resource group
# MC_<resource group>_<cluster>_<region>, and that name may be at most 80 characters. With a
# namePrefix of at most 12 it is the binding limit: the cluster name (63) and DNS prefix (54)
# built from the same parts stay shorter.
NODE_RESOURCE_GROUP_MAX = 80


def node_resource_group(prefix: str, color: str, location: str) -> str:
    """The name AKS gives the node resource group of the cluster `<prefix>-<color>`."""
    return f"MC_{prefix}-rg_{prefix}-{color}_{location}"


def resource_prefix(cfg: StackConfig, stack: str) -> str:
    """`<namePrefix>-<stack>`, the start of every Azure name; a StackNameError if Azure can't.

    Pulumi allows stack names AKS does not allow in a cluster name or DNS prefix (dots,
    underscores, capitals), and lengths its node resource group name cannot hold; ARM would
    refuse them only after the network and gateway exist.
    """
    if not _NAME_PART.match(stack):
        raise StackNameError(
            f"stack name {_show(stack)} cannot be part of Azure resource names: use lower-case "
            "letters, digits and '-', starting and ending with a letter or digit (the AKS DNS "
            f"prefix built from it takes no '.' or '_', {AKS_NAMING})"
        )
    prefix = f"{cfg.name_prefix}-{stack}"
    longest = max((node_resource_group(prefix, color, cfg.location) for color in COLORS), key=len)
    excess = len(longest) - NODE_RESOURCE_GROUP_MAX
    if excess > 0:
        # The stack name appears twice in it: each character cut saves two.
        room = len(stack) - (excess + 1) // 2
        if room < 1:
            raise ConfigError(
                "namePrefix",
                f"{cfg.name_prefix!r} with location {cfg.location!r} leaves no room for a stack "
                f"name in {longest!r}, the node resource group AKS names (at most "
                f"{NODE_RESOURCE_GROUP_MAX} characters, {AKS_NAMING}); use a shorter namePrefix",
            )
        raise StackNameError(
            f"stack name {stack!r} is too long: AKS would name a node resource group "
            f"{longest!r}, {len(longest)} characters, and allows {NODE_RESOURCE_GROUP_MAX} "
            f"({AKS_NAMING}); use a stack name of at most {room} characters with namePrefix "
            f"{cfg.name_prefix!r} and location {cfg.location!r}, or a shorter "
            f"{PROJECT}:namePrefix"
        )
    return prefix


def load() -> StackConfig:
    """Reads and validates the stack config; any problem stops the program with one message."""
    try:
        return parse(_raw_project_config())
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None


def load_prefix(cfg: StackConfig, stack: str) -> str:
    """The resource name prefix for this stack; a bad stack name stops the program."""
    try:
        return resource_prefix(cfg, stack)
    except (ConfigError, StackNameError) as err:
        raise pulumi.RunError(str(err)) from None

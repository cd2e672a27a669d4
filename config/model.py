"""The stack config as one pydantic model: each field with its default and single-value checks.

Every default reproduces the runbook: one VNet, a gateway subnet, 10.240.0.0/16 for blue and
10.241.0.0/16 for green, Azure CNI, three replicas of aspnetapp. Checks across keys are in
rules.py and run once the whole model is read.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from config import catalog_checks, routes, rules
from config.catalogs import agic_chart
from config.limits import (
    AKS_MAINTENANCE,
    AKS_MAX_PODS,
    AKS_SURGE,
    AKS_SYSTEM_POOLS,
    APPGW_SCALING,
    AVAILABILITY_ZONES,
    DRAINING_RANGE,
    DRAINING_TIMEOUT_SECONDS,
    EPHEMERAL_MIN_GIB,
    PRE_STOP_DELAY_SECONDS,
    TEMP_DISK_GIB,
    TERMINATION_GRACE_PERIOD_SECONDS,
    TLS_POLICIES,
)
from config.values import (
    COLORS,
    MINUTES_PER_WEEK,
    VERSION,
    WEEKDAYS,
    Address,
    Cidr,
    Color,
    ConfigError,
    ObjectId,
    Weekday,
    chart_reference,
    dns_label,
    image_reference,
    quoted_clock,
    show,
    system_pool_vm_size,
    within,
    zone_names,
)


class _Model(BaseModel):
    # Each field's docstring is its description: docs/configuration.md and Pulumi.yaml's
    # `config:` are generated from them (scripts/config_reference.py).
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class NetworkConfig(_Model):
    vnet_cidr: Cidr = IPv4Network("10.224.0.0/11")
    """The VNet's address range; every subnet lies inside it."""
    # Application Gateway v2 needs a subnet of its own; Microsoft recommends a /24 so the
    # gateway can scale out, and refuses to share it with anything else.
    gateway_subnet_cidr: Cidr = IPv4Network("10.225.0.0/24")
    """The Application Gateway's own subnet: a /26 or larger, fixed once the gateway runs in it."""
    # Cluster-internal ranges: must not overlap the VNet, or pods cannot reach VNet addresses.
    service_cidr: Cidr = IPv4Network("10.0.0.0/16")
    """Both clusters' Service addresses, outside the VNet; a cluster may override them."""
    dns_service_ip: Address = IPv4Address("10.0.0.10")
    """The cluster DNS service's address, inside serviceCidr; a cluster may override it."""


class MaintenanceWindow(_Model):
    """A weekly window in which AKS may upgrade this cluster; AKS reads `day` and `startTime` in
    the window's `utcOffset` (AKS planned-maintenance.md, maintenance window properties)."""

    day: Weekday
    """The weekday the window opens, in utcOffset's time."""
    start_time: Annotated[str, BeforeValidator(quoted_clock)] = Field(
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$"
    )
    """When the window opens, HH:MM in utcOffset's time (quote it: "02:00")."""
    # AKS asks for at least four hours when auto-upgrade uses the window (planned-maintenance.md);
    # the API caps a window at 24 hours.
    duration_hours: Annotated[int, within(4, 24, f"AKS: {AKS_MAINTENANCE}")] = 4
    """How long the window stays open."""
    utc_offset: Annotated[str, BeforeValidator(quoted_clock)] = Field(
        default="+00:00", pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$"
    )
    """The offset day and startTime are read in (quote it: "+00:00")."""

    def utc_span(self) -> tuple[int, int]:
        """(start, length) in minutes of the UTC week, Monday 00:00 UTC being minute 0."""
        hours, minutes = (int(part) for part in self.start_time.split(":"))
        offset_hours, offset_minutes = (int(part) for part in self.utc_offset[1:].split(":"))
        offset = (offset_hours * 60 + offset_minutes) * (-1 if self.utc_offset[0] == "-" else 1)
        local = WEEKDAYS.index(self.day) * 24 * 60 + hours * 60 + minutes
        return (local - offset) % MINUTES_PER_WEEK, self.duration_hours * 60

    def overlaps(self, other: MaintenanceWindow) -> bool:
        """Whether the two weekly windows share a minute, wrapping from Sunday into Monday."""
        start, length = self.utc_span()
        other_start, other_length = other.utc_span()
        return (other_start - start) % MINUTES_PER_WEEK < length or (
            start - other_start
        ) % MINUTES_PER_WEEK < other_length

    def describe(self) -> str:
        return f"{self.day} {self.start_time} UTC{self.utc_offset} for {self.duration_hours} h"


class MaintenanceConfig(_Model):
    # Kubernetes patch upgrades (AKS's aksManagedAutoUpgradeSchedule for the `patch` channel).
    patch: MaintenanceWindow
    """The weekly window for Kubernetes patch upgrades (the `patch` channel)."""
    # Node image upgrades (aksManagedNodeOSUpgradeSchedule for the `NodeImage` channel).
    node_image: MaintenanceWindow
    """The weekly window for node image upgrades (the `NodeImage` channel)."""


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


class ClusterConfig(_Model):
    enabled: bool = True
    """false retires the cluster (only the standby, once the gateway sends it nothing); true with a
    new version rebuilds it."""
    kubernetes_version: str
    """MAJOR.MINOR or MAJOR.MINOR.PATCH (quote it: "1.36"); on a new cluster, a minor AKS still
    supports; one minor at a time."""
    subnet_cidr: Cidr
    """The cluster's own subnet in the VNet (Azure CNI: pod IPs are addresses of it)."""
    # Per-cluster overrides of network.serviceCidr / dnsServiceIp. AKS cannot change either on an
    # existing cluster (azure-native replaces it), so a new range is rolled out one cluster at a
    # time: set it on the standby, cut over, then on the other, then in `network`.
    service_cidr: Cidr | None = None
    """Overrides network.serviceCidr for this cluster (a /12 or smaller); unset: network's."""
    dns_service_ip: Address | None = None
    """Overrides network.dnsServiceIp for this cluster; unset: network's."""
    # The one node pool is the system pool: use-system-pools says a system pool "must contain
    # at least two nodes"; the API allows at most 1000 per pool (ManagedClusterAgentPoolProfile
    # `count`, and the node pool limit in quotas-skus-regions).
    node_count: Annotated[int, within(2, 1000, f"AKS system node pools: {AKS_SYSTEM_POOLS}")] = 3
    """Nodes of the one (system) node pool."""
    # A size with a temp disk large enough for an ephemeral OS disk (Standard_D4ds_v5: 150 GiB).
    vm_size: Annotated[
        str, AfterValidator(system_pool_vm_size), AfterValidator(catalog_checks.known_vm_size)
    ] = "Standard_D4ds_v5"
    """The nodes' VM size: at least 4 vCPUs, no B-series; fixed at creation."""
    # Ephemeral OS disks live on the host: faster reimage and scale, no replicated OS disk.
    os_disk_type: Literal["Ephemeral", "Managed"] = "Ephemeral"
    """Ephemeral (on the host's temp disk, at least 128 GiB) or Managed; fixed at creation."""
    # Spread over three zones; fixed when the node pool is created. [] in a region without zones.
    availability_zones: Annotated[tuple[str, ...], BeforeValidator(zone_names)] = AVAILABILITY_ZONES
    """Zones the node pool spans ([] in a region without zones); fixed at creation."""
    # Azure CNI reserves max_pods + 1 VNet addresses per node up front. AKS enforces 10-250
    # per node, and at least 30 pods per system pool (checked with node_count below). 110 is the
    # per-node pod count Kubernetes is designed for (kubernetes.io "Considerations for large
    # clusters").
    max_pods: Annotated[int, within(10, 250, f"AKS maximum pods per node: {AKS_MAX_PODS}")] = 110
    """Pods per node; nodeCount x maxPods must reach 30. Fixed at creation."""
    # Nodes added during an upgrade. Set explicitly: AKS documents 1 (upgrade-aks-node-pools-
    # rolling.md) while the 2025-09-01 API spec says 10%; the address check must know which.
    max_surge: Annotated[int, within(1, 100, f"this program's limit; AKS: {AKS_SURGE}")] = 1
    """Nodes added during an upgrade."""
    # Cilium on plain Azure CNI (node subnet); `none` keeps a cluster built without an engine.
    network_policy: Literal["cilium", "none"] = "cilium"
    """The NetworkPolicy engine: cilium (the Cilium data plane), or none."""
    # Host-based encryption of the node VMs' OS and temp disks and caches, which with ephemeral
    # OS disks is where the OS disk lives. The subscription needs the Microsoft.Compute/
    # EncryptionAtHost feature registered first, and the setting is fixed when the node pool is
    # created (AKS enable-host-encryption.md): on by default, `false` where it cannot be had.
    encryption_at_host: bool = True
    """Host encryption of the nodes' disks and caches; needs the subscription's EncryptionAtHost
    feature. Fixed at creation."""
    maintenance: MaintenanceConfig
    """The weekly windows in which AKS may upgrade the cluster; never overlapping the other
    cluster's."""

    @field_validator("kubernetes_version")
    @classmethod
    def _version_is_aks_shaped(cls, value: str) -> str:
        if not VERSION.match(value):
            raise ValueError(
                f"{show(value)} is not a Kubernetes version AKS accepts; "
                'write MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "1.36" (quote it in YAML)'
            )
        return catalog_checks.known_kubernetes_version(value)

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
            f"{self.vm_size} is not in the VM size catalog (config/catalogs/vm_sizes.py), so its "
            "temp disk is unknown here; the preflight checks the region offers it, but AKS "
            "refuses an ephemeral OS disk unless the size supports ephemeral OS disks and its "
            f"temp disk holds at least {EPHEMERAL_MIN_GIB} GiB: check 'Temp Disk Size' on the "
            "size's page at learn.microsoft.com/azure/virtual-machines/sizes, or set "
            "osDiskType: Managed"
        )


def _default_clusters() -> dict[Color, ClusterConfig]:
    runbook: tuple[tuple[Color, str, str], ...] = (
        ("blue", "1.35", "10.240.0.0/16"),
        ("green", "1.36", "10.241.0.0/16"),
    )
    return {
        color: ClusterConfig.model_validate(
            _with_default_maintenance(color, {"kubernetesVersion": version, "subnetCidr": subnet})
        )
        for color, version, subnet in runbook
    }


class Principal(_Model):
    object_id: ObjectId
    """The principal's Entra object ID (a GUID)."""
    # ARM checks the type against Entra ID and refuses a mismatch (UnmatchedPrincipalType).
    type: Literal["ServicePrincipal", "User", "Group"] = "ServicePrincipal"
    """What the principal is; ARM refuses a mismatch."""


class AccessConfig(_Model):
    """Who may use the clusters' Kubernetes API; local accounts are disabled, so no one else."""

    # Runs `pulumi up`: Azure Kubernetes Service RBAC Cluster Admin on each cluster.
    deployer: Principal
    """The principal that runs `pulumi up`: AKS RBAC Cluster Admin on each cluster."""
    # Runs pull-request previews: read-only (docs/security.md, "Who may use the clusters").
    preview: Principal | None = None
    """The principal that runs pull-request previews: read-only on each cluster; neither the
    deployer nor an admin group."""
    # Entra groups AKS binds to cluster-admin through Kubernetes RBAC: break-glass for operators.
    admin_group_object_ids: tuple[ObjectId, ...] = ()
    """Entra groups AKS binds to cluster-admin: break-glass for operators."""


# A Key Vault secret URL as Application Gateway takes it, without a version: the gateway then
# polls the vault every four hours and installs a renewed certificate by itself
# (learn.microsoft.com/azure/application-gateway/key-vault-certs, "How integration works").
# Vault names are 3-24 letters, digits and hyphens, starting with a letter, ending with a letter
# or digit, no "--"; secret names 1-127 letters, digits and hyphens (learn.microsoft.com/azure/
# key-vault/general/about-keys-secrets-certificates, "Objects, identifiers, and versioning").
# The DNS suffixes are Key Vault's in the public, China and US Government clouds.
_KEY_VAULT_SECRET = re.compile(
    r"^https://(?P<vault>[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9])"
    r"\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net)"
    r"/secrets/(?P<secret>[a-zA-Z0-9-]{1,127})(?P<version>/[^/]*)?/?$"
)
# Gateway sub-resource names: 1-80 characters, letters, digits, '_', '.', '-', starting with a
# letter or digit and ending with a letter, digit or '_' (learn.microsoft.com/azure/
# azure-resource-manager/management/resource-name-rules, Microsoft.Network).
_GATEWAY_CHILD_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,78}[a-zA-Z0-9_])?$")


def key_vault_secret(value: str) -> tuple[str, str]:
    """(vault, secret) of a versionless Key Vault secret URL; ValueError saying the shape."""
    match = _KEY_VAULT_SECRET.match(value)
    if not match:
        raise ValueError(
            f"{show(value)} is not a Key Vault secret URL; write it like "
            "https://<vault>.vault.azure.net/secrets/<certificate-name> (the certificate's "
            "secret identifier, `az keyvault certificate show --query sid`, without its version)"
        )
    if (match.group("version") or "/").strip("/"):
        raise ValueError(
            f"{show(value)} names one version of the secret, which the gateway would serve "
            "until it expires; drop the version so the gateway picks up renewals: "
            f"https://{value.split('/')[2]}/secrets/{match.group('secret')}"
        )
    return match.group("vault"), match.group("secret")


class CertificateConfig(_Model):
    """A TLS certificate the gateway reads from Key Vault; apps name it in `tls.certificate`."""

    name: str
    """The certificate's name on the gateway, which apps give as tls.certificate."""
    key_vault_secret_id: str
    """The certificate's Key Vault secret URL without a version, so the gateway rotates it."""
    # The vault's resource group (its secret URL does not say): where the gateway's identity is
    # granted Key Vault Secrets User on the secret. Same subscription as the stack.
    key_vault_resource_group: str
    """The vault's resource group, in the stack's subscription."""

    @field_validator("name")
    @classmethod
    def _name_fits_the_gateway(cls, value: str) -> str:
        if not _GATEWAY_CHILD_NAME.match(value):
            raise ValueError(
                f"{show(value)} cannot name a gateway certificate; use 1-80 letters, digits, "
                "'_', '.' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("key_vault_secret_id")
    @classmethod
    def _is_a_versionless_secret_url(cls, value: str) -> str:
        key_vault_secret(value)
        return value.rstrip("/")

    @field_validator("key_vault_resource_group")
    @classmethod
    def _is_a_resource_group_name(cls, value: str) -> str:
        # Resource group names: 1-90 letters, digits, '_', '-', '.', '(' and ')', not ending in '.'.
        if not re.match(r"^[-\w.()]{0,89}[-\w()]$", value):
            raise ValueError(f"{show(value)} is not a resource group name")
        return value

    @property
    def vault_name(self) -> str:
        return key_vault_secret(self.key_vault_secret_id)[0]

    @property
    def secret_name(self) -> str:
        return key_vault_secret(self.key_vault_secret_id)[1]


class GatewayConfig(_Model):
    # AGIC drives only v2 gateways; WAF_v2 adds the firewall policy components/gateway.py creates.
    sku: Literal["Standard_v2", "WAF_v2"] = "Standard_v2"
    """WAF_v2 adds a Web Application Firewall policy the program creates."""
    # A fixed capacity is manual scale mode: 1 to 125 instances.
    capacity: Annotated[int, within(1, 125, f"Application Gateway v2: {APPGW_SCALING}")] = 2
    """Gateway instances (manual scale)."""
    # Azure fixes a gateway's and a Standard public IP's zones when they are created. Empty: no
    # zones, for a region that has none.
    zones: tuple[Literal["1", "2", "3"], ...] = AVAILABILITY_ZONES
    """Zones the gateway and its public IP span ([] for none); fixed at creation."""
    tls_policy: Literal["AppGwSslPolicy20220101S", "AppGwSslPolicy20220101"] = TLS_POLICIES[0]
    """The predefined TLS policy; the one without S keeps CBC-only TLS 1.2 clients working."""
    # Only with WAF_v2; unset there means Prevention.
    waf_mode: Literal["Detection", "Prevention"] | None = None
    """WAF_v2 only: Prevention blocks, Detection only logs; unset means Prevention."""
    # Installed on the gateway itself so that they serve whichever cluster's AGIC writes.
    certificates: tuple[CertificateConfig, ...] = ()
    """TLS certificates the gateway reads from Key Vault; apps name them (docs/https.md)."""

    @field_validator("sku", mode="before")
    @classmethod
    def _sku_is_offered(cls, value: Any) -> Any:
        # Built from the field's own type, so the message never offers a value it then refuses.
        offered = gateway_skus()
        if not isinstance(value, str) or value not in offered:
            raise ValueError(f"{show(value)} is not offered; use {' or '.join(offered)}")
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
    """The gateway SKUs this program accepts, in the order docs/configuration.md lists them."""
    return get_args(GatewayConfig.model_fields["sku"].annotation)


class AgicConfig(_Model):
    # Microsoft's registry, or a mirror of it where the machine running Pulumi cannot reach mcr
    # (Helm pulls the chart there; the clusters reach mcr for AGIC's image as for AKS's own).
    chart: Annotated[str, AfterValidator(chart_reference)] = agic_chart.CHART
    """The AGIC Helm chart's OCI reference: Microsoft's, or your registry's mirror of it
    ([the chart from a mirror](chart-mirror.md))."""
    # The newest chart verified against this program's values: config/catalogs/agic_chart.py.
    chart_version: str = agic_chart.PINNED
    """The AGIC Helm chart's version: one Microsoft published, which a mirror must hold too."""
    namespace: str = "agic"
    """AGIC's own namespace in each cluster."""
    # The chart accepts 30-300 s. Without it AGIC only reacts to Kubernetes events and never
    # repairs drift on the gateway made outside Kubernetes.
    reconcile_period_seconds: Annotated[
        int, within(30, 300, "AGIC chart values.yaml, reconcilePeriodSeconds")
    ] = 60
    """How often AGIC rewrites the gateway to heal drift."""

    @property
    def chart_registry(self) -> str:
        """The registry host (and port) of `chart`, as the preflight asks it for the tags."""
        return self.chart.removeprefix("oci://").split("/", 1)[0]

    @property
    def chart_repository(self) -> str:
        """The repository of `chart` in its registry."""
        return self.chart.removeprefix("oci://").split("/", 1)[1]

    @field_validator("chart_version")
    @classmethod
    def _chart_version_is_semver(cls, value: str) -> str:
        if not re.match(r"^\d+\.\d+\.\d+\Z", value):
            raise ValueError(
                f"{show(value)} is not a chart version; write it like {agic_chart.PINNED}"
            )
        return catalog_checks.published_chart_version(value)

    @field_validator("namespace")
    @classmethod
    def _namespace_is_dns_label(cls, value: str) -> str:
        return dns_label(value)


class TlsConfig(_Model):
    # AGIC's appgw-ssl-certificate annotation.
    certificate: str
    """The name of one of gateway.certificates."""
    # AGIC's ssl-redirect: plain HTTP answers with a redirect to HTTPS. Without it AGIC writes an
    # HTTPS listener only (pkg/appgw/ingress_rules.go processIngressRuleWithTLS), so HTTP clients
    # would get no answer at all on port 80.
    redirect_http: bool = True
    """Answer plain HTTP with a redirect to HTTPS."""


class WorkloadConfig(_Model):
    name: str
    """The app's name (a Kubernetes name); also its namespace unless one is given."""
    image: str
    """REGISTRY/NAME[:TAG][@sha256:<64 hex>]; pin it by digest."""
    replicas: Annotated[int, within(1, 100, "this program's limit")] = 3
    """Pods per cluster."""
    container_port: Annotated[int, within(1, 65535, "TCP ports")] = 8080
    """The port the app listens on."""
    path: Annotated[str, AfterValidator(routes.gateway_path)] = "/"
    """The path the gateway routes to the app; host and path are unique across apps."""
    host: Annotated[str | None, AfterValidator(routes.ingress_host)] = None
    """The host name the gateway routes to the app; unset: any."""
    tls: TlsConfig | None = None
    """HTTPS at the gateway with a certificate of gateway.certificates; needs host."""
    health_path: str = "/"
    """The path of the readiness and liveness probes (the gateway's health probe)."""
    namespace: str | None = None
    """The app's namespace; unset: its name."""
    # How a pod leaves the gateway's backend pool without dropping a request. Defaults from AGIC
    # 1.9.8 docs/how-tos/minimize-downtime-during-deployments.md (a preStop delay of at least
    # 90 s, draining of about 30 s); the three are checked together in rules.py.
    # drainingTimeoutSeconds: how long the gateway lets in-flight requests finish on a member
    # AGIC removed. preStopDelaySeconds: how long a terminating pod keeps serving before SIGTERM;
    # AGIC's write that removes it from the pool has to land within it.
    # azure-rest-api-specs network stable/2024-05-01 applicationGateway.json,
    # ApplicationGatewayConnectionDraining.drainTimeoutInSec: minimum 1, maximum 3600. AGIC
    # 1.9.8 copies the annotation unchecked (pkg/appgw/backendhttpsettings.go), so ARM would
    # refuse AGIC's whole gateway write and the gateway would stop following the cluster.
    draining_timeout_seconds: Annotated[
        int,
        within(
            *DRAINING_RANGE,
            "Application Gateway connection draining",
            "{value} is outside what Application Gateway accepts for connection draining; "
            f"set {{low}} to {{high}} seconds (default {DRAINING_TIMEOUT_SECONDS})",
        ),
    ] = DRAINING_TIMEOUT_SECONDS
    """How long the gateway lets in-flight requests finish on a removed pod."""
    pre_stop_delay_seconds: int = PRE_STOP_DELAY_SECONDS
    """How long a terminating pod keeps serving while AGIC takes it out of the pool (at least 1)."""
    termination_grace_period_seconds: int = TERMINATION_GRACE_PERIOD_SECONDS
    """When a terminating pod is killed: above preStopDelaySeconds + drainingTimeoutSeconds, at most
    1800."""

    @field_validator("health_path")
    @classmethod
    def _paths_are_absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"{show(value)} is not an absolute path; start it with /")
        return value

    @field_validator("name", "namespace")
    @classmethod
    def _names_are_dns_labels(cls, value: str | None) -> str | None:
        return None if value is None else dns_label(value)

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
        return image_reference(value)

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
    """The smoke gate's image (it needs sh and curl)."""
    attempts: Annotated[int, within(1, 60, "this program's limit")] = 10
    """Requests the gate tries, 3 s apart, before it fails."""
    timeout_seconds: Annotated[int, within(1, 60, "this program's limit")] = 5
    """The bound of each request."""

    @field_validator("image")
    @classmethod
    def _image_is_a_reference(cls, value: str) -> str:
        return image_reference(value)


class CutoverConfig(_Model):
    # How long `pulumi up` waits for the live gateway to serve the active cluster after AGIC's
    # release. AGIC writes in 10-20 s; a role or federated credential still propagating can take
    # minutes. At least one AGIC reconcile period, at most an hour.
    timeout_seconds: Annotated[int, within(60, 3600, "")] = 600
    """How long `pulumi up` waits, after AGIC's release, for the live gateway to serve the active
    cluster."""


class MonitoringConfig(_Model):
    # A pay-as-you-go (PerGB2018) workspace keeps 30 to 730 days, the first 31 included in
    # the ingestion price (learn.microsoft.com/azure/azure-monitor/logs/
    # data-retention-configure; terraform-provider-azurerm's log_analytics_workspace:
    # "either 7 (Free Tier only) or range between 30 and 730").
    retention_in_days: Annotated[
        int,
        within(
            30,
            730,
            "Log Analytics, data-retention-configure",
            "{value} days is not a retention Azure allows for a pay-as-you-go workspace; "
            "use {low} to {high}",
        ),
    ] = 30
    """Days the Log Analytics workspace keeps logs (31 are included in the ingestion price)."""


class BreakGlassConfig(_Model):
    # The cluster whose API server cannot be reached. Its Kubernetes objects leave the state
    # without a call to it, and its AGIC loses its federated credential (docs/break-glass.md).
    unreachable_cluster: Color
    """The cluster whose API server is gone (docs/break-glass.md); neither the active nor a retired
    one."""

    @field_validator("unreachable_cluster", mode="before")
    @classmethod
    def _is_a_color(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in COLORS:
            raise ValueError(f"{show(value)} is not a cluster; name blue or green")
        return value


class DnsConfig(_Model):
    """An existing Azure DNS zone: an A record per app host, aliased to the gateway's public IP."""

    zone: str
    """The zone's name, e.g. example.com; every app host must be in it."""
    resource_group: str
    """The zone's resource group, in the stack's subscription."""

    @field_validator("zone")
    @classmethod
    def _zone_is_a_domain(cls, value: str) -> str:
        name = value.rstrip(".").lower()
        labels = name.split(".")
        if len(labels) < 2 or not all(
            re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", label) for label in labels
        ):
            raise ValueError(f"{show(value)} is not a DNS zone name; write it like example.com")
        return name

    def record_name(self, host: str) -> str | None:
        """The record set's name in the zone for `host` ("@" for the apex), None outside it."""
        host = host.rstrip(".").lower()
        if host == self.zone:
            return "@"
        if host.endswith(f".{self.zone}"):
            return host[: -len(self.zone) - 1]
        return None


class StackConfig(_Model):
    active: Color
    """Which cluster's AGIC owns the gateway. Changing it is the cut-over; reverting it is the
    rollback."""
    location: str = "westeurope"
    """The Azure region of every resource."""
    name_prefix: str = "aksbg"
    """The start of every Azure resource name, followed by the stack name: 2 to 12 lower-case
    letters and digits."""
    network: NetworkConfig = NetworkConfig()
    """The VNet and the clusters' internal ranges."""
    gateway: GatewayConfig = GatewayConfig()
    """The Application Gateway v2."""
    clusters: dict[Color, ClusterConfig] = Field(default_factory=_default_clusters)
    """The two AKS clusters, blue and green (both declared when given)."""
    agic: AgicConfig = AgicConfig()
    """The Application Gateway Ingress Controller."""
    workloads: tuple[WorkloadConfig, ...] = Field(default_factory=_default_workloads, min_length=1)
    """The apps deployed to both clusters."""
    smoke: SmokeConfig = SmokeConfig()
    """The in-cluster smoke gate AGIC waits for."""
    cutover: CutoverConfig = CutoverConfig()
    """The cut-over verification."""
    monitoring: MonitoringConfig = MonitoringConfig()
    """The stack's Log Analytics workspace: gateway logs and Container Insights."""
    break_glass: BreakGlassConfig | None = None
    """Emergency only: fail over from a cluster whose API server cannot be reached. Unset by
    default."""
    dns: DnsConfig | None = None
    """An existing Azure DNS zone: an A record per app host, aliased to the gateway's IP."""
    access: AccessConfig
    """Who may use the clusters' Kubernetes API."""

    @field_validator("active", mode="before")
    @classmethod
    def _active_is_a_color(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in COLORS:
            raise ValueError(f"{show(value)} is not a cluster; set it to blue or green")
        return value

    @field_validator("location")
    @classmethod
    def _location_is_a_region_name(cls, value: str) -> str:
        if not re.match(r"^[a-z0-9]+\Z", value):
            raise ValueError(
                f"{show(value)} is not an Azure region name; write it like westeurope "
                "(`az account list-locations -o table` lists them)"
            )
        return catalog_checks.known_region(value)

    @field_validator("name_prefix")
    @classmethod
    def _name_prefix_fits_azure_names(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9]{1,11}\Z", value):
            raise ValueError(
                f"{show(value)} cannot start Azure resource names; use 2 to 12 lower-case "
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
                    f"unknown cluster {show(unknown[0])}; the clusters are blue and green"
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
        rules.check(self)
        catalog_checks.check(self)
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

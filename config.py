"""The stack's configuration: one pydantic model, read from `pulumi.Config`, validated up front.

Every default reproduces the runbook: one VNet, a gateway subnet, 10.240.0.0/16 for blue and
10.241.0.0/16 for green, Azure CNI, three replicas of aspnetapp. Every invalid value stops the
program with one `pulumi.RunError` that names the key and the fix, before any resource exists.
"""

from __future__ import annotations

import json
import re
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Literal

import pulumi
from pydantic import (
    BaseModel,
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


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class NetworkConfig(_Model):
    vnet_cidr: IPv4Network = IPv4Network("10.224.0.0/11")
    # Application Gateway v2 needs a subnet of its own; Microsoft recommends a /24 so the
    # gateway can scale out, and refuses to share it with anything else.
    gateway_subnet_cidr: IPv4Network = IPv4Network("10.225.0.0/24")
    # Cluster-internal ranges: must not overlap the VNet, or pods cannot reach VNet addresses.
    service_cidr: IPv4Network = IPv4Network("10.0.0.0/16")
    dns_service_ip: IPv4Address = IPv4Address("10.0.0.10")


class ClusterConfig(_Model):
    enabled: bool = True
    kubernetes_version: str
    subnet_cidr: IPv4Network
    # Per-cluster overrides of network.serviceCidr / dnsServiceIp. AKS cannot change either on an
    # existing cluster (azure-native replaces it), so a new range is rolled out one cluster at a
    # time: set it on the standby, cut over, then on the other, then in `network`.
    service_cidr: IPv4Network | None = None
    dns_service_ip: IPv4Address | None = None
    node_count: int = Field(default=3, ge=1, le=100)
    vm_size: str = Field(default="Standard_D4s_v5", pattern=r"^Standard_[A-Za-z0-9_]+$")
    # Azure CNI reserves max_pods + 1 VNet addresses per node up front.
    max_pods: int = Field(default=30, ge=10, le=250)

    @field_validator("kubernetes_version")
    @classmethod
    def _version_is_aks_shaped(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(
                f"'{value}' is not a Kubernetes version AKS accepts; "
                'write MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "1.33" (quote it in YAML)'
            )
        return value

    def addresses_needed(self) -> int:
        # One surge node during upgrades; Azure keeps 5 addresses of every subnet.
        return (self.node_count + 1) * (self.max_pods + 1) + 5


def _default_clusters() -> dict[str, ClusterConfig]:
    return {
        "blue": ClusterConfig(kubernetes_version="1.33", subnet_cidr=IPv4Network("10.240.0.0/16")),
        "green": ClusterConfig(kubernetes_version="1.34", subnet_cidr=IPv4Network("10.241.0.0/16")),
    }


GATEWAY_SKUS: tuple[str, ...] = ("Standard_v2", "WAF_v2")
# The predefined policies of 2022: TLS 1.2 minimum with TLS 1.3, v2 gateways only; the "S" one
# also drops the CBC ciphers. The older ones lack TLS 1.3 or allow TLS 1.0/1.1, which Application
# Gateway stopped accepting in August 2025 (learn.microsoft.com, application-gateway-ssl-policy-
# overview).
TLS_POLICIES: tuple[str, ...] = ("AppGwSslPolicy20220101S", "AppGwSslPolicy20220101")
AVAILABILITY_ZONES: tuple[str, ...] = ("1", "2", "3")


class GatewayConfig(_Model):
    # AGIC drives only v2 gateways; WAF_v2 adds the firewall policy components/gateway.py creates.
    sku: Literal["Standard_v2", "WAF_v2"] = "Standard_v2"
    capacity: int = Field(default=2, ge=1, le=125)
    # Azure fixes a gateway's and a Standard public IP's zones when they are created. Empty: no
    # zones, for a region that has none.
    zones: tuple[Literal["1", "2", "3"], ...] = AVAILABILITY_ZONES
    tls_policy: Literal["AppGwSslPolicy20220101S", "AppGwSslPolicy20220101"] = TLS_POLICIES[0]
    # Only with WAF_v2; unset there means Prevention.
    waf_mode: Literal["Detection", "Prevention"] | None = None

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


class AgicConfig(_Model):
    chart_version: str = Field(default="1.9.8", pattern=r"^\d+\.\d+\.\d+$")
    namespace: str = "agic"
    # The chart accepts 30-300 s. Without it AGIC only reacts to Kubernetes events and never
    # repairs drift on the gateway made outside Kubernetes.
    reconcile_period_seconds: int = Field(default=60, ge=30, le=300)

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
    replicas: int = Field(default=3, ge=1, le=100)
    container_port: int = Field(default=8080, ge=1, le=65535)
    path: str = Field(default="/", pattern=r"^/")
    host: str | None = None
    health_path: str = Field(default="/", pattern=r"^/")
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
    attempts: int = Field(default=10, ge=1, le=60)
    timeout_seconds: int = Field(default=5, ge=1, le=60)

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
        if value not in COLORS:
            raise ValueError(f"'{value}' is not a cluster; name blue or green")
        return value


class StackConfig(_Model):
    active: Color
    location: str = Field(default="westeurope", pattern=r"^[a-z0-9]+$")
    name_prefix: str = Field(default="aksbg", pattern=r"^[a-z][a-z0-9]{1,11}$")
    network: NetworkConfig = NetworkConfig()
    gateway: GatewayConfig = GatewayConfig()
    clusters: dict[Color, ClusterConfig] = Field(default_factory=_default_clusters)
    agic: AgicConfig = AgicConfig()
    workloads: tuple[WorkloadConfig, ...] = Field(default_factory=_default_workloads, min_length=1)
    smoke: SmokeConfig = SmokeConfig()
    cutover: CutoverConfig = CutoverConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    break_glass: BreakGlassConfig | None = None

    @field_validator("active", mode="before")
    @classmethod
    def _active_is_a_color(cls, value: Any) -> Any:
        if value not in COLORS:
            raise ValueError(f"'{value}' is not a cluster; set it to blue or green")
        return value

    @field_validator("clusters", mode="before")
    @classmethod
    def _both_colors_declared(cls, value: Any) -> Any:
        if isinstance(value, dict):
            missing = [color for color in COLORS if color not in value]
            unknown = [key for key in value if key not in COLORS]
            if unknown:
                raise ValueError(f"unknown cluster {unknown[0]!r}; the clusters are blue and green")
            if missing:
                raise ValueError(
                    f"cluster {missing[0]!r} is missing; declare both blue and green "
                    "(retire one with enabled: false)"
                )
        return value

    @model_validator(mode="after")
    def _coherent(self) -> StackConfig:
        _check_active_enabled(self)
        _check_addresses(self)
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
        super().__init__(f"{PROJECT}:{key}: {problem}")
        self.key = key


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"'{value}' is not a Kubernetes name; use lower-case letters, digits and '-', "
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
                f"{cluster.addresses_needed()} for {cluster.node_count} nodes (+1 upgrade surge) "
                f"x {cluster.max_pods + 1}; use a larger range or fewer maxPods",
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
}
CONFIG_KEYS: tuple[str, ...] = tuple(to_camel(k) for k in StackConfig.model_fields)
_KNOWN = set(StackConfig.model_fields) | set(CONFIG_KEYS)


def parse(raw: dict[str, Any]) -> StackConfig:
    """Validates raw config values (keys without the project prefix), or raises ConfigError."""
    unknown = sorted(key for key in raw if key not in _KNOWN)
    if unknown:
        known = ", ".join(sorted(CONFIG_KEYS))
        raise ConfigError(
            unknown[0], f"unknown key; remove it or fix its spelling (known: {known})"
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRUCTURED and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise ConfigError(key, f"is not valid structured config ({err.msg})") from None
        values[key] = value
    try:
        return StackConfig.model_validate(values)
    except ValidationError as err:
        raise _first_problem(err) from None


def _first_problem(err: ValidationError) -> ConfigError:
    problem = err.errors()[0]
    key = _key_of(problem["loc"])
    ctx = problem.get("ctx") or {}
    if isinstance(ctx.get("error"), ConfigError):
        return ctx["error"]
    kind = problem["type"]
    message = problem["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif kind == "missing":
        message = "is required; add it"
    elif kind == "string_type":
        message = f'{problem["input"]!r} must be text; quote it in YAML ("1.30" stays 1.30)'
    elif kind.startswith("ip_v4"):
        message = (
            f"{problem['input']!r} is not an IPv4 address or CIDR; write it like 10.240.0.0/16"
        )
    elif kind.startswith("literal_error") or kind == "enum":
        message = f"{problem['input']!r} is not allowed; {_sentence_part(problem['msg'])}"
    elif kind in {
        "greater_than_equal",
        "less_than_equal",
        "int_parsing",
        "string_pattern_mismatch",
    }:
        message = f"{problem['input']!r}: {_sentence_part(problem['msg'])}"
    return ConfigError(key, message)


def _sentence_part(message: str) -> str:
    # Only the first letter: the allowed values pydantic quotes are case-sensitive, and a message
    # must never suggest a spelling the model then refuses ('standard_v2' for 'Standard_v2').
    return message[:1].lower() + message[1:]


def _key_of(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += ("." if key else "") + to_camel(str(part))
    return key


def _raw_project_config() -> dict[str, Any]:
    """Every value set under the project's namespace, whether the CLI passed it or a test did."""
    prefix = f"{PROJECT}:"
    merged = dict(pulumi.runtime.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return {key[len(prefix) :]: value for key, value in merged.items() if key.startswith(prefix)}


_NAME_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def resource_prefix(cfg: StackConfig, stack: str) -> str:
    """`<namePrefix>-<stack>`, the start of every Azure name, or a ConfigError.

    Pulumi allows stack names AKS does not allow in a cluster name or DNS prefix (dots,
    underscores, capitals); ARM would refuse them only after the network and gateway exist.
    """
    if not _NAME_PART.match(stack) or len(stack) > 24:
        raise ConfigError(
            "namePrefix",
            f"the stack name '{stack}' cannot be part of Azure resource names; name the stack "
            "with lower-case letters, digits and '-' (at most 24 characters)",
        )
    return f"{cfg.name_prefix}-{stack}"


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
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None

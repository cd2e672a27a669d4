"""Checks across keys: what no single value can say wrong, but the whole config can.

They run once the model is read (StackConfig's model validator) and raise ConfigError naming the
key to change.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import TYPE_CHECKING

from pydantic.alias_generators import to_camel

from config.limits import (
    AKS_DRAIN_TIMEOUT_SECONDS,
    AKS_MAX_PODS,
    AKS_RESERVED_RANGES,
    AKS_RESERVED_SOURCE,
    SLEEP_ACTION_SINCE,
    SYSTEM_NAMESPACES,
    SYSTEM_POOL_MIN_PODS,
    TEMP_DISK_GIB,
    VNET_RESERVED_RANGES,
    VNET_RESERVED_SOURCE,
)
from config.values import COLORS, PROJECT, ConfigError, version_key

if TYPE_CHECKING:
    from config.model import MaintenanceWindow, StackConfig


def check(cfg: StackConfig) -> None:
    """Every cross-key rule, in the order a user should fix them."""
    _check_active_enabled(cfg)
    _check_system_pools(cfg)
    _check_os_disks(cfg)
    _check_reserved_ranges(cfg)
    _check_addresses(cfg)
    _check_maintenance_apart(cfg)
    _check_access(cfg)
    _check_workloads_unique(cfg)
    _check_namespaces_owned_once(cfg)
    _check_workload_timing(cfg)
    _check_clusters_run_sleep_action(cfg)
    _check_break_glass(cfg)
    _check_tls(cfg)
    _check_dns(cfg)


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


def _check_namespaces_owned_once(cfg: StackConfig) -> None:
    """Each namespace this program creates belongs to one owner: AGIC or one app.

    Removing or renaming an app deletes its Namespace, and Kubernetes deletes everything in a
    namespace with it (kubernetes.io namespaces, "Deleting a namespace"): an app sharing AGIC's
    namespace would take AGIC down with it, and an app in a system namespace would have the
    program own, and one day delete, what the cluster needs. Two apps in one namespace are
    refused rather than sharing one Namespace object: a shared object would outlive either app
    only if the program counted its users, and each app's default-deny NetworkPolicy is named
    per namespace (components/network_policy.py), so two apps would declare the same object.
    """
    agic = cfg.agic.namespace
    if agic in SYSTEM_NAMESPACES:
        raise ConfigError(
            "agic.namespace",
            f"{agic!r} belongs to Kubernetes or AKS; AGIC gets a namespace of its own, which the "
            "program creates and protects (the default is 'agic')",
        )
    owners: dict[str, int] = {}
    for index, workload in enumerate(cfg.workloads):
        namespace = workload.resolved_namespace
        key = f"workloads[{index}].namespace"
        if namespace in SYSTEM_NAMESPACES:
            raise ConfigError(
                key,
                f"{namespace!r} belongs to Kubernetes or AKS, so the program would create and "
                "later delete objects the cluster needs; give the app its own namespace",
            )
        if namespace == agic:
            raise ConfigError(
                key,
                f"{namespace!r} is AGIC's namespace (agic.namespace): removing or renaming the "
                "app would delete the namespace and AGIC in it; give the app its own namespace",
            )
        if namespace in owners:
            raise ConfigError(
                key,
                f"{namespace!r} is already workloads[{owners[namespace]}]'s namespace; each app "
                "has a namespace of its own, which goes when the app goes",
            )
        owners[namespace] = index


def _check_reserved_ranges(cfg: StackConfig) -> None:
    """Ranges Azure or AKS refuse, caught before the plan deletes a standby to rebuild it."""
    net = cfg.network
    ranges: list[tuple[str, IPv4Network, bool]] = [("network.vnetCidr", net.vnet_cidr, True)]
    ranges.append(("network.serviceCidr", net.service_cidr, False))
    for color in COLORS:
        own = cfg.clusters[color].service_cidr
        if own is not None:
            ranges.append((f"clusters.{color}.serviceCidr", own, False))
    for key, cidr, is_vnet in ranges:
        refused = [(r, AKS_RESERVED_SOURCE) for r in AKS_RESERVED_RANGES]
        if is_vnet:
            refused += [(r, VNET_RESERVED_SOURCE) for r in VNET_RESERVED_RANGES]
        for reserved, source in refused:
            if cidr.overlaps(IPv4Network(reserved)):
                raise ConfigError(
                    key,
                    f"{cidr} overlaps {reserved}, which Azure refuses ({source}); pick a "
                    "private range outside it, e.g. in 10.0.0.0/8",
                )


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


def _check_tls(cfg: StackConfig) -> None:
    """Every certificate an app names is installed on the gateway by this program.

    AGIC 1.9.8 drops from its gateway write every Ingress whose appgw-ssl-certificate names a
    certificate the gateway does not have (pkg/controller/prune.go pruneNoSslCertificate, a
    Warning event and nothing else): that app's listeners, HTTP included, vanish, and an AGIC
    left with no Ingress writes its default listener and empty pool, a 502 for everyone.
    """
    names = [certificate.name for certificate in cfg.gateway.certificates]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ConfigError(
                f"gateway.certificates[{index}].name",
                f"{name!r} is used twice; give each certificate its own name",
            )
    for index, workload in enumerate(cfg.workloads):
        if workload.tls is None:
            continue
        if workload.host is None:
            raise ConfigError(
                f"workloads[{index}].tls",
                "needs a host: the gateway picks the certificate by the name a client asks for "
                f"(SNI); set workloads[{index}].host, or remove tls",
            )
        if workload.tls.certificate not in names:
            known = f" (defined: {', '.join(names)})" if names else ""
            raise ConfigError(
                f"workloads[{index}].tls.certificate",
                f"{workload.tls.certificate!r} is not defined on the gateway{known}; add it to "
                f"{PROJECT}:gateway.certificates with its keyVaultSecretId, or name a defined one",
            )


def unused_certificates(cfg: StackConfig) -> list[str]:
    """Warnings for certificates no app names: installed and rotated, but serving nothing."""
    used = {w.tls.certificate for w in cfg.workloads if w.tls is not None}
    return [
        f"gateway.certificates[{index}]: {certificate.name!r} is installed on the gateway but "
        "no workload names it in tls.certificate; remove it once nothing uses it"
        for index, certificate in enumerate(cfg.gateway.certificates)
        if certificate.name not in used
    ]


def _check_dns(cfg: StackConfig) -> None:
    if cfg.dns is None:
        return
    for index, workload in enumerate(cfg.workloads):
        if workload.host is not None and cfg.dns.record_name(workload.host) is None:
            raise ConfigError(
                f"workloads[{index}].host",
                f"{workload.host} is not in the DNS zone {cfg.dns.zone} ({PROJECT}:dns.zone), so "
                "no record can point it at the gateway; use a host in the zone or remove dns",
            )


# --- reading ---------------------------------------------------------------------------------

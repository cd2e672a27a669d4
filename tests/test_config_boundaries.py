"""Each limit of the config's cross-key rules at its edge: the last value accepted, the first one
refused, and the key and fix the refusal names."""

from __future__ import annotations

import json
from typing import Any

import pytest

import config
from conftest import ACCESS

CLUSTERS = {
    "blue": {"kubernetesVersion": "1.33", "subnetCidr": "10.240.0.0/16"},
    "green": {"kubernetesVersion": "1.34", "subnetCidr": "10.241.0.0/16"},
}


def parse(
    network: dict[str, Any] | None = None,
    workloads: list[dict[str, Any]] | None = None,
    top: dict[str, Any] | None = None,
    **clusters: dict[str, Any],
) -> config.StackConfig:
    """The config with these overrides; `top` sets top-level keys (active, access, gateway...)."""
    values: dict[str, Any] = {
        "active": "blue",
        "access": ACCESS,
        "clusters": {c: {**CLUSTERS[c], **clusters.get(c, {})} for c in CLUSTERS},
    }
    if network is not None:
        values["network"] = network
    if workloads is not None:
        values["workloads"] = workloads
    values.update(top or {})
    return config.parse(values)


def refusal(
    network: dict[str, Any] | None = None,
    workloads: list[dict[str, Any]] | None = None,
    top: dict[str, Any] | None = None,
    **clusters: dict[str, Any],
) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as raised:
        parse(network, workloads, top, **clusters)
    return raised.value


# --- the gateway subnet ----------------------------------------------------------------------


def test_a_26_is_the_smallest_gateway_subnet_accepted_and_a_27_is_refused() -> None:
    cfg = parse({"gatewaySubnetCidr": "10.225.0.0/26"})
    assert str(cfg.network.gateway_subnet_cidr) == "10.225.0.0/26"
    refused = refusal({"gatewaySubnetCidr": "10.225.0.0/27"})
    assert refused.key == "network.gatewaySubnetCidr"
    assert "10.225.0.0/27 is too small for Application Gateway v2" in str(refused)
    assert "use a /26 or larger (/24 recommended)" in str(refused)


# --- a cluster subnet and what Azure CNI takes from it ---------------------------------------


def test_a_subnet_sized_exactly_to_what_azure_cni_needs_is_accepted() -> None:
    # (2 nodes + 1 surge) x (40 pods + the node's own address) + 5 Azure keeps = 128, a /25.
    exact = {"subnetCidr": "10.240.0.0/25", "nodeCount": 2, "maxSurge": 1, "maxPods": 40}
    cfg = parse(blue=exact)
    assert cfg.clusters["blue"].addresses_needed() == 128
    assert cfg.clusters["blue"].subnet_cidr.num_addresses == 128


def test_one_pod_more_than_the_subnet_holds_is_refused_with_the_count() -> None:
    over = {"subnetCidr": "10.240.0.0/25", "nodeCount": 2, "maxSurge": 1, "maxPods": 41}
    refused = refusal(blue=over)
    assert refused.key == "clusters.blue.subnetCidr"
    assert (
        "10.240.0.0/25 has 128 addresses but Azure CNI needs 131 for 2 nodes (+1 upgrade surge) "
        "x 42; use a larger range or fewer maxPods"
    ) in str(refused)


def test_the_upgrade_surge_counts_against_the_subnet() -> None:
    refused = refusal(
        blue={"subnetCidr": "10.240.0.0/25", "nodeCount": 2, "maxSurge": 2, "maxPods": 40}
    )
    assert "needs 169 for 2 nodes (+2 upgrade surge) x 41" in str(refused)


# --- the service range and the DNS service address --------------------------------------------

SERVICES = "10.0.0.0/16"


@pytest.mark.parametrize(
    ("dns", "accepted"),
    [
        ("10.0.0.0", False),  # the range's network address
        ("10.0.0.1", False),  # the first address: the API server's `kubernetes` Service takes it
        ("10.0.0.2", True),  # the first one left for CoreDNS
        ("10.0.0.10", True),  # AKS's default
        ("10.1.0.10", False),  # outside the range
    ],
)
def test_the_dns_service_address_must_be_in_the_range_after_its_first_address(
    dns: str, accepted: bool
) -> None:
    network = {"serviceCidr": SERVICES, "dnsServiceIp": dns}
    if accepted:
        assert str(parse(network).network.dns_service_ip) == dns
        return
    refused = refusal(network)
    assert refused.key == "network.dnsServiceIp"
    assert f"{dns} must be inside serviceCidr {SERVICES}, and not its first two addresses" in str(
        refused
    )


def test_a_clusters_own_dns_service_address_is_held_to_its_own_range() -> None:
    own = {"serviceCidr": "10.2.0.0/16", "dnsServiceIp": "10.2.0.1"}
    refused = refusal(green=own)
    assert refused.key == "clusters.green.dnsServiceIp"
    parse(green={**own, "dnsServiceIp": "10.2.0.2"})


def test_a_12_is_the_largest_service_range_accepted() -> None:
    parse({"serviceCidr": "10.16.0.0/12", "dnsServiceIp": "10.16.0.10"})
    refused = refusal({"serviceCidr": "10.0.0.0/11", "dnsServiceIp": "10.0.0.10"})
    assert refused.key == "network.serviceCidr"
    assert "use a /12 or smaller" in str(refused)


# --- maintenance windows, every kind against every kind of the other cluster -----------------


def window(day: str, start: str, hours: int = 4) -> dict[str, Any]:
    return {"day": day, "startTime": start, "durationHours": hours}


@pytest.mark.parametrize("green_kind", ["patch", "nodeImage"])
@pytest.mark.parametrize("blue_kind", ["patch", "nodeImage"])
def test_a_node_image_window_may_not_meet_any_window_of_the_other_cluster(
    green_kind: str, blue_kind: str
) -> None:
    def clusters(green_start: str) -> dict[str, dict[str, Any]]:
        # The other kind of each cluster is far away, on days of its own.
        blue = {"patch": window("Friday", "12:00"), "nodeImage": window("Friday", "18:00")}
        blue[blue_kind] = window("Monday", "02:00")
        green = {"patch": window("Saturday", "12:00"), "nodeImage": window("Sunday", "12:00")}
        green[green_kind] = window("Monday", green_start)
        return {"blue": {"maintenance": blue}, "green": {"maintenance": green}}

    # Back to back (blue's ends at 06:00 as green's starts) is apart ...
    parse(**clusters("06:00"))
    # ... one minute earlier, both clusters could be upgraded at once.
    refused = refusal(**clusters("05:59"))
    assert refused.key == f"clusters.green.maintenance.{green_kind}"
    assert f"overlaps aks-bluegreen:clusters.blue.maintenance.{blue_kind}" in str(refused)
    assert "move one window to another day or time" in str(refused)


# --- workloads -------------------------------------------------------------------------------

APP = "mcr.microsoft.com/dotnet/samples:aspnetapp"


def test_two_apps_with_the_same_name_on_different_paths_are_refused() -> None:
    refused = refusal(
        workloads=[
            {"name": "shop", "image": APP, "path": "/"},
            {"name": "shop", "image": APP, "path": "/api"},
        ]
    )
    assert refused.key == "workloads[1].name"
    assert "'shop' is used twice; names must be unique" in str(refused)


def test_two_apps_on_the_same_path_of_different_hosts_are_accepted() -> None:
    cfg = parse(
        workloads=[
            {"name": "shop", "image": APP, "path": "/", "host": "shop.example.com"},
            {"name": "blog", "image": APP, "path": "/", "host": "blog.example.com"},
        ]
    )
    assert [w.name for w in cfg.workloads] == ["shop", "blog"]
    refused = refusal(
        workloads=[
            {"name": "shop", "image": APP, "path": "/", "host": "shop.example.com"},
            {"name": "blog", "image": APP, "path": "/", "host": "shop.example.com"},
        ]
    )
    assert refused.key == "workloads[1].path"
    assert "host shop.example.com path / is already routed to 'shop'" in str(refused)


def test_a_grace_period_must_outlast_the_drain_by_a_second_and_fit_in_the_nodes_drain() -> None:
    # preStop 90 + draining 30 = 120 s: 120 is refused, 121 accepted; AKS drains a node for
    # 1800 s by default: 1800 is accepted, 1801 refused.
    def app(grace: int) -> list[dict[str, Any]]:
        return [{"name": "shop", "image": APP, "terminationGracePeriodSeconds": grace}]

    refused = refusal(workloads=app(120))
    assert refused.key == "workloads[0].terminationGracePeriodSeconds"
    assert "(preStopDelaySeconds 90 + drainingTimeoutSeconds 30 = 120 s)" in str(refused)
    assert "set it above 120 (e.g. 125)" in str(refused)
    parse(workloads=app(121))
    parse(workloads=app(1800))
    refused = refusal(workloads=app(1801))
    assert "1801 s is longer than AKS waits to drain a node (1800 s by default)" in str(refused)


def test_a_system_pool_below_30_pods_is_told_the_smallest_maxpods_that_fits() -> None:
    # 2 nodes x 15 pods = 30 is the least an AKS system pool holds; 2 x 14 names 15.
    parse(blue={"nodeCount": 2, "maxPods": 15})
    refused = refusal(blue={"nodeCount": 2, "maxPods": 14})
    assert refused.key == "clusters.blue.maxPods"
    assert "2 nodes x 14 pods is below the 30 pods" in str(refused)
    assert str(refused).endswith("raise maxPods to at least 15")


def test_a_clusters_own_dns_service_address_alone_is_held_to_the_shared_range() -> None:
    # Only dnsServiceIp overridden: it must still fit the network's service range.
    refused = refusal(green={"dnsServiceIp": "10.0.0.1"})
    assert refused.key == "clusters.green.dnsServiceIp"
    parse(green={"dnsServiceIp": "10.0.0.2"})


def test_a_grace_period_below_the_drain_is_refused_and_the_fix_adds_five_seconds() -> None:
    app = {"name": "shop", "image": APP, "preStopDelaySeconds": 91, "drainingTimeoutSeconds": 30}
    refused = refusal(workloads=[{**app, "terminationGracePeriodSeconds": 100}])
    assert "100 s ends before the gateway has drained the pod" in str(refused)
    assert "set it above 121 (e.g. 126)" in str(refused)


# --- the active cluster, the break-glass -----------------------------------------------------


def test_the_active_cluster_cannot_be_retired_but_the_standby_can() -> None:
    refused = refusal(blue={"enabled": False})
    assert refused.key == "clusters.blue.enabled"
    assert "move traffic first (set active: green), then retire blue in a later change" in str(
        refused
    )
    assert parse(green={"enabled": False}).enabled_colors() == ["blue"]


@pytest.mark.parametrize("active", ["blue", "green"])
def test_the_break_glass_names_the_cluster_traffic_leaves_never_the_active_one(
    active: str,
) -> None:
    other = "green" if active == "blue" else "blue"
    cfg = parse(top={"active": active, "breakGlass": {"unreachableCluster": other}})
    assert cfg.unreachable == other
    refused = refusal(top={"active": active, "breakGlass": {"unreachableCluster": active}})
    assert refused.key == "breakGlass.unreachableCluster"
    assert f"{active} is the active cluster" in str(refused)
    assert f"set active: {other} in the same change" in str(refused)


def test_a_retired_cluster_cannot_be_declared_unreachable() -> None:
    refused = refusal(
        top={"active": "green", "breakGlass": {"unreachableCluster": "blue"}},
        blue={"enabled": False},
    )
    assert refused.key == "breakGlass.unreachableCluster"
    assert "blue is retired (enabled: false)" in str(refused)


# --- subnets in the VNet ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "clusters", "key", "says"),
    [
        # The VNet is 10.224.0.0/11: 10.224.0.0 to 10.255.255.255.
        ({}, {"green": {"subnetCidr": "10.223.0.0/16"}}, "clusters.green.subnetCidr", "outside"),
        ({"gatewaySubnetCidr": "10.0.0.0/24"}, {}, "network.gatewaySubnetCidr", "outside"),
        (
            {"gatewaySubnetCidr": "10.240.0.0/24"},
            {},
            "clusters.blue.subnetCidr",
            "10.240.0.0/16 overlaps aks-bluegreen:network.gatewaySubnetCidr (10.240.0.0/24)",
        ),
        (
            {"gatewaySubnetCidr": "10.241.1.0/24"},
            {},
            "clusters.green.subnetCidr",
            "10.241.0.0/16 overlaps aks-bluegreen:network.gatewaySubnetCidr (10.241.1.0/24)",
        ),
        (
            {},
            {"green": {"subnetCidr": "10.240.0.0/15"}},
            "clusters.green.subnetCidr",
            "10.240.0.0/15 overlaps aks-bluegreen:clusters.blue.subnetCidr (10.240.0.0/16)",
        ),
    ],
)
def test_every_subnet_lies_in_the_vnet_and_apart_from_the_others(
    network: dict[str, Any], clusters: dict[str, dict[str, Any]], key: str, says: str
) -> None:
    refused = refusal(network, **clusters)
    assert refused.key == key
    assert says in str(refused)


def test_subnets_at_the_vnets_last_range_and_back_to_back_are_accepted() -> None:
    cfg = parse({"gatewaySubnetCidr": "10.242.0.0/24"}, green={"subnetCidr": "10.255.0.0/16"})
    assert str(cfg.clusters["green"].subnet_cidr) == "10.255.0.0/16"
    parse(green={"subnetCidr": "10.241.0.0/16"}, blue={"subnetCidr": "10.240.0.0/16"})


# --- service ranges --------------------------------------------------------------------------


def test_a_service_range_right_below_the_vnet_is_accepted_and_one_inside_it_refused() -> None:
    parse({"serviceCidr": "10.223.0.0/16", "dnsServiceIp": "10.223.0.10"})
    refused = refusal({"serviceCidr": "10.224.0.0/16", "dnsServiceIp": "10.224.0.10"})
    assert refused.key == "network.serviceCidr"
    assert "10.224.0.0/16 overlaps the VNet 10.224.0.0/11" in str(refused)


def test_a_clusters_own_service_range_alone_needs_its_own_dns_service_address() -> None:
    # Only serviceCidr overridden: the shared 10.0.0.10 lies outside it.
    refused = refusal(green={"serviceCidr": "10.2.0.0/16"})
    assert refused.key == "clusters.green.dnsServiceIp"
    assert "10.0.0.10 must be inside serviceCidr 10.2.0.0/16" in str(refused)
    refused = refusal(blue={"serviceCidr": "10.224.0.0/16", "dnsServiceIp": "10.224.0.10"})
    assert refused.key == "clusters.blue.serviceCidr"


@pytest.mark.parametrize(
    ("network", "clusters", "key", "reserved"),
    [
        ({"vnetCidr": "169.254.0.0/16"}, {}, "network.vnetCidr", "169.254.0.0/16"),
        ({"vnetCidr": "192.0.0.0/16"}, {}, "network.vnetCidr", "192.0.2.0/24"),
        # VNet address space only (the VNet FAQ): loopback and Azure's own DNS address.
        ({"vnetCidr": "127.0.0.0/8"}, {}, "network.vnetCidr", "127.0.0.0/8"),
        ({"vnetCidr": "168.63.0.0/16"}, {}, "network.vnetCidr", "168.63.129.16/32"),
        (
            {"serviceCidr": "172.30.0.0/16", "dnsServiceIp": "172.30.0.10"},
            {},
            "network.serviceCidr",
            "172.30.0.0/16",
        ),
        (
            {},
            {"green": {"serviceCidr": "172.31.0.0/16", "dnsServiceIp": "172.31.0.10"}},
            "clusters.green.serviceCidr",
            "172.31.0.0/16",
        ),
    ],
)
def test_ranges_azure_reserves_are_refused_with_their_source(
    network: dict[str, Any], clusters: dict[str, dict[str, Any]], key: str, reserved: str
) -> None:
    refused = refusal(network, **clusters)
    assert refused.key == key
    assert f"overlaps {reserved}, which Azure refuses" in str(refused)
    source = (
        config.limits.VNET_RESERVED_SOURCE
        if reserved in config.limits.VNET_RESERVED_RANGES
        and reserved not in config.limits.AKS_RESERVED_RANGES
        else config.limits.AKS_RESERVED_SOURCE
    )
    assert source in str(refused)


def test_the_vnet_only_reserved_ranges_do_not_bind_a_service_range() -> None:
    # The VNet FAQ lists what VNet address space may not use; a service range is cluster-internal
    # and only AKS's list applies to it (AKS azure-cni-overview, prerequisites).
    own = {"serviceCidr": "168.63.0.0/16", "dnsServiceIp": "168.63.0.10"}
    parse(own)
    parse(green=own)


# --- ephemeral OS disks ----------------------------------------------------------------------


def test_an_ephemeral_os_disk_needs_a_size_with_a_temp_disk() -> None:
    assert config.limits.TEMP_DISK_GIB["Standard_D4s_v5"] == 0
    refused = refusal(green={"vmSize": "Standard_D4s_v5", "osDiskType": "Ephemeral"})
    assert refused.key == "clusters.green.vmSize"
    assert "(e.g. Standard_D4ds_v5) or set osDiskType: Managed" in str(refused)
    parse(green={"vmSize": "Standard_D4s_v5", "osDiskType": "Managed"})
    parse(green={"vmSize": "Standard_D4ds_v5", "osDiskType": "Ephemeral"})


def test_a_size_outside_the_catalog_is_not_refused_an_ephemeral_disk_here() -> None:
    # Its temp disk is unknown: the preflight and a warning say so (ClusterConfig.os_disk_note).
    assert "Standard_D4as_v4" not in config.limits.TEMP_DISK_GIB
    cfg = parse(blue={"vmSize": "Standard_D4as_v4", "osDiskType": "Ephemeral"})
    assert cfg.clusters["blue"].os_disk_note() is not None


# --- who may use the clusters ----------------------------------------------------------------

DEPLOYER = ACCESS["deployer"]["objectId"]


@pytest.mark.parametrize(
    "preview", ["00000000-0000-0000-0000-000000000001", "ffffffff-0000-0000-0000-00000000d3b1"]
)
def test_a_preview_principal_of_its_own_is_accepted(preview: str) -> None:
    cfg = parse(
        top={"access": {"deployer": {"objectId": DEPLOYER}, "preview": {"objectId": preview}}}
    )
    assert cfg.access.preview is not None and cfg.access.preview.object_id == preview


def test_a_preview_principal_that_is_the_deployer_or_an_admin_group_is_refused() -> None:
    refused = refusal(
        top={
            "access": {
                "deployer": {"objectId": DEPLOYER},
                "preview": {"objectId": DEPLOYER.upper()},
            }
        }
    )
    assert refused.key == "access.preview.objectId"
    assert "is the deployer's" in str(refused)
    group = "11111111-0000-0000-0000-000000000000"
    access = {"deployer": {"objectId": DEPLOYER}, "preview": {"objectId": group}}
    refused = refusal(top={"access": {**access, "adminGroupObjectIds": [group]}})
    assert "is also in adminGroupObjectIds" in str(refused)
    parse(top={"access": {**access, "adminGroupObjectIds": [DEPLOYER]}})


# --- namespaces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agic", "apps", "key", "says"),
    [
        ("kube-system", [], "agic.namespace", "'kube-system' belongs to Kubernetes or AKS"),
        ("agic", [("shop", "default")], "workloads[1].namespace", "'default' belongs to"),
        ("agic", [("shop", None), ("agic", None)], "workloads[2].namespace", "AGIC's namespace"),
        ("edge", [("shop", "edge")], "workloads[1].namespace", "AGIC's namespace"),
        (
            "agic",
            [("shop", None), ("blog", "shop")],
            "workloads[2].namespace",
            "'shop' is already workloads[1]'s namespace",
        ),
    ],
)
def test_each_namespace_has_one_owner_outside_the_systems(
    agic: str, apps: list[tuple[str, str | None]], key: str, says: str
) -> None:
    workloads: list[dict[str, Any]] = [{"name": "accounts", "image": APP, "path": "/accounts"}]
    for name, namespace in apps:
        workloads.append({"name": name, "image": APP, "path": f"/{name}", "namespace": namespace})
    refused = refusal(workloads=workloads, top={"agic": {"namespace": agic}})
    assert refused.key == key
    assert says in str(refused)


def test_apps_in_namespaces_of_their_own_beside_agics_are_accepted() -> None:
    # Namespaces that sort before and after AGIC's, and AGIC's own name built at run time.
    agic = "".join(["ag", "ic"])
    cfg = parse(
        workloads=[
            {"name": "accounts", "image": APP, "path": "/a"},
            {"name": "shop", "image": APP, "path": "/s", "namespace": "agic-shop"},
        ],
        top={"agic": {"namespace": agic}},
    )
    assert [w.resolved_namespace for w in cfg.workloads] == ["accounts", "agic-shop"]


# --- the preStop sleep -----------------------------------------------------------------------


def test_a_cluster_before_1_30_cannot_run_the_prestop_sleep_unless_retired() -> None:
    refused = refusal(green={"kubernetesVersion": "1.29"})
    assert refused.key == "clusters.green.kubernetesVersion"
    assert "use 1.30 or later" in str(refused)
    parse(green={"kubernetesVersion": "1.30"})
    parse(green={"kubernetesVersion": "1.29", "enabled": False})


# --- certificates and DNS --------------------------------------------------------------------

SECRET = "https://shop-kv.vault.azure.net/secrets/"


def certificates(*names: str) -> dict[str, Any]:
    return {
        "certificates": [
            {"name": n, "keyVaultSecretId": SECRET + n, "keyVaultResourceGroup": "kv"}
            for n in names
        ]
    }


def test_a_certificate_name_used_twice_is_refused() -> None:
    refused = refusal(top={"gateway": certificates("a", "b", "a")})
    assert refused.key == "gateway.certificates[2].name"
    assert "'a' is used twice" in str(refused)


def test_an_app_names_a_certificate_the_gateway_has_and_a_host_for_it() -> None:
    plain = {"name": "blog", "image": APP, "path": "/blog"}
    tls = {"name": "shop", "image": APP, "host": "shop.example.com", "tls": {"certificate": "b"}}
    cfg = parse(workloads=[plain, tls], top={"gateway": certificates("a", "b")})
    assert config.rules.unused_certificates(cfg) == [
        "gateway.certificates[0]: 'a' is installed on the gateway but no workload names it in "
        "tls.certificate; remove it once nothing uses it"
    ]
    # After an app without tls, the next one's certificate is still checked.
    refused = refusal(
        workloads=[plain, {**tls, "tls": {"certificate": "c"}}],
        top={"gateway": certificates("a", "b")},
    )
    assert refused.key == "workloads[1].tls.certificate"
    assert "'c' is not defined on the gateway (defined: a, b)" in str(refused)
    refused = refusal(workloads=[plain, tls])
    assert "'b' is not defined on the gateway; add it" in str(refused)
    hostless = {**tls, "host": None}
    refused = refusal(workloads=[plain, hostless], top={"gateway": certificates("b")})
    assert refused.key == "workloads[1].tls"
    assert "needs a host" in str(refused)


def test_with_dns_every_app_host_is_in_the_zone() -> None:
    dns = {"zone": "example.com", "resourceGroup": "dns-rg"}
    apps = [
        {"name": "any", "image": APP, "path": "/any"},
        {"name": "shop", "image": APP, "host": "shop.example.com"},
    ]
    parse(workloads=apps, top={"dns": dns})
    refused = refusal(
        workloads=[*apps, {"name": "blog", "image": APP, "host": "blog.example.org"}],
        top={"dns": dns},
    )
    assert refused.key == "workloads[2].host"
    assert "blog.example.org is not in the DNS zone example.com" in str(refused)


def test_an_app_named_like_agics_namespace_in_a_stack_file_is_refused() -> None:
    # Read from the file's text, as the program reads it: the name is a string of its own, equal
    # to AGIC's namespace but not the same object.
    [app] = json.loads(f'[{{"name": "agic", "image": "{APP}"}}]')
    refused = refusal(workloads=[app])
    assert refused.key == "workloads[0].namespace"
    assert "'agic' is AGIC's namespace (agic.namespace)" in str(refused)

"""Each limit of the config's cross-key rules at its edge: the last value accepted, the first one
refused, and the key and fix the refusal names."""

from __future__ import annotations

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
    **clusters: dict[str, Any],
) -> config.StackConfig:
    values: dict[str, Any] = {
        "active": "blue",
        "access": ACCESS,
        "clusters": {c: {**CLUSTERS[c], **clusters.get(c, {})} for c in CLUSTERS},
    }
    if network is not None:
        values["network"] = network
    if workloads is not None:
        values["workloads"] = workloads
    return config.parse(values)


def refusal(
    network: dict[str, Any] | None = None,
    workloads: list[dict[str, Any]] | None = None,
    **clusters: dict[str, Any],
) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as raised:
        parse(network, workloads, **clusters)
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

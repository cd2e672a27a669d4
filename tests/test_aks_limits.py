"""Values AKS would refuse mid-deployment are refused first, naming key, limit and source."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import config
from conftest import ACCESS, ROOT


def _parse(**cluster: Any) -> config.StackConfig:
    return config.parse(
        {
            "active": "blue",
            "access": ACCESS,
            "clusters": json.dumps(
                {
                    "blue": {"kubernetesVersion": "1.33", "subnetCidr": "10.240.0.0/16", **cluster},
                    "green": {"kubernetesVersion": "1.34", "subnetCidr": "10.241.0.0/16"},
                }
            ),
        }
    )


def _refusal(**cluster: Any) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as raised:
        _parse(**cluster)
    return raised.value


@pytest.mark.parametrize(
    ("cluster", "key", "says", "source"),
    [
        ({"maxPods": 9}, "maxPods", "below the minimum of 10", config.AKS_MAX_PODS),
        ({"maxPods": 251}, "maxPods", "above the maximum of 250", config.AKS_MAX_PODS),
        ({"nodeCount": 1}, "nodeCount", "below the minimum of 2", config.AKS_SYSTEM_POOLS),
        ({"nodeCount": 1001}, "nodeCount", "above the maximum of 1000", config.AKS_SYSTEM_POOLS),
        (
            {"nodeCount": 2, "maxPods": 14},
            "maxPods",
            "2 nodes x 14 pods is below the 30 pods an AKS system node pool must hold",
            config.AKS_MAX_PODS,
        ),
        ({"vmSize": "Standard_B4ms"}, "vmSize", "B-series", config.AKS_SYSTEM_POOLS),
        ({"vmSize": "Standard_B16als_v2"}, "vmSize", "B-series", config.AKS_SYSTEM_POOLS),
        ({"vmSize": "Standard_A1_v2"}, "vmSize", "too small", config.AKS_QUOTAS),
        ({"vmSize": "Standard_F1s"}, "vmSize", "too small", config.AKS_QUOTAS),
        ({"vmSize": "Standard_D2s_v5"}, "vmSize", "has 2 vCPUs", config.AKS_SYSTEM_POOLS),
        ({"vmSize": "Standard_D2ds_v5"}, "vmSize", "has 2 vCPUs", config.AKS_SYSTEM_POOLS),
        # A constrained-vCPU size: 4 vCPUs on paper, 2 usable.
        ({"vmSize": "Standard_E4-2ds_v5"}, "vmSize", "has 2 vCPUs", config.AKS_SYSTEM_POOLS),
        ({"vmSize": "D4s_v5"}, "vmSize", "not an Azure VM size", "Standard_D4ds_v5"),
    ],
)
def test_system_pool_values_aks_refuses_are_refused_with_limit_and_source(
    cluster: dict[str, Any], key: str, says: str, source: str
) -> None:
    refusal = _refusal(**cluster)
    assert refusal.key == f"clusters.blue.{key}"
    assert says in str(refusal) and source in str(refusal), str(refusal)


@pytest.mark.parametrize(
    "vm_size",
    [
        "Standard_D4s_v5",
        "Standard_D4ds_v5",
        "Standard_D8ads_v6",
        "Standard_E8-4ds_v5",
        "Standard_NC4as_T4_v3",
        "Standard_F4s_v2",
        # Older numbering: the name does not give the vCPUs, so AKS decides.
        "Standard_DS3_v2",
        "Standard_D11_v2",
    ],
)
def test_system_pool_sizes_aks_accepts_pass(vm_size: str) -> None:
    # Managed OS disks: whether a size holds an ephemeral one is checked on its own.
    cluster = _parse(vmSize=vm_size, osDiskType="Managed").clusters["blue"]
    assert cluster.vm_size == vm_size


def test_smallest_pool_aks_accepts_passes() -> None:
    cluster = _parse(nodeCount=2, maxPods=15).clusters["blue"]
    assert (cluster.node_count, cluster.max_pods) == (2, 15)
    assert _parse(maxPods=250).clusters["blue"].max_pods == 250


@pytest.mark.parametrize(("capacity", "says"), [(0, "minimum of 1"), (126, "maximum of 125")])
def test_gateway_capacity_outside_manual_scale_is_refused(capacity: int, says: str) -> None:
    with pytest.raises(config.ConfigError) as raised:
        config.parse(
            {"active": "blue", "access": ACCESS, "gateway": json.dumps({"capacity": capacity})}
        )
    assert raised.value.key == "gateway.capacity"
    assert says in str(raised.value) and config.APPGW_SCALING in str(raised.value)


def test_service_range_larger_than_kubernetes_allows_is_refused() -> None:
    network = {"serviceCidr": "10.0.0.0/11", "dnsServiceIp": "10.0.0.10"}
    with pytest.raises(config.ConfigError, match="larger than a /12") as raised:
        config.parse({"active": "blue", "access": ACCESS, "network": json.dumps(network)})
    assert raised.value.key == "network.serviceCidr"
    network["serviceCidr"] = "10.0.0.0/12"
    config.parse({"active": "blue", "access": ACCESS, "network": json.dumps(network)})


def test_gateway_sku_message_offers_exactly_what_validation_and_docs_accept() -> None:
    offered = config.gateway_skus()
    for sku in offered:
        config.parse({"active": "blue", "access": ACCESS, "gateway": json.dumps({"sku": sku})})
    with pytest.raises(config.ConfigError) as raised:
        config.parse(
            {"active": "blue", "access": ACCESS, "gateway": json.dumps({"sku": "Standard"})}
        )
    assert str(raised.value).endswith(f"is not offered; use {' or '.join(offered)}")
    reference = (ROOT / "docs" / "configuration.md").read_text().splitlines()
    [row] = [line for line in reference if line.startswith("| `gateway.sku` |")]
    assert set(re.findall(r"\b\w+_v2\b", row)) == set(offered), row


# --- names built from namePrefix, the stack name and the region ---------------------------------

_ARM_CLUSTER_NAME = re.compile(r"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")
_DNS_PREFIX = re.compile(r"^[a-zA-Z0-9]([-a-zA-Z0-9]{0,52}[a-zA-Z0-9])?$")
_DEFAULTS = config.parse({"active": "blue", "access": ACCESS})


_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ALNUM = _LOWER + "0123456789"


@settings(max_examples=100)
@given(
    prefix=st.builds(
        str.__add__, st.sampled_from(_LOWER), st.text(_ALNUM, min_size=1, max_size=11)
    ),
    stack=st.builds(
        lambda ends, middle: ends[0] + middle + ends[1],
        st.tuples(st.sampled_from(_ALNUM), st.sampled_from(_ALNUM)),
        st.text(_ALNUM + "-", max_size=40),
    ),
    location=st.sampled_from(["westeurope", "eastus", "australiasoutheast", "uaenorth"]),
)
def test_an_accepted_stack_name_gives_names_aks_accepts(
    prefix: str, stack: str, location: str
) -> None:
    # Only namePrefix and location enter the names; both are drawn from their valid forms.
    cfg = _DEFAULTS.model_copy(update={"name_prefix": prefix, "location": location})
    try:
        name = config.resource_prefix(cfg, stack)
    except config.StackNameError as err:
        assert "at most" in str(err) and config.AKS_NAMING in str(err)
        for color in config.COLORS:
            if len(config.node_resource_group(f"{prefix}-{stack}", color, location)) > 80:
                break
        else:
            pytest.fail(f"{stack!r} refused although every name fits: {err}")
        return
    for color in config.COLORS:
        # Cluster name and DNS prefix are both `<prefix>-<color>` (components/cluster.py).
        assert _ARM_CLUSTER_NAME.match(f"{name}-{color}")
        assert _DNS_PREFIX.match(f"{name}-{color}")
        assert len(config.node_resource_group(name, color, location)) <= 80


def test_the_longest_stack_name_the_message_offers_is_accepted() -> None:
    cfg = config.parse({"active": "blue", "access": ACCESS})
    with pytest.raises(config.StackNameError, match="at most 22 characters") as raised:
        config.resource_prefix(cfg, "s" * 23)
    assert "MC_aksbg-" in str(raised.value)
    assert config.resource_prefix(cfg, "s" * 22) == "aksbg-" + "s" * 22

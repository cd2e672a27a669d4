"""The clusters' production posture: zones, ephemeral OS disks, pod density with honest address
math, Cilium network policy, and patch and node-image upgrades in windows that never coincide."""

from __future__ import annotations

from typing import Any

import pytest

import config
from conftest import ACCESS, STACK, by_name, with_overrides
from plan.evaluate import Evaluation, evaluate

COLORS = ("blue", "green")
WINDOWS = {
    "blue": {
        "aksManagedAutoUpgradeSchedule": "Monday",
        "aksManagedNodeOSUpgradeSchedule": "Tuesday",
    },
    "green": {
        "aksManagedAutoUpgradeSchedule": "Wednesday",
        "aksManagedNodeOSUpgradeSchedule": "Thursday",
    },
}
# What a cluster built before these defaults was sent; pinning them keeps such a cluster as is.
PINNED_AS_BUILT = {
    "vmSize": "Standard_D4s_v5",
    "osDiskType": "Managed",
    "availabilityZones": [],
    "maxPods": 30,
    "networkPolicy": "none",
    "encryptionAtHost": False,
}


def parse(**clusters: dict[str, Any]) -> config.StackConfig:
    base = {
        "blue": {"kubernetesVersion": "1.33", "subnetCidr": "10.240.0.0/16"},
        "green": {"kubernetesVersion": "1.34", "subnetCidr": "10.241.0.0/16"},
    }
    for color, extra in clusters.items():
        base[color] = {**base[color], **extra}
    return config.parse({"active": "blue", "access": ACCESS, "clusters": base})


def window(day: str, start: str, hours: int = 4, offset: str = "+00:00") -> dict[str, Any]:
    return {"day": day, "startTime": start, "durationHours": hours, "utcOffset": offset}


# --- what the program sends ------------------------------------------------------------------


def test_node_pools_span_zones_on_ephemeral_disks_with_room_for_pods(stack: Evaluation) -> None:
    for color in COLORS:
        [pool] = by_name(stack, f"{color}-aks").inputs["agentPoolProfiles"]
        assert pool["availabilityZones"] == ["1", "2", "3"]
        assert (pool["vmSize"], pool["osDiskType"]) == ("Standard_D4ds_v5", "Ephemeral")
        assert pool["maxPods"] == 110
        assert pool["upgradeSettings"] == {"maxSurge": "1"}
        assert pool["enableEncryptionAtHost"] is True
        # Apps read Key Vault secrets through the CSI driver, re-read when they change.
        assert by_name(stack, f"{color}-aks").inputs["addonProfiles"][
            "azureKeyvaultSecretsProvider"
        ] == {
            "enabled": True,
            "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        }
        # AKS fixes these when the pool is created: a change rebuilds the cluster, deleting first.
        aks = by_name(stack, f"{color}-aks")
        assert set(aks.replace_on_changes) >= {
            f"agentPoolProfiles[*].{field}"
            for field in (
                "vmSize",
                "osDiskType",
                "availabilityZones",
                "maxPods",
                "enableEncryptionAtHost",
            )
        }
        assert aks.delete_before_replace


def test_patch_and_node_image_upgrades_come_only_in_each_clusters_windows(
    stack: Evaluation,
) -> None:
    for color in COLORS:
        aks = by_name(stack, f"{color}-aks")
        assert aks.inputs["autoUpgradeProfile"] == {
            "upgradeChannel": "patch",
            "nodeOSUpgradeChannel": "NodeImage",
        }
        configs = [
            r
            for r in stack.of_type("azure-native:containerservice:MaintenanceConfiguration")
            if r.inputs["resourceName"] == f"aksbg-prod-{color}"
        ]
        assert {c.inputs["configName"]: c.inputs["maintenanceWindow"] for c in configs} == {
            name: {
                "schedule": {"weekly": {"dayOfWeek": day, "intervalWeeks": 1}},
                "startTime": "02:00",
                "durationHours": 4,
                "utcOffset": "+00:00",
            }
            for name, day in WINDOWS[color].items()
        }
        for maintenance in configs:
            assert aks.urn in maintenance.dependencies
            assert maintenance.parent == by_name(stack, color).urn


def test_pinned_settings_keep_a_cluster_as_built_and_unknown_sizes_are_flagged() -> None:
    # A well-formed size of a series the catalog does not list: let through, with a note.
    clusters = {"blue": PINNED_AS_BUILT, "green": {"vmSize": "Standard_D4ds_v6"}}
    stack = evaluate(with_overrides("blue", {"clusters": clusters}), STACK)
    blue = by_name(stack, "blue-aks").inputs
    [pool] = blue["agentPoolProfiles"]
    assert "availabilityZones" not in pool
    assert (
        pool["vmSize"],
        pool["osDiskType"],
        pool["maxPods"],
        pool["enableEncryptionAtHost"],
    ) == (
        "Standard_D4s_v5",
        "Managed",
        30,
        False,
    )
    assert not {"networkPolicy", "networkDataplane"} & set(blue["networkProfile"])
    [warning] = [w for w in stack.warnings if "temp disk" in w]
    assert warning.startswith(
        "aks-bluegreen:clusters.green.vmSize: Standard_D4ds_v6 is not in the VM size catalog"
    )
    assert "osDiskType: Managed" in warning


# --- what the config refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "key", "fix"),
    [
        ({"vmSize": "Standard_D4s_v5"}, "vmSize", "e.g. Standard_D4ds_v5) or set osDiskType"),
        ({"availabilityZones": [1, 4]}, "availabilityZones", "use [] in a region without zones"),
        ({"availabilityZones": ["2", "2"]}, "availabilityZones", "list each zone once"),
        (
            # 65 x 251 + 5 would fit the 16,384 addresses; with the 5 surge nodes it does not.
            {"nodeCount": 64, "maxSurge": 5, "maxPods": 250, "subnetCidr": "10.240.0.0/18"},
            "subnetCidr",
            "needs 17324 for 64 nodes (+5 upgrade surge) x 251",
        ),
        (
            {"maintenance": {"patch": {"day": "Monday", "startTime": 1320}}},
            "maintenance.patch.startTime",
            'quoted in YAML, e.g. "22:00"',
        ),
        (
            {"maintenance": {"nodeImage": window("Tuesday", "02:00", hours=3)}},
            "maintenance.nodeImage.durationHours",
            "3 is below the minimum of 4 (AKS: learn.microsoft.com/azure/aks/planned-maintenance)",
        ),
    ],
    ids=[
        "no temp disk",
        "zone 4",
        "zone twice",
        "surge counted",
        "unquoted clock",
        "short window",
    ],
)
def test_cluster_settings_aks_would_refuse_are_refused_by_name(
    cluster: dict[str, Any], key: str, fix: str
) -> None:
    with pytest.raises(config.ConfigError) as raised:
        parse(blue=cluster)
    assert raised.value.key == f"clusters.blue.{key}"
    assert fix in str(raised.value)


def test_managed_os_disks_take_any_size_and_regional_pools_no_zones() -> None:
    cfg = parse(blue=PINNED_AS_BUILT)
    assert cfg.clusters["blue"].availability_zones == ()
    assert cfg.clusters["blue"].os_disk_note() is None


def test_default_windows_never_overlap() -> None:
    cfg = parse()
    windows = [
        getattr(cfg.clusters[color].maintenance, kind)
        for color in COLORS
        for kind in ("patch", "node_image")
    ]
    for i, first in enumerate(windows):
        for second in windows[i + 1 :]:
            assert not first.overlaps(second)


@pytest.mark.parametrize(
    ("green", "blue", "overlap"),
    [
        # The same UTC minutes written in two offsets.
        (window("Monday", "04:00", offset="+02:00"), window("Monday", "02:00"), True),
        # Back to back: the first ends as the second starts.
        (window("Monday", "06:00"), window("Monday", "02:00"), False),
        (window("Monday", "05:59"), window("Monday", "02:00"), True),
        # A Sunday-night window runs into Monday morning UTC.
        (window("Sunday", "22:00", hours=8), window("Monday", "05:00"), True),
        (window("Sunday", "22:00", hours=6), window("Monday", "05:00"), False),
        # Monday 01:00 at UTC+03:00 is Sunday 22:00 UTC.
        (window("Monday", "01:00", offset="+03:00"), window("Sunday", "23:00"), True),
        (window("Monday", "01:00", offset="-03:00"), window("Sunday", "23:00", hours=5), False),
    ],
)
def test_windows_are_compared_in_utc_around_the_week(
    green: dict[str, Any], blue: dict[str, Any], overlap: bool
) -> None:
    away = window("Friday", "12:00")
    clusters = {
        "blue": {"maintenance": {"patch": blue, "nodeImage": away}},
        "green": {"maintenance": {"patch": green, "nodeImage": window("Saturday", "12:00")}},
    }
    if not overlap:
        parse(**clusters)
        return
    with pytest.raises(config.ConfigError) as raised:
        parse(**clusters)
    assert raised.value.key == "clusters.green.maintenance.patch"
    assert "overlaps aks-bluegreen:clusters.blue.maintenance.patch" in str(raised.value)


def test_a_retired_clusters_windows_do_not_block_the_other() -> None:
    same = {"maintenance": {"patch": window("Monday", "02:00")}}
    parse(blue=same, green={**same, "enabled": False})
    with pytest.raises(config.ConfigError, match="AKS could upgrade both clusters at once"):
        parse(blue=same, green=same)

"""Checks of the config against the offline catalogs: what the catalog says cannot exist.

Each refusal names the value, the nearest valid ones and the catalog's source and date, so a
user can tell a typo from a catalog that is out of date (docs/catalogs.md says how to refresh).
Single values are checked from the model's validators; the checks across keys run with the
model's other rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.catalogs import agic_chart, did_you_mean, kubernetes_versions, regions, vm_sizes
from config.limits import APPGW_SUBNET_SIZING
from config.values import COLORS, ConfigError, version_key

if TYPE_CHECKING:
    from config.model import StackConfig


def _catalog(module: object) -> str:
    return f"catalog of {module.TAKEN.isoformat()}: {module.SOURCE}"  # type: ignore[attr-defined]


def known_kubernetes_version(value: str) -> str:
    """A version whose minor AKS has released and whose patch can exist."""
    minor = kubernetes_versions.minor_of(value)
    release = kubernetes_versions.BY_MINOR.get(minor)
    newest = kubernetes_versions.MINORS[-1]
    if release is None:
        if version_key(minor) > newest.key:
            raise ValueError(
                f"{value!r}: AKS has released no Kubernetes {minor}; the newest minor is "
                f"{newest.minor} ({_catalog(kubernetes_versions)})"
            )
        return value  # older than the catalog: long past end of life, judged by support_window
    patch = version_key(value)[2:]
    ceiling = release.patch_ceiling()
    if patch and ceiling is not None and patch[0] > ceiling:
        seen = f"{minor}.{release.newest_patch_seen}"
        raise ValueError(
            f"{value!r} cannot exist: the newest {minor} patch was {seen} "
            f"({release.newest_patch_seen_on}), and upstream Kubernetes stops patching {minor} "
            f"on {release.upstream_end_of_life}; write {minor!r} for AKS's latest patch "
            f"({_catalog(kubernetes_versions)})"
        )
    return value


def known_region(value: str) -> str:
    if value not in regions.BY_NAME:
        raise ValueError(
            f"{value!r} is not an Azure region; {did_you_mean(value, regions.BY_NAME)}"
            f"(`az account list-locations -o table` lists them; {_catalog(regions)})"
        )
    return value


def known_vm_size(value: str) -> str:
    """A size of a listed series must be one of its sizes; a name of no known shape is refused
    with its neighbours. A well-formed size of a series not listed passes: the preflight asks
    the region's SKU list."""
    if value in vm_sizes.SIZES:
        return value
    series = vm_sizes.series_of(value)
    if series in vm_sizes.SERIES:
        offered = ", ".join(series.format(cpus) for cpus in vm_sizes.SERIES[series])
        raise ValueError(
            f"{value} does not exist; its series comes in {offered} ({_catalog(vm_sizes)})"
        )
    if series is None:
        raise ValueError(
            f"{value} is not an Azure VM size; {did_you_mean(value, vm_sizes.SIZES)}"
            f"write it like Standard_D4ds_v5 ({_catalog(vm_sizes)})"
        )
    return value


def published_chart_version(value: str) -> str:
    if value not in agic_chart.PUBLISHED:
        newest = agic_chart.PUBLISHED[-1]
        raise ValueError(
            f"{value} was never published as the AGIC chart; "
            f"{did_you_mean(value, agic_chart.PUBLISHED)}the newest is {newest} "
            f"({_catalog(agic_chart)})"
        )
    return value


def check(cfg: StackConfig) -> None:
    """The catalog checks across keys, after the model's own rules."""
    _check_zones_exist(cfg)
    _check_gateway_subnet_holds_capacity(cfg)


def _check_zones_exist(cfg: StackConfig) -> None:
    region = regions.BY_NAME.get(cfg.location)
    if region is None or region.has_zones:
        return
    asked: list[tuple[str, tuple[str, ...]]] = [("gateway.zones", cfg.gateway.zones)]
    asked += [
        (f"clusters.{color}.availabilityZones", cfg.clusters[color].availability_zones)
        for color in COLORS
    ]
    for key, zones in asked:
        if zones:
            raise ConfigError(
                key,
                f"{list(zones)} asks for zones, but {cfg.location} ({region.display_name}) has "
                f"no availability zones; set {key.rsplit('.', 1)[1]}: [] or pick a region with "
                f"zones ({_catalog(regions)})",
            )


def _check_gateway_subnet_holds_capacity(cfg: StackConfig) -> None:
    # configuration-infrastructure.md, "Size of the subnet": one private address per instance,
    # plus one for a private frontend (this program configures none), plus the five Azure keeps
    # in every subnet.
    subnet = cfg.network.gateway_subnet_cidr
    needed = cfg.gateway.capacity + 5
    if subnet.num_addresses < needed:
        fits = max(32 - (needed - 1).bit_length(), 0)
        raise ConfigError(
            "network.gatewaySubnetCidr",
            f"{subnet} has {subnet.num_addresses} addresses, but gateway.capacity "
            f"{cfg.gateway.capacity} takes one per instance plus the 5 Azure keeps ({needed}); "
            f"use a /{min(fits, 26)} or larger, or lower the capacity ({APPGW_SUBNET_SIZING})",
        )

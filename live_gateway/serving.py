"""Whether the live gateway serves the active cluster, judged on ARM's own JSON.

Pure functions over the REST shapes of ApplicationGateways Get and BackendHealth
(azure-rest-api-specs, specification/network/resource-manager/Microsoft.Network/stable/2024-07-01/
examples/ApplicationGatewayGet.json and ApplicationGatewayBackendHealthGet.json), so what they
decide is independent of the client library's model classes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, ip_address
from typing import Any

SUCCEEDED = "Succeeded"

# ARM's enum for a server's health is Unknown, Up, Down, Partial, Draining
# (ApplicationGatewayBackendHealthServerHealth in applicationGateway.json; azure-mgmt-network
# 33.1.0 models/_enums.py). The portal, `az network application-gateway show-backend-health` and
# Get-AzApplicationGatewayBackendHealth show the same state as Healthy/Unhealthy, so both
# spellings of "serving" are accepted; anything else (Down, Partial, Draining, Unknown) is not.
SERVING_HEALTH = frozenset({"up", "healthy"})
# What a server reported without a health field, or not reported at all, is: not known to serve.
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Expectation:
    """What "the gateway serves the active cluster" means for this stack."""

    active: str
    # color -> CIDR of its cluster subnet (Azure CNI: pod IPs, so backend addresses, live there)
    subnets: Mapping[str, str]
    # AGIC's names of the pools for the configured apps
    pools: tuple[str, ...]
    # Where an operator looks when AGIC has not written the gateway.
    controller_logs: str

    @property
    def standby(self) -> str:
        return next(color for color in sorted(self.subnets) if color != self.active)


@dataclass(frozen=True)
class Sighting:
    """One look at the gateway: its provisioning state, the app pools, and their health."""

    provisioning_state: str
    # Configured pool name -> its backend addresses; a pool that is not on the gateway is absent.
    pools: Mapping[str, tuple[str, ...]]
    # Address -> health; None when backend health was not read (the pools were already wrong).
    health: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Verdict:
    serving: bool
    # What is wrong, as counted ("3 of 3 addresses still in blue's subnet 10.240.0.0/16") ...
    finding: str = ""
    # ... and what it means, with where to look.
    cause: str = ""
    seen: dict[str, Any] = field(default_factory=dict)
    # The pools are right and only backend health, not read yet, can still say no.
    needs_health: bool = False


def _address(entry: Any) -> str:
    # ARM's schema has {"ipAddress": ...} or {"fqdn": ...}; the Get example lists bare strings.
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping):
        return str(entry.get("ipAddress") or entry.get("fqdn") or "")
    return ""


def gateway_pools(gateway: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Every backend pool on the gateway: name -> addresses."""
    pools: dict[str, tuple[str, ...]] = {}
    for pool in (gateway.get("properties") or {}).get("backendAddressPools") or []:
        entries = (pool.get("properties") or {}).get("backendAddresses") or []
        pools[str(pool.get("name", ""))] = tuple(a for a in map(_address, entries) if a)
    return pools


def _last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def health_by_address(
    health: Mapping[str, Any],
    pools: Sequence[str],
    listed: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """Address -> health for the servers of `pools`; the worst entry wins when one repeats.

    An address is listed once per HTTP setting of its pool, so one address can appear healthy
    for one setting and down for another: then it does not serve every route. `listed` (pool ->
    the addresses the gateway has in it) makes an address that health does not report under that
    same pool Unknown: its probe there has not run, whatever another pool says of the address.
    """
    wanted = {name.casefold() for name in pools}
    found: dict[str, str] = {}
    reported: dict[str, set[str]] = {name: set() for name in wanted}
    for entry in health.get("backendAddressPools") or []:
        pool_id = str((entry.get("backendAddressPool") or {}).get("id", ""))
        # ARM names are case-insensitive; the spec's own example spells the segment
        # "backendaddressPools". The pool name is the last segment either way.
        pool = _last_segment(pool_id).casefold()
        if pool not in wanted:
            continue
        for settings in entry.get("backendHttpSettingsCollection") or []:
            for server in settings.get("servers") or []:
                address = str(server.get("address", ""))
                state = str(server.get("health", UNKNOWN))
                reported[pool].add(address)
                _worst(found, address, state)
    for name, addresses in (listed or {}).items():
        for address in addresses:
            if address not in reported.get(name.casefold(), set()):
                _worst(found, address, UNKNOWN)
    return found


def _worst(found: dict[str, str], address: str, state: str) -> None:
    # A state that does not serve is kept: a later healthy entry cannot undo it.
    if found.get(address, "Up").casefold() in SERVING_HEALTH:
        found[address] = state


def sighting(
    gateway: Mapping[str, Any], pools: Sequence[str], health: Mapping[str, Any] | None = None
) -> Sighting:
    on_gateway = {name.casefold(): addresses for name, addresses in gateway_pools(gateway).items()}
    present = {name: on_gateway[name.casefold()] for name in pools if name.casefold() in on_gateway}
    return Sighting(
        provisioning_state=str((gateway.get("properties") or {}).get("provisioningState", "")),
        pools=present,
        health=None if health is None else health_by_address(health, pools, present),
    )


def addresses_in(gateway: Mapping[str, Any], cidr: str) -> list[str]:
    """Every backend address of every pool on the gateway that lies inside `cidr`."""
    network = IPv4Network(cidr)
    inside: set[str] = set()
    for addresses in gateway_pools(gateway).values():
        inside.update(a for a in addresses if _in(a, network))
    return sorted(inside, key=_sort_key)


def _in(address: str, network: IPv4Network) -> bool:
    try:
        return ip_address(address) in network
    except ValueError:  # an FQDN backend is in no subnet
        return False


def _sort_key(address: str) -> tuple[int, str]:
    try:
        return (int(ip_address(address)), "")
    except ValueError:
        return (1 << 128, address)


def _listing(addresses: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(addresses[:limit])
    return shown + (f" and {len(addresses) - limit} more" if len(addresses) > limit else "")


def judge(expect: Expectation, seen: Sighting) -> Verdict:
    """Serving iff: provisioning Succeeded; every app pool present with addresses, all inside the
    active subnet and none in the other's; each of them healthy in backend health."""
    active, standby = expect.active, expect.standby
    active_net, standby_net = (
        IPv4Network(expect.subnets[active]),
        IPv4Network(expect.subnets[standby]),
    )
    agic = f"AGIC on {active} has not written the gateway ({expect.controller_logs})"
    addresses = sorted({a for pool in seen.pools.values() for a in pool}, key=_sort_key)
    in_active = [a for a in addresses if _in(a, active_net)]
    in_standby = [a for a in addresses if _in(a, standby_net)]
    elsewhere = [a for a in addresses if a not in in_active and a not in in_standby]
    summary: dict[str, Any] = {
        "provisioningState": seen.provisioning_state,
        "pools": {name: list(pool) for name, pool in sorted(seen.pools.items())},
        "addresses": {active: in_active, standby: in_standby, "elsewhere": elsewhere},
    }
    if seen.health is not None:
        summary["health"] = dict(sorted(seen.health.items()))

    def no(finding: str, cause: str) -> Verdict:
        return Verdict(False, finding, cause, summary)

    if seen.provisioning_state != SUCCEEDED:
        return no(
            f"the gateway's provisioning state is {seen.provisioning_state or 'unknown'}",
            f"AGIC's last write has not finished or was refused ({expect.controller_logs})",
        )
    missing = [name for name in expect.pools if name not in seen.pools]
    if missing:
        return no(
            f"{len(missing)} of {len(expect.pools)} app pools are not on the gateway "
            f"({_listing(missing)})",
            f"{agic}, or the app has no ready endpoints in {active}",
        )
    empty = [name for name in expect.pools if not seen.pools[name]]
    if empty:
        return no(
            f"{len(empty)} of {len(expect.pools)} app pools have no backend address "
            f"({_listing(empty)})",
            f"the app has no endpoints in {active}, or {agic}",
        )
    if in_standby:
        mixed = f", {len(in_active)} in {active}'s" if in_active else ""
        return no(
            f"{len(in_standby)} of {len(addresses)} addresses still in {standby}'s subnet "
            f"{standby_net}{mixed}",
            agic,
        )
    if elsewhere:
        return no(
            f"{len(elsewhere)} of {len(addresses)} addresses are in neither cluster's subnet "
            f"({_listing(elsewhere)})",
            f"something other than AGIC on {active} writes these pools ({expect.controller_logs})",
        )
    if seen.health is None:
        return Verdict(False, "backend health not read yet", "", summary, needs_health=True)
    unhealthy = [
        a for a in in_active if seen.health.get(a, UNKNOWN).casefold() not in SERVING_HEALTH
    ]
    if unhealthy:
        states = [f"{a} {seen.health.get(a, UNKNOWN)}" for a in unhealthy]
        return no(
            f"{len(unhealthy)} of {len(in_active)} addresses in {active}'s subnet are not healthy "
            f"({_listing(states)})",
            f"the gateway's probes do not reach the app in {active}: check its readiness and "
            "`az network application-gateway show-backend-health`",
        )
    return Verdict(
        True,
        f"{len(in_active)} addresses in {active}'s subnet {active_net}, all healthy",
        "",
        summary,
    )

"""ARM's JSON for one Application Gateway, shaped as azure-rest-api-specs documents it.

ApplicationGateways Get (examples/ApplicationGatewayGet.json, 2024-07-01): each pool lists its
`backendAddresses` as {"ipAddress": ...} or {"fqdn": ...} (ApplicationGatewayBackendAddress in
applicationGateway.json); the example itself lists bare strings. BackendHealth
(examples/ApplicationGatewayBackendHealthGet.json): per pool, by ID (the example spells the segment
"backendaddressPools"), one entry per HTTP setting with its `servers`, each an `address` and a
`health` of Unknown, Up, Down, Partial or Draining. No network, no client: plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GATEWAY_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg/providers/"
    "Microsoft.Network/applicationGateways/aksbg-prod-appgw"
)
BLUE_NET, GREEN_NET = "10.240.0.0/16", "10.241.0.0/16"
SUBNETS = {"blue": BLUE_NET, "green": GREEN_NET}
POOL = "pool-aspnetapp-aspnetapp-80-bp-8080"
OTHER = "pool-web-web-80-bp-80"
BLUE = ("10.240.0.4", "10.240.0.5", "10.240.0.6")
GREEN = ("10.241.0.4", "10.241.0.5", "10.241.0.6")

# A pool address as ARM may give it: a bare string (the Get example), or either schema form.
Entry = str | Mapping[str, str]


def ip(address: str) -> dict[str, str]:
    return {"ipAddress": address}


def fqdn(name: str) -> dict[str, str]:
    return {"fqdn": name}


def gateway(
    pools: Mapping[str, Sequence[Entry]], state: str | None = "Succeeded"
) -> dict[str, Any]:
    """A Get response with AGIC's empty default pool beside `pools`; addresses given as strings
    become {"ipAddress"} entries, mappings are kept as they are."""
    every: dict[str, Sequence[Entry]] = {"defaultaddresspool": [], **pools}
    properties: dict[str, Any] = {
        "operationalState": "Running",
        "backendAddressPools": [
            {
                "name": name,
                "id": f"{GATEWAY_ID}/backendAddressPools/{name}",
                "properties": {
                    "provisioningState": "Succeeded",
                    "backendAddresses": [ip(a) if isinstance(a, str) else dict(a) for a in entries],
                },
            }
            for name, entries in every.items()
        ],
    }
    if state is not None:
        properties["provisioningState"] = state
    return {
        "name": "aksbg-prod-appgw",
        "id": GATEWAY_ID,
        "type": "Microsoft.Network/applicationGateways",
        "properties": properties,
    }


# One HTTP setting's servers: address -> health, None for a server that carries no health field.
Servers = Mapping[str, str | None]


def health(
    pools: Mapping[str, Sequence[Servers]], segment: str = "backendaddressPools"
) -> dict[str, Any]:
    """A BackendHealth result: pool name -> one `servers` map per HTTP setting of the pool."""

    def server(address: str, state: str | None) -> dict[str, Any]:
        return {"address": address} if state is None else {"address": address, "health": state}

    return {
        "backendAddressPools": [
            {
                "backendAddressPool": {"id": f"{GATEWAY_ID}/{segment}/{name}"},
                "backendHttpSettingsCollection": [
                    {
                        "backendHttpSettings": {
                            "id": f"{GATEWAY_ID}/backendHttpSettingsCollection/bp-{name}-{n}"
                        },
                        "servers": [server(a, h) for a, h in servers.items()],
                    }
                    for n, servers in enumerate(settings)
                ],
            }
            for name, settings in pools.items()
        ]
    }


def up(addresses: Sequence[str], state: str = "Up") -> dict[str, str | None]:
    return dict.fromkeys(addresses, state)

"""The live gateway as the cut-over verification and the retire guard read it, on loopback ARM.

AGIC itself does not run here (see docs/e2e.md), so what it would have written is modelled from
the stand-in cloud (e2e/stand_in_provider.py): the cluster that holds the AGIC Helm release
writes one pool per Service (AGIC's pool name, components/agic.py backend_pool_name) with that
cluster's pod addresses from its subnet; with no release the gateway keeps what was last
written (AGIC leaves it configured when uninstalled); `freeze` makes AGIC never write, the
"AGIC on the new cluster has not written the gateway" failure. The same server answers the
preflight's reads of the subscription and the chart registry as a subscription that may deploy
the sample does (tests/loopback_subscription.py). The answers have the shapes the
tests' loopback ARM serves (tests/loopback_arm.py, from azure-rest-api-specs' examples), over
TLS with a throwaway CA, behind the same bearer token and fake `az`.
"""

from __future__ import annotations

import ipaddress
import json
import sys
import threading
from pathlib import Path
from typing import Any

import trustme

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from components.agic import backend_pool_name  # noqa: E402
from e2e.chart_registry import ChartRegistry  # noqa: E402
from e2e.clusters import LocalClusters  # noqa: E402
from e2e.stand_in_provider import Cloud  # noqa: E402
from loopback_arm import TOKEN, arm_error, fake_az  # noqa: E402
from loopback_subscription import answer, default_answers  # noqa: E402
from loopback_tls import TlsJsonServer  # noqa: E402

RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CLUSTER = "azure-native:containerservice:ManagedCluster"
SUBNET = "azure-native:network:Subnet"
GATEWAY = "azure-native:network:ApplicationGateway"


def _on(key: str) -> tuple[str, str]:
    """The cluster a stored object is in, and its ID (stand_in_provider.py's keys)."""
    server, _, rest = key.partition("|")
    return (server, rest.partition("|")[2]) if rest else ("", server)


def agic_writes(
    data: dict[str, Any], clusters: LocalClusters | None = None
) -> dict[str, list[str]]:
    """The pools AGIC in the cluster holding its release writes: pool -> pod addresses."""
    if clusters is not None:
        return _agic_writes_from(clusters, data)
    resources = data["resources"]
    # An AGIC whose cluster is unreachable does not write: the break-glass has revoked its
    # federated credential (README, "Break glass"); its release stays in the dead cluster.
    servers = {
        _on(k)[0]
        for k, r in resources.items()
        if r["type"] == RELEASE and _on(k)[0] not in data["unreachable"]
    }
    if len(servers) != 1 or data.get("agicFrozen"):
        return dict(data.get("gatewayPools") or {})
    [server] = servers
    host = server.removeprefix("https://").split(":")[0]
    cluster = next(
        r["outputs"]
        for r in resources.values()
        if r["type"] == CLUSTER and r["outputs"].get("fqdn") == host
    )
    subnet_id = cluster["agentPoolProfiles"][0]["vnetSubnetID"]
    subnet = resources[subnet_id]["inputs"]
    network = ipaddress.ip_network(subnet["addressPrefix"])
    pools: dict[str, list[str]] = {}
    for key, r in resources.items():
        if r["type"] != SERVICE or _on(key)[0] != server:
            continue
        meta, spec = r["inputs"]["metadata"], r["inputs"]["spec"]
        port = spec["ports"][0]
        replicas = next(
            int(d["inputs"]["spec"].get("replicas", 1))
            for k, d in resources.items()
            if d["type"] == DEPLOYMENT
            and _on(k)[0] == server
            and d["inputs"]["metadata"]["name"] == meta["name"]
        )
        name = backend_pool_name(
            meta["namespace"], meta["name"], int(port["port"]), int(port["targetPort"])
        )
        pools[name] = [str(network.network_address + 4 + i) for i in range(replicas)]
    data["gatewayPools"] = pools
    return pools


def _agic_writes_from(clusters: LocalClusters, data: dict[str, Any]) -> dict[str, list[str]]:
    """AGIC as it runs in a real cluster: only where its Deployment exists, one pool per
    Service an Ingress routes to, with the ready endpoint addresses of that Service (AGIC 1.9.8
    pkg/appgw/backendaddresspools.go reads the Service's endpoints)."""
    holders = [c for c in clusters.planes if clusters.reachable(c) and clusters.holds_agic(c)]
    if len(holders) != 1 or data.get("agicFrozen"):
        return dict(data.get("gatewayPools") or {})
    [color] = holders
    services = {
        (s["metadata"]["namespace"], s["metadata"]["name"]): s
        for s in clusters.items(color, "/api/v1/services")
    }
    ready: dict[tuple[str, str], list[str]] = {}
    for piece in clusters.items(color, "/apis/discovery.k8s.io/v1/endpointslices"):
        service = (piece.get("metadata", {}).get("labels") or {}).get("kubernetes.io/service-name")
        for endpoint in piece.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready"):
                ready.setdefault((piece["metadata"]["namespace"], str(service)), []).extend(
                    endpoint.get("addresses") or []
                )
    pools: dict[str, list[str]] = {}
    for ingress in clusters.items(color, "/apis/networking.k8s.io/v1/ingresses"):
        namespace = ingress["metadata"]["namespace"]
        for rule in ingress["spec"].get("rules") or []:
            for route in (rule.get("http") or {}).get("paths") or []:
                backend = route["backend"]["service"]
                service = services.get((namespace, backend["name"]))
                if service is None:
                    continue
                port = next(
                    p for p in service["spec"]["ports"] if p["port"] == backend["port"]["number"]
                )
                name = backend_pool_name(
                    namespace, backend["name"], int(port["port"]), int(port["targetPort"])
                )
                pools[name] = sorted(ready.get((namespace, backend["name"]), []))
    data["gatewayPools"] = pools
    return pools


class GatewayModel:
    def __init__(
        self,
        cloud: Cloud,
        work: Path,
        clusters: LocalClusters | None = None,
        registry: ChartRegistry | None = None,
    ) -> None:
        self.cloud = cloud
        self.clusters = clusters
        self.registry = registry
        ca = trustme.CA()
        self.ca_path = work / "loopback-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.bin = work / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        fake_az(self.bin)
        self.gets = 0
        self._operations: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = TlsJsonServer(ca, self._respond)
        self.url = self._server.url

    def freeze(self, frozen: bool) -> None:
        with self.cloud.state() as data:
            data["agicFrozen"] = frozen

    def close(self) -> None:
        self._server.close()

    def _respond(
        self, method: str, path: str, headers: dict[str, str], _body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if self.registry is not None:
            pulled = self.registry.answer(method, path)
            if pulled is not None:
                return pulled
        # The preflight's reads: the sample's versions, VM size, feature and chart tags.
        preflight: tuple[int, dict[str, str], Any] | None = answer(
            default_answers(), method, path, headers
        )
        if preflight is not None:
            return preflight
        if headers.get("Authorization", "") != f"Bearer {TOKEN}":
            return 401, {}, arm_error(401)
        route = path.split("?", 1)[0]
        if method == "GET" and "/operationResults/" in route:
            with self._lock:
                result = self._operations.get(route.rsplit("/", 1)[-1])
            return (200, {}, result) if result is not None else (404, {}, arm_error(404))
        gateway_id = route.removesuffix("/backendhealth")
        with self.cloud.state() as data:
            stored = data["resources"].get(gateway_id)
            if stored is None or stored["type"] != GATEWAY:
                return 404, {}, arm_error(404)
            pools = agic_writes(data, self.clusters)
        if method == "GET" and route == gateway_id:
            self.gets += 1
            return 200, {}, _gateway(gateway_id, stored["outputs"], pools)
        if method == "POST" and route.endswith("/backendhealth"):
            with self._lock:
                operation = f"op{len(self._operations)}"
                self._operations[operation] = _health(gateway_id, pools)
            subscription = gateway_id.split("/")[2]
            location = (
                f"{self.url}/subscriptions/{subscription}/providers/Microsoft.Network/"
                f"locations/westeurope/operationResults/{operation}?api-version=2024-07-01"
            )
            return 202, {"Location": location, "Retry-After": "0"}, None
        return 404, {}, arm_error(404)


def _gateway(gateway_id: str, outputs: dict[str, Any], pools: dict[str, list[str]]) -> Any:
    every = {"defaultaddresspool": [], **pools}
    return {
        "name": outputs.get("name"),
        "id": gateway_id,
        "type": "Microsoft.Network/applicationGateways",
        "location": outputs.get("location"),
        "properties": {
            "provisioningState": "Succeeded",
            "operationalState": "Running",
            "sku": outputs.get("sku"),
            "backendAddressPools": [
                {
                    "name": name,
                    "id": f"{gateway_id}/backendAddressPools/{name}",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "backendAddresses": [{"ipAddress": a} for a in addresses],
                    },
                }
                for name, addresses in every.items()
            ],
        },
    }


def _health(gateway_id: str, pools: dict[str, list[str]]) -> Any:
    return {
        "backendAddressPools": [
            {
                "backendAddressPool": {"id": f"{gateway_id}/backendaddressPools/{name}"},
                "backendHttpSettingsCollection": [
                    {
                        "backendHttpSettings": {
                            "id": f"{gateway_id}/backendHttpSettingsCollection/bp-{name}"
                        },
                        "servers": [{"address": a, "health": "Healthy"} for a in addresses],
                    }
                ],
            }
            for name, addresses in pools.items()
        ]
    }


if __name__ == "__main__":
    print(json.dumps(agic_writes(json.loads(Path(sys.argv[1]).read_text())), indent=1))

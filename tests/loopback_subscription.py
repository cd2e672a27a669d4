"""The subscription-level reads of the preflight on a loopback: ARM and the chart registry.

The answers have the shapes azure-rest-api-specs documents (ContainerService
ManagedClusters_ListKubernetesVersions 2025-08-01, Compute ResourceSkus_List 2021-07-01, Features
Features_Get 2021-07-01) and the OCI distribution spec's tag list; the bodies are this project's
own. An unauthenticated ARM request gets ARM's 401; the registry needs no sign-in, as MCR's
anonymous pulls do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trustme

from loopback_arm import SUBSCRIPTION, TOKEN, arm_error, signed_in_cli
from loopback_tls import TlsJsonServer

REGION = "westeurope"
VERSIONS_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations/{REGION}/"
    "kubernetesVersions"
)
SKUS_PATH = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/skus"
FEATURE_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Features/providers/Microsoft.Compute/"
    "features/EncryptionAtHost"
)
TAGS_PATH = "/v2/azure-application-gateway/charts/ingress-azure/tags/list"


def versions() -> dict[str, Any]:
    def minor(version: str, patches: list[str]) -> dict[str, Any]:
        return {
            "version": version,
            "capabilities": {"supportPlan": ["KubernetesOfficial", "AKSLongTermSupport"]},
            "patchVersions": {patch: {"upgrades": []} for patch in patches},
        }

    return {
        "values": [
            minor("1.35", ["1.35.7", "1.35.8"]),
            minor("1.36", ["1.36.3", "1.36.4"]),
            {**minor("1.37", ["1.37.1"]), "isPreview": True},
        ]
    }


def sku(name: str, restrictions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "resourceType": "virtualMachines",
        "locations": [REGION],
        "capabilities": [{"name": "vCPUs", "value": "4"}, {"name": "MemoryGB", "value": "16"}],
        "locationInfo": [{"location": REGION, "zones": ["2", "1", "3"]}],
        "name": name,
        "tier": "Standard",
        "size": name.removeprefix("Standard_"),
        "family": "standardDDSv5Family",
        "restrictions": restrictions or [],
    }


def zone_restriction(zones: list[str]) -> dict[str, Any]:
    return {
        "type": "Zone",
        "values": [REGION],
        "restrictionInfo": {"locations": [REGION], "zones": zones},
        "reasonCode": "NotAvailableForSubscription",
    }


def skus(*entries: dict[str, Any]) -> dict[str, Any]:
    # A region's list holds other resource types too; the preflight reads virtualMachines only.
    disk = {"resourceType": "disks", "name": "Premium_LRS", "locations": [REGION]}
    return {"value": [disk, *entries], "nextLink": None}


def feature(state: str) -> dict[str, Any]:
    return {
        "properties": {"state": state},
        "id": FEATURE_PATH,
        "type": "Microsoft.Features/providers/features",
        "name": "Microsoft.Compute/EncryptionAtHost",
    }


def default_answers() -> dict[str, Any]:
    """What a subscription that may deploy the sample answers: its versions, its VM size in
    three zones, encryption at host registered, and the chart's tags with 1.9.8."""
    return {
        "versions": versions(),
        "skus": skus(sku("Standard_D4ds_v5")),
        "feature": feature("Registered"),
        "tags": {
            "name": "azure-application-gateway/charts/ingress-azure",
            "tags": ["1.9.6", "1.9.7", "1.9.8"],
        },
    }


def answer(
    answers: dict[str, Any], method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any] | None:
    """The scripted answer for a request the preflight makes, or None for any other route.
    An int answer is that ARM error status."""
    route, _, query = path.partition("?")
    name = None
    if route == TAGS_PATH:  # the registry needs no sign-in
        name = "tags"
    elif headers.get("Authorization") != f"Bearer {TOKEN}":
        return None
    elif method == "GET" and route == VERSIONS_PATH and "api-version=2025-08-01" in query:
        name = "versions"
    elif method == "GET" and route == SKUS_PATH and "api-version=2021-07-01" in query:
        name = "skus"
    elif method == "GET" and route == FEATURE_PATH and "api-version=2021-07-01" in query:
        name = "feature"
    if name is None:
        return None
    found = answers[name]
    return (found, {}, arm_error(found)) if isinstance(found, int) else (200, {}, found)


class LoopbackSubscription:
    """ARM and the chart registry on one TLS server; each route answers what it is scripted."""

    def __init__(self, ca: trustme.CA, ca_path: Path) -> None:
        self.ca_path = str(ca_path)
        self.answers: dict[str, Any] = {}
        self.requests: list[str] = []
        self._server = TlsJsonServer(ca, self._respond)
        self.url = self._server.url

    def script(self, **answers: Any) -> None:
        self.answers = {**default_answers(), **answers}
        self.requests.clear()

    def close(self) -> None:
        self._server.close()

    def _respond(
        self, method: str, path: str, headers: dict[str, str], _body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append(path)
        return answer(self.answers, method, path, headers) or (404, {}, arm_error(404))


def serve_to_cli(tmp: Path) -> Iterator[LoopbackSubscription]:
    """The loopback subscription and registry, reached as a signed-in Azure CLI user."""
    ca = trustme.CA()
    ca_path = tmp / "loopback-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    with signed_in_cli(tmp):
        server = LoopbackSubscription(ca, ca_path)
        try:
            yield server
        finally:
            server.close()

"""The subscription-level reads of the preflight on a loopback: ARM and the chart registry.

The answers have the shapes azure-rest-api-specs documents (ContainerService
ManagedClusters_ListKubernetesVersions 2025-08-01, Compute ResourceSkus_List 2021-07-01, Features
Features_Get 2021-07-01) and the OCI distribution spec's tag list and errors; the bodies are this
project's own. An unauthenticated ARM request gets ARM's 401. The registry needs no sign-in, as
MCR's anonymous pulls do, unless scripted `signIn`: then it answers as an Azure Container Registry
does (Azure/acr docs/AAD-OAuth.md): 401 with a Bearer challenge, an Entra token exchanged for a
refresh token at /oauth2/exchange, that for an access token at /oauth2/token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

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
REPOSITORY = "azure-application-gateway/charts/ingress-azure"
TAGS_PATH = f"/v2/{REPOSITORY}/tags/list"
# What the loopback ACR hands out: a refresh token for the caller's Entra token, an access token
# for that refresh token and the repository's scope.
ACR_REFRESH = "acr-refresh-token"
ACR_ACCESS = "acr-access-token"


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
        "repository": REPOSITORY,
        "tags": {"name": REPOSITORY, "tags": ["1.9.6", "1.9.7", "1.9.8"]},
        # None: anonymous reads; else the registry name an ACR's challenge gives as service.
        "signIn": None,
        # Where the challenge sends a client for a token; None: the registry's /oauth2/token.
        "realm": None,
        # The Entra token the exchange accepts: the caller's, unless scripted otherwise.
        "grantee": TOKEN,
    }


def registry_error(status: int) -> dict[str, Any]:
    """The distribution spec's error body ("Error Codes")."""
    code = {401: "UNAUTHORIZED", 403: "DENIED", 404: "NAME_UNKNOWN"}.get(status, "UNKNOWN")
    return {"errors": [{"code": code, "message": code.lower().replace("_", " "), "detail": None}]}


def registry_answer(
    answers: dict[str, Any], method: str, route: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], Any] | None:
    """The registry's routes: the scripted repository's tags and, with `signIn`, ACR's
    challenge and token exchange; None for any other route."""
    service = answers.get("signIn")
    form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
    scope = f"repository:{answers['repository']}:metadata_read"
    if method == "POST" and route == "/oauth2/exchange" and service:
        wanted = {"grant_type": "access_token", "service": service}
        if form == {**wanted, "access_token": answers["grantee"]}:
            return 200, {}, {"refresh_token": ACR_REFRESH}
        return 401, {}, registry_error(401)
    if method == "POST" and route == "/oauth2/token" and service:
        wanted = {"grant_type": "refresh_token", "service": service, "scope": scope}
        if form == {**wanted, "refresh_token": ACR_REFRESH}:
            return 200, {}, {"access_token": ACR_ACCESS}
        return 401, {}, registry_error(401)
    if route != f"/v2/{answers['repository']}/tags/list":
        return None
    if service and headers.get("Authorization") != f"Bearer {ACR_ACCESS}":
        realm = answers.get("realm") or f"https://{service}/oauth2/token"
        challenge = f'Bearer realm="{realm}",service="{service}",scope="{scope}"'
        return 401, {"WWW-Authenticate": challenge}, registry_error(401)
    found = answers["tags"]
    return (found, {}, registry_error(found)) if isinstance(found, int) else (200, {}, found)


def answer(
    answers: dict[str, Any], method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], Any] | None:
    """The scripted answer for a request the preflight makes, or None for any other route.
    An int answer is that ARM (or registry) error status."""
    route, _, query = path.partition("?")
    name = None
    registry = registry_answer(answers, method, route, headers, body)
    if registry is not None:
        return registry
    if headers.get("Authorization") != f"Bearer {TOKEN}":
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
        # Each request's Authorization header ("" for none) and body, in order.
        self.sent: list[tuple[str, bytes]] = []
        self._server = TlsJsonServer(ca, self._respond)
        self.url = self._server.url

    def script(self, **answers: Any) -> None:
        self.answers = {**default_answers(), **answers}
        self.requests.clear()
        self.sent.clear()

    def close(self) -> None:
        self._server.close()

    def _respond(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        self.requests.append(path)
        self.sent.append((headers.get("Authorization", ""), body))
        return answer(self.answers, method, path, headers, body) or (404, {}, arm_error(404))


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

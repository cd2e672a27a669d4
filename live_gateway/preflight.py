"""What only the subscription knows, asked before anything changes: the preflight.

The offline catalogs (config/catalogs/) say what exists; a subscription may still be refused
what exists: a Kubernetes patch not (or no longer) offered in its region, a VM size restricted
for it in the region or in a zone, host encryption whose feature it never registered. ARM
refuses those mid-deployment, after the network and gateway exist and, on a cut-over, after the
old AGIC is gone. So `pulumi preview` and `up` ask first, from a dynamic provider's Check (run
before the engine changes anything, and depended on by the resource group, so by everything),
as whoever runs Pulumi. Every read needs only Reader.

The reads go through azure-core's ARM pipeline (azure-mgmt-core's ARMPipelineClient, the one the
generated management clients use) with the REST shapes azure-rest-api-specs documents:
ManagedClusters ListKubernetesVersions (containerservice aks stable/2025-08-01), ResourceSkus
List (compute Skus stable/2021-07-01), Features Get (resources Microsoft.Features stable/
2021-07-01); the chart's tags with the OCI distribution API (`GET /v2/<name>/tags/list`), which
mcr.microsoft.com answers without sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from live_gateway.arm import first_line

ARM = "https://management.azure.com"
KUBERNETES_VERSIONS_API = "2025-08-01"
SKUS_API = "2021-07-01"
FEATURES_API = "2021-07-01"
# Host encryption needs this feature registered on the subscription (AKS enable-host-
# encryption.md: `az feature register --namespace Microsoft.Compute --name EncryptionAtHost`).
HOST_ENCRYPTION_FEATURE = ("Microsoft.Compute", "EncryptionAtHost")


class PreflightReadError(Exception):
    """A read the preflight needs failed; the message names what and, on 403, the permission."""


@dataclass(frozen=True)
class SkuOffer:
    """One VM size as the subscription may use it in one region."""

    zones: frozenset[str]
    # A Location restriction: the subscription may not use the size in the region at all.
    restricted: str | None = None
    # Zone restrictions: the zones the subscription may not use it in.
    restricted_zones: frozenset[str] = frozenset()

    def usable_zones(self) -> list[str]:
        return sorted(self.zones - self.restricted_zones)


@dataclass
class ClusterAsk:
    color: str
    kubernetes_version: str
    vm_size: str
    zones: list[str]
    encryption_at_host: bool
    # Created by this deployment: its node pool (size, zones, host encryption) is being fixed.
    creating: bool
    # Its version is set by this deployment (created, or upgraded).
    version_changes: bool


@dataclass
class Asks:
    subscription: str
    location: str
    clusters: list[ClusterAsk]
    chart_registry: str
    chart_repository: str
    chart_version: str
    # Where failures are reported; the ARM error of a failed read says the rest.
    problems: list[str] = field(default_factory=list)


class Subscription:
    """One subscription's offers, read as REST JSON through the ARM pipeline."""

    def __init__(
        self,
        subscription: str,
        credential: Any,
        endpoint: str | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.subscription = subscription
        self._credential = credential
        self._arm = _pipeline(endpoint or ARM, credential, ca_bundle)

    def kubernetes_versions(self, location: str) -> dict[str, set[str]]:
        """minor -> the patches the region offers: GET .../locations/{location}/
        kubernetesVersions (Microsoft.ContainerService/locations/kubernetesVersions/read)."""
        body = self._get(
            f"/subscriptions/{self.subscription}/providers/Microsoft.ContainerService/"
            f"locations/{quote(location)}/kubernetesVersions",
            KUBERNETES_VERSIONS_API,
            f"the Kubernetes versions AKS offers in {location}",
            "Microsoft.ContainerService/locations/kubernetesVersions/read",
        )
        return {
            str(entry.get("version")): set((entry.get("patchVersions") or {}).keys())
            for entry in body.get("values") or []
        }

    def vm_sizes(self, location: str) -> dict[str, SkuOffer]:
        """VM size -> what the subscription may use of it in the region: GET Microsoft.Compute/
        skus filtered to the location (Microsoft.Compute/skus/read). Restrictions apply to the
        calling subscription (ResourceSkuRestrictions: type Location or Zone, reasonCode)."""
        url = f"/subscriptions/{self.subscription}/providers/Microsoft.Compute/skus"
        offers: dict[str, SkuOffer] = {}
        what = f"the VM sizes this subscription may use in {location}"
        body = self._get(
            url, SKUS_API, what, "Microsoft.Compute/skus/read", f"location eq '{location}'"
        )
        while True:
            for sku in body.get("value") or []:
                if sku.get("resourceType") != "virtualMachines":
                    continue
                offers[str(sku.get("name"))] = _offer(sku, location)
            following = body.get("nextLink")
            if not following:
                return offers
            body = self._get(following, None, what, "Microsoft.Compute/skus/read")

    def feature_state(self, namespace: str, name: str) -> str:
        """A preview feature's registration state: GET Microsoft.Features/providers/{namespace}/
        features/{name} (Microsoft.Features/providers/features/read)."""
        body = self._get(
            f"/subscriptions/{self.subscription}/providers/Microsoft.Features/providers/"
            f"{namespace}/features/{name}",
            FEATURES_API,
            f"the registration of {namespace}/{name}",
            "Microsoft.Features/providers/features/read",
        )
        return str((body.get("properties") or {}).get("state") or "NotRegistered")

    def close(self) -> None:
        self._arm.close()
        self._credential.close()

    def _get(
        self,
        url: str,
        api_version: str | None,
        what: str,
        permission: str,
        filter_: str | None = None,
    ) -> dict[str, Any]:
        from azure.core.exceptions import AzureError
        from azure.core.rest import HttpRequest

        params = {"api-version": api_version} if api_version else {}
        if filter_:
            params["$filter"] = filter_
        absolute = url if url.startswith("https://") else self._arm.format_url(url)
        request = HttpRequest("GET", absolute, params=params)
        try:
            response = self._arm.send_request(request)
        except AzureError as err:
            raise PreflightReadError(f"cannot read {what}: {first_line(err)}") from None
        return _json_or_raise(response, what, permission)


# Where the chart registry is reached when not at https://<registry>, read where the provider
# runs: a pull-through proxy in a locked-down network, the loopback registry of the e2e run.
# Like AKSBG_ARM_ENDPOINT (arm.py), never part of the pickled provider in the state.
REGISTRY_ENDPOINT_VARIABLE = "AKSBG_CHART_REGISTRY_ENDPOINT"


# Microsoft's chart, the default of agic.chart (config/catalogs/agic_chart.py, which a test
# holds this to): the providers here import nothing of the config.
MICROSOFT_REGISTRY = "mcr.microsoft.com"
MICROSOFT_REPOSITORY = "azure-application-gateway/charts/ingress-azure"
# Azure Container Registry's domains in the public, China and US Government clouds: only a
# registry there is sent the caller's Entra token, to exchange for one of its own.
ACR_SUFFIXES = (".azurecr.io", ".azurecr.cn", ".azurecr.us")
PULL_RIGHTS = (
    "the principal running Pulumi needs pull rights on it (AcrPull), as the one running "
    "`helm upgrade` does"
)


def chart_tags(
    registry: str,
    repository: str,
    endpoint: str | None = None,
    ca_bundle: str | None = None,
    credential: Any = None,
) -> list[str]:
    """The tags of an OCI repository: GET https://<registry>/v2/<repository>/tags/list (OCI
    distribution-spec, "Listing Tags"); mcr.microsoft.com serves it without sign-in. `registry`
    may carry a port: it is the URL's authority as agic.chart names it."""
    from azure.core import PipelineClient
    from azure.core.exceptions import AzureError
    from azure.core.pipeline import policies
    from azure.core.pipeline.transport import RequestsTransport
    from azure.core.rest import HttpRequest

    base = endpoint or f"https://{registry}"
    transport = RequestsTransport(connection_verify=ca_bundle) if ca_bundle else None
    client: PipelineClient[HttpRequest, Any] = PipelineClient(
        base,
        policies=[policies.RetryPolicy(retry_total=2), policies.ContentDecodePolicy()],
        transport=transport,
    )
    where = f"{registry}/{repository}"
    tags: list[str] = []
    url = f"/v2/{repository}/tags/list"
    headers: dict[str, str] = {}
    try:
        while url:
            absolute = url if "://" in url else client.format_url(url)
            response = client.send_request(HttpRequest("GET", absolute, headers=headers))
            challenge = _bearer_challenge(response.headers.get("WWW-Authenticate", ""))
            if response.status_code == 401 and challenge and not headers:
                if _signs_in(registry, base, credential):
                    token = _acr_token(client, base, where, challenge, repository, credential)
                else:
                    # Registries other than mcr (ACR with anonymous pull, Harbor, GHCR) answer
                    # an unsigned read with a Bearer challenge and hand out an anonymous pull
                    # token at its realm (distribution, docs/spec/auth/token.md, "Requesting a
                    # Token").
                    token = _anonymous_token(client, challenge, repository)
                if token:
                    headers = {"Authorization": f"Bearer {token}"}
                    continue
            if response.status_code == 401 and _signs_in(registry, base, credential):
                raise PreflightReadError(
                    f"{where} refused the caller's registry token (HTTP 401): {PULL_RIGHTS}"
                )
            if response.status_code == 401:
                # Only an Azure Container Registry is signed in to (below): any other mirror
                # that asks for sign-in cannot be checked.
                raise PreflightReadError(
                    f"{registry} asks for sign-in to list {repository}'s tags (HTTP 401); the "
                    "preflight signs in only to an Azure Container Registry and reads others "
                    "anonymously: enable anonymous pull on the mirror, or set agic.chart to a "
                    "registry that allows it"
                )
            body = _registry_json(response, where)
            tags += [str(tag) for tag in body.get("tags") or []]
            # Pagination by a Link header (distribution-spec, "Listing Tags").
            link = response.headers.get("Link", "")
            url = link.split(";", 1)[0].strip("<> ") if 'rel="next"' in link else ""
    except AzureError as err:
        raise PreflightReadError(
            f"cannot reach {registry} for the chart's tags: {first_line(err)}; check the host "
            f"in agic.chart, or set {REGISTRY_ENDPOINT_VARIABLE} where it is reached at "
            "another address"
        ) from None
    finally:
        client.close()
    return tags


def _signs_in(registry: str, base: str, credential: Any) -> bool:
    """Whether the caller's Entra token may be exchanged at this registry: an Azure Container
    Registry, reached over TLS (an endpoint override may be plain http://; the token is the
    caller's, and crosses no unencrypted connection)."""
    host = registry.split(":", 1)[0].lower()
    return credential is not None and host.endswith(ACR_SUFFIXES) and base.startswith("https://")


def _acr_token(
    client: Any,
    base: str,
    where: str,
    challenge: dict[str, str],
    repository: str,
    credential: Any,
) -> str:
    """An Azure Container Registry token for the challenged scope, as `az acr login` and Helm's
    credential helpers get one: the caller's Entra token (ARM audience) exchanged at POST
    /oauth2/exchange for a refresh token, that at POST /oauth2/token for an access token
    (Azure/acr docs/AAD-OAuth.md; azure-sdk-for-python azure-containerregistry
    _exchange_client.py). Both go to the registry itself, or to the endpoint named for it."""
    from azure.core.rest import HttpRequest

    from live_gateway.arm import GatewayReadError

    service = challenge.get("service") or base.split("://", 1)[1].split("/", 1)[0]
    scope = challenge.get("scope") or f"repository:{repository}:pull"
    try:
        entra = credential.get_token(f"{ARM}/.default").token
    except GatewayReadError as err:
        raise PreflightReadError(f"cannot sign in to read {where}: {err}") from None
    steps = (
        ("/oauth2/exchange", {"grant_type": "access_token", "access_token": entra}),
        ("/oauth2/token", {"grant_type": "refresh_token", "scope": scope}),
    )
    token = ""
    for path, form in steps:
        if path == "/oauth2/token":
            form = {**form, "refresh_token": token}
        response = client.send_request(
            HttpRequest("POST", f"{base}{path}", data={**form, "service": service})
        )
        if response.status_code != 200:
            raise PreflightReadError(
                f"{where} refused the caller's sign-in (HTTP {response.status_code} at {path}): "
                f"{PULL_RIGHTS}"
            )
        body = _registry_json(response, where)
        token = str(body.get("refresh_token" if path == "/oauth2/exchange" else "access_token"))
    return token


def _registry_json(response: Any, where: str) -> dict[str, Any]:
    """A registry's 200 answer, or its refusal as the distribution spec words it: {"errors":
    [{"code": "NAME_UNKNOWN", "message": ...}]} ("Error Codes")."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if status == 200:
        return body if isinstance(body, dict) else {}
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = str(first.get("code") or response.reason or "").strip()
    detail = f"HTTP {status}{' ' + code if code else ''}"
    if status == 403:
        raise PreflightReadError(
            f"{where} refused to list the chart's tags ({detail}): {PULL_RIGHTS}"
        )
    if status == 404:
        raise PreflightReadError(
            f"{where} has no such repository ({detail}): copy the chart there "
            "(docs/chart-mirror.md) or correct agic.chart"
        )
    message = first_line(str(first.get("message") or ""))
    raise PreflightReadError(
        f"cannot read the chart's tags at {where} ({detail}{': ' + message if message else ''})"
    )


def _bearer_challenge(header: str) -> dict[str, str]:
    """The parameters of a `WWW-Authenticate: Bearer realm="...",service="..."` challenge."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        return {}
    found = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return found if found.get("realm", "").startswith("https://") else {}


def _anonymous_token(client: Any, challenge: dict[str, str], repository: str) -> str:
    """A pull token the challenge's realm gives without credentials, or '' when it refuses."""
    from urllib.parse import urlencode

    from azure.core.rest import HttpRequest

    query = {"scope": f"repository:{repository}:pull"}
    if challenge.get("service"):
        query["service"] = challenge["service"]
    separator = "&" if "?" in challenge["realm"] else "?"
    response = client.send_request(
        HttpRequest("GET", f"{challenge['realm']}{separator}{urlencode(query)}")
    )
    if response.status_code != 200:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    token = body.get("token") or body.get("access_token") if isinstance(body, dict) else ""
    return str(token or "")


def judge(asks: Asks, subscription: Subscription | None, tags: list[str] | None) -> list[str]:
    """Every refusal, each naming the key, what was asked and what the subscription offers."""
    problems = list(asks.problems)
    if subscription is not None:
        problems += _judge_clusters(asks, subscription)
    if tags is not None and asks.chart_version not in tags:
        offered = sorted((t for t in tags if t[:1].isdigit()), key=_version_order)[-5:]
        where = f"{asks.chart_registry}/{asks.chart_repository}"
        # A mirror (agic.chart) holds what was copied into it, not every published version.
        mirror = where != f"{MICROSOFT_REGISTRY}/{MICROSOFT_REPOSITORY}"
        copy = (
            f"; copy {asks.chart_version} into the mirror (helm pull oci://{MICROSOFT_REGISTRY}/"
            f"{MICROSOFT_REPOSITORY} --version {asks.chart_version}, then helm push it) or pick "
            "a version it has"
        )
        problems.append(
            f"agic.chartVersion: {asks.chart_version} is not in {where}"
            f"{' (agic.chart)' if mirror else ''}; it has "
            f"{', '.join(offered) or 'no versions'} (newest last){copy if mirror else ''}"
        )
    return problems


def _judge_clusters(asks: Asks, subscription: Subscription) -> list[str]:
    problems: list[str] = []
    region = asks.location
    needs_versions = [c for c in asks.clusters if c.version_changes]
    needs_sizes = [c for c in asks.clusters if c.creating]
    if needs_versions:
        try:
            offered = subscription.kubernetes_versions(region)
        except PreflightReadError as err:
            problems.append(f"clusters.{needs_versions[0].color}.kubernetesVersion: {err}")
        else:
            problems += [_judge_version(c, offered, region) for c in needs_versions]
    if needs_sizes:
        try:
            sizes = subscription.vm_sizes(region)
        except PreflightReadError as err:
            problems.append(f"clusters.{needs_sizes[0].color}.vmSize: {err}")
        else:
            problems += [_judge_size(c, sizes, region) for c in needs_sizes]
    if any(c.creating and c.encryption_at_host for c in asks.clusters):
        color = next(c.color for c in asks.clusters if c.creating and c.encryption_at_host)
        namespace, name = HOST_ENCRYPTION_FEATURE
        try:
            state = subscription.feature_state(namespace, name)
        except PreflightReadError as err:
            problems.append(f"clusters.{color}.encryptionAtHost: {err}")
        else:
            if state != "Registered":
                problems.append(
                    f"clusters.{color}.encryptionAtHost: true needs the subscription's "
                    f"{namespace}/{name} feature, which is {state}; register it (`az feature "
                    f"register --namespace {namespace} --name {name}`, then `az provider "
                    f"register --namespace {namespace}`) or set encryptionAtHost: false"
                )
    return [problem for problem in problems if problem]


def _judge_version(cluster: ClusterAsk, offered: dict[str, set[str]], region: str) -> str:
    key = f"clusters.{cluster.color}.kubernetesVersion"
    version = cluster.kubernetes_version
    minor = ".".join(version.split(".")[:2])
    source = f"Microsoft.ContainerService/locations/{region}/kubernetesVersions"
    if minor not in offered:
        return (
            f"{key}: {version} is not offered in {region}; AKS offers "
            f"{', '.join(sorted(offered, key=_version_order))} there ({source})"
        )
    if version != minor and version not in offered[minor]:
        patches = ", ".join(sorted(offered[minor], key=_version_order))
        return (
            f"{key}: {version} is not offered in {region}; its {minor} patches there are "
            f"{patches}, or write {minor!r} for the latest ({source})"
        )
    return ""


def _judge_size(cluster: ClusterAsk, sizes: dict[str, SkuOffer], region: str) -> str:
    key = f"clusters.{cluster.color}.vmSize"
    source = f"Microsoft.Compute/skus in {region}"
    offer = sizes.get(cluster.vm_size)
    if offer is None or offer.restricted:
        why = f" ({offer.restricted})" if offer and offer.restricted else ""
        close = _same_family(cluster.vm_size, sizes)
        hint = f"; it may use {', '.join(close)}" if close else ""
        return (
            f"{key}: this subscription may not use {cluster.vm_size} in {region}{why}{hint} "
            f"({source})"
        )
    refused = sorted(set(cluster.zones) - set(offer.usable_zones()))
    if refused:
        usable = offer.usable_zones()
        return (
            f"clusters.{cluster.color}.availabilityZones: {cluster.vm_size} is not available to "
            f"this subscription in zone(s) {', '.join(refused)} of {region}; it may use zones "
            f"{usable or 'none'}: set availabilityZones to {usable} or pick another size "
            f"({source})"
        )
    return ""


def _same_family(name: str, sizes: dict[str, SkuOffer]) -> list[str]:
    import difflib

    usable = [size for size, offer in sizes.items() if not offer.restricted]
    return difflib.get_close_matches(name, usable, n=3, cutoff=0.7)


def _offer(sku: dict[str, Any], location: str) -> SkuOffer:
    zones: set[str] = set()
    for info in sku.get("locationInfo") or []:
        if str(info.get("location", "")).lower() == location.lower():
            zones |= {str(zone) for zone in info.get("zones") or []}
    restricted: str | None = None
    restricted_zones: set[str] = set()
    for restriction in sku.get("restrictions") or []:
        reason = str(restriction.get("reasonCode") or "restricted")
        info = restriction.get("restrictionInfo") or {}
        if restriction.get("type") == "Location":
            restricted = reason
        elif restriction.get("type") == "Zone":
            restricted_zones |= {str(zone) for zone in info.get("zones") or []}
    return SkuOffer(frozenset(zones), restricted, frozenset(restricted_zones))


def _version_order(text: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in text.split("."))


def _pipeline(endpoint: str, credential: Any, ca_bundle: str | None) -> Any:
    from azure.core.pipeline import policies
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    transport = RequestsTransport(connection_verify=ca_bundle) if ca_bundle else None
    return ARMPipelineClient(
        endpoint,
        policies=[
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(sdk_moniker="aks-bluegreen-preflight"),
            # Throttling and server faults are retried; a 403 is an answer.
            policies.RetryPolicy(retry_total=2, retry_backoff_factor=0.2),
            ARMChallengeAuthenticationPolicy(credential, f"{ARM}/.default"),
            policies.ContentDecodePolicy(),
        ],
        transport=transport,
    )


def _json_or_raise(response: Any, what: str, permission: str) -> dict[str, Any]:
    status = response.status_code
    if status == 200:
        body = response.json()
        return body if isinstance(body, dict) else {}
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        error = {}
    code = error.get("code") or response.reason or ""
    detail = f"HTTP {status} {code}".strip()
    if status == 403:
        raise PreflightReadError(
            f"cannot read {what} ({detail}): the principal running Pulumi needs {permission}, "
            "which the Reader role on the subscription grants"
        )
    message = first_line(error.get("message") or "")
    raise PreflightReadError(f"cannot read {what} ({detail}{': ' + message if message else ''})")

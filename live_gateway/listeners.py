"""Whether the live gateway serves each app over HTTPS, judged on ARM's own JSON.

The pools say which cluster the gateway sends requests to (serving.py); this says whether a
client can reach them over HTTPS: per app host, an HTTPS listener that presents the configured
certificate, that certificate installed from Key Vault with provisioning Succeeded, and, where
HTTP is redirected, the HTTP listener and the redirect to the HTTPS one. Shapes are those of
ApplicationGateways Get (azure-rest-api-specs, specification/network/resource-manager/
Microsoft.Network/stable/2024-07-01/examples/ApplicationGatewayGet.json: `httpListeners[]` with
`protocol`, `hostName`/`hostNames` and `sslCertificate.id`; `sslCertificates[]` with
`provisioningState` and `keyVaultSecretId`; `redirectConfigurations[]` with `targetListener.id`).

Why it is checked at all: AGIC drops every Ingress whose appgw-ssl-certificate names a certificate
the gateway lacks (pkg/controller/prune.go pruneNoSslCertificate) and still reports Ready, and a
gateway that cannot fetch a certificate from Key Vault disables the listeners using it
(learn.microsoft.com/azure/application-gateway/application-gateway-key-vault-common-errors);
in both cases the pools can look right while HTTPS clients get nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from live_gateway.arm import GatewayReadError
from live_gateway.deadline import Clock, Deadline, Sleep
from live_gateway.serving import SUCCEEDED
from live_gateway.waiting import Gateway, Outcome, pause


@dataclass(frozen=True)
class HttpsRoute:
    """One app as HTTPS clients reach it."""

    host: str
    certificate: str
    key_vault_secret_id: str
    redirect_http: bool

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> HttpsRoute:
        return cls(
            host=str(props["host"]),
            certificate=str(props["certificate"]),
            key_vault_secret_id=str(props["keyVaultSecretId"]),
            redirect_http=bool(props["redirectHttp"]),
        )

    def to_props(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "certificate": self.certificate,
            "keyVaultSecretId": self.key_vault_secret_id,
            "redirectHttp": self.redirect_http,
        }


@dataclass(frozen=True)
class HttpsVerdict:
    serving: bool
    findings: tuple[str, ...] = ()
    seen: dict[str, Any] = field(default_factory=dict)


def _props(item: Mapping[str, Any]) -> Mapping[str, Any]:
    return item.get("properties") or {}


def _last_segment(reference: Any) -> str:
    resource_id = str((reference or {}).get("id", "")) if isinstance(reference, Mapping) else ""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _hosts(listener: Mapping[str, Any]) -> set[str]:
    props = _props(listener)
    names = list(props.get("hostNames") or [])
    if props.get("hostName"):
        names.append(props["hostName"])
    return {str(name).rstrip(".").casefold() for name in names}


def _same_secret(a: str, b: str) -> bool:
    return a.rstrip("/").casefold() == b.rstrip("/").casefold()


def _listeners_for(gateway: Mapping[str, Any], host: str, protocol: str) -> list[Mapping[str, Any]]:
    wanted = host.rstrip(".").casefold()
    return [
        listener
        for listener in _props(gateway).get("httpListeners") or []
        if str(_props(listener).get("protocol", "")).casefold() == protocol.casefold()
        and wanted in _hosts(listener)
    ]


def certificate_states(gateway: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Every certificate on the gateway: name -> its provisioning state and Key Vault secret."""
    return {
        str(cert.get("name", "")): {
            "provisioningState": str(_props(cert).get("provisioningState", "")),
            "keyVaultSecretId": str(_props(cert).get("keyVaultSecretId", "")),
        }
        for cert in _props(gateway).get("sslCertificates") or []
    }


def certificate_findings(
    certificates: Mapping[str, Mapping[str, str]], name: str, secret: str, host: str = ""
) -> list[str]:
    """What keeps one configured certificate from being served: missing, not provisioned, or
    read from another secret than the configured one; nothing when it is installed."""
    by_name = {key.casefold(): state for key, state in certificates.items()}
    state = by_name.get(name.casefold())
    serving = f" for {host}" if host else ""
    if state is None:
        return [
            f"certificate {name!r}{serving} is not on the gateway (AGIC then ignores the app's "
            "Ingress); the gateway write that installs it has not succeeded: run "
            "`pulumi up --refresh` again and read its error"
        ]
    findings: list[str] = []
    if state["provisioningState"] != SUCCEEDED:
        now = state["provisioningState"] or "in no state"
        findings.append(
            f"certificate {name!r} is {now}, not {SUCCEEDED}: the gateway's identity may not read "
            f"{secret} (Key Vault Secrets User on the secret, and the vault's firewall letting "
            "trusted Azure services in; Azure Advisor names the Key Vault error)"
        )
    if state["keyVaultSecretId"] and not _same_secret(state["keyVaultSecretId"], secret):
        findings.append(
            f"certificate {name!r} comes from {state['keyVaultSecretId']}, not the configured "
            f"{secret}: something other than this program wrote it; run `pulumi up --refresh`"
        )
    return findings


def judge_https(gateway: Mapping[str, Any], routes: Sequence[HttpsRoute]) -> HttpsVerdict:
    """Serving over HTTPS iff every route has its listener, certificate and redirect as ARM
    reports them; every finding is listed, each naming the host and what to fix."""
    certificates = certificate_states(gateway)
    findings: list[str] = []
    listeners: dict[str, list[str]] = {}
    for route in routes:
        problems = certificate_findings(
            certificates, route.certificate, route.key_vault_secret_id, route.host
        )
        findings.extend(problems)
        if route.certificate.casefold() not in {name.casefold() for name in certificates}:
            continue  # not on the gateway: no listener can present it
        https = _listeners_for(gateway, route.host, "Https")
        listeners[route.host] = [str(listener.get("name", "")) for listener in https]
        if not https:
            findings.append(
                f"no HTTPS listener for {route.host}: AGIC has not written the app's Ingress "
                f"with certificate {route.certificate!r} (its log names an Ingress it ignored)"
            )
            continue
        presenting = [
            listener
            for listener in https
            if _last_segment(_props(listener).get("sslCertificate")).casefold()
            == route.certificate.casefold()
        ]
        if not presenting:
            shown = ", ".join(
                _last_segment(_props(listener).get("sslCertificate")) or "none"
                for listener in https
            )
            findings.append(
                f"the HTTPS listener for {route.host} presents {shown}, not {route.certificate!r}"
            )
            continue
        unfinished = [
            str(listener.get("name", ""))
            for listener in presenting
            if str(_props(listener).get("provisioningState", SUCCEEDED)) != SUCCEEDED
        ]
        if unfinished:
            findings.append(
                f"the HTTPS listener for {route.host} ({', '.join(unfinished)}) is not "
                f"provisioned ({SUCCEEDED} expected)"
            )
        if route.redirect_http:
            findings.extend(_redirect_findings(gateway, route, presenting))
    seen = {"certificates": dict(sorted(certificates.items())), "httpsListeners": listeners}
    return HttpsVerdict(not findings, tuple(findings), seen)


def _redirect_findings(
    gateway: Mapping[str, Any], route: HttpsRoute, https: Sequence[Mapping[str, Any]]
) -> list[str]:
    if not _listeners_for(gateway, route.host, "Http"):
        return [f"no HTTP listener for {route.host}: plain HTTP would not be redirected"]
    targets = {str(listener.get("name", "")).casefold() for listener in https}
    redirects = [
        redirect
        for redirect in _props(gateway).get("redirectConfigurations") or []
        if _last_segment(_props(redirect).get("targetListener")).casefold() in targets
    ]
    if not redirects:
        return [f"no redirect from HTTP to the HTTPS listener for {route.host}"]
    return []


def wait_until_https(
    gateway: Gateway,
    routes: Sequence[HttpsRoute],
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Outcome:
    """Looks at the gateway until every route is served over HTTPS or the bound runs out."""
    deadline = Deadline(timeout_seconds, clock, sleep, grace=poll_seconds)
    verdict: HttpsVerdict | None = None
    failure: GatewayReadError | None = None
    while True:
        try:
            verdict, failure = judge_https(gateway.gateway(deadline), routes), None
            if verdict.serving:
                hosts = ", ".join(sorted({route.host for route in routes}))
                return Outcome(True, round(deadline.elapsed()), f"HTTPS for {hosts}", verdict.seen)
        except GatewayReadError as err:
            failure = err
            if not err.transient:
                break
        if not pause(failure, poll_seconds, deadline):
            break
    waited = round(deadline.elapsed())
    if failure is not None:
        message = f"could not read the gateway's listeners ({failure}) after {waited} s"
    else:
        assert verdict is not None
        message = f"not served over HTTPS after {waited} s: " + "; ".join(verdict.findings)
    return Outcome(False, waited, message, verdict.seen if verdict else {})

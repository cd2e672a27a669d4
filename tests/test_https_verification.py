"""The cut-over verification's HTTPS checks, with the real azure-mgmt-network client and the real
AzureCliCredential, against the loopback ARM answering ApplicationGateways Get in the shape of
azure-rest-api-specs' ApplicationGatewayGet.json (listeners with `sslCertificate`, certificates
with `provisioningState` and `keyVaultSecretId`), plus the redirect configuration of its schema.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from fake_clock import FakeClock
from live_gateway.arm import ArmGateway
from live_gateway.caller import caller_credential
from live_gateway.certificates import CertificatesInstalledProvider
from live_gateway.listeners import HttpsRoute, judge_https, wait_until_https
from live_gateway.providers import GatewayServesProvider
from loopback_arm import (
    GATEWAY_ID,
    POOL,
    LoopbackArm,
    gateway,
    health,
    serve_to_cli,
)

GREEN = ["10.241.0.4", "10.241.0.5"]
HOST = "shop.example.com"
SECRET = "https://shop-kv.vault.azure.net/secrets/shop-tls"
ROUTE = HttpsRoute(HOST, "shop-tls", SECRET, redirect_http=True)
HTTPS_LISTENER = "fl-shop-443"
HTTP_LISTENER = "fl-shop-80"


def _ref(collection: str, name: str) -> dict[str, str]:
    return {"id": f"{GATEWAY_ID}/{collection}/{name}"}


def with_https(
    document: dict[str, Any],
    certificate_state: str = "Succeeded",
    listener_certificate: str = "shop-tls",
    host_key: str = "hostName",
    redirect: bool = True,
    certificate: bool = True,
    secret: str = SECRET,
) -> dict[str, Any]:
    """A Get response for a gateway AGIC wrote for one TLS app, as ARM shows it."""
    answer = copy.deepcopy(document)
    host = {host_key: HOST} if host_key == "hostName" else {host_key: [HOST]}
    listeners = [
        {
            "name": HTTPS_LISTENER,
            "id": _ref("httpListeners", HTTPS_LISTENER)["id"],
            "properties": {
                "provisioningState": "Succeeded",
                "frontendIPConfiguration": _ref("frontendIPConfigurations", "appgw-public"),
                "frontendPort": _ref("frontendPorts", "fp-443"),
                "protocol": "Https",
                "sslCertificate": _ref("sslCertificates", listener_certificate),
                "requireServerNameIndication": True,
                **host,
            },
        }
    ]
    if redirect:
        listeners.append(
            {
                "name": HTTP_LISTENER,
                "id": _ref("httpListeners", HTTP_LISTENER)["id"],
                "properties": {
                    "provisioningState": "Succeeded",
                    "frontendIPConfiguration": _ref("frontendIPConfigurations", "appgw-public"),
                    "frontendPort": _ref("frontendPorts", "fp-80"),
                    "protocol": "Http",
                    **host,
                },
            }
        )
    properties = answer["properties"]
    properties["httpListeners"] = listeners
    properties["sslCertificates"] = (
        [
            {
                "name": "shop-tls",
                "id": _ref("sslCertificates", "shop-tls")["id"],
                "properties": {
                    "provisioningState": certificate_state,
                    "publicCertData": "*****",
                    "keyVaultSecretId": secret,
                },
            }
        ]
        if certificate
        else []
    )
    properties["redirectConfigurations"] = (
        [
            {
                "name": "sslr-fl-shop-443",
                "id": _ref("redirectConfigurations", "sslr-fl-shop-443")["id"],
                "properties": {
                    "redirectType": "Permanent",
                    "targetListener": _ref("httpListeners", HTTPS_LISTENER),
                    "includePath": True,
                    "includeQueryString": True,
                },
            }
        ]
        if redirect
        else []
    )
    return answer


SERVING = with_https(gateway({POOL: GREEN}))


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackArm]:
    yield from serve_to_cli(tmp_path_factory.mktemp("arm"))


def verify(arm: LoopbackArm, timeout: int = 60) -> dict[str, Any]:
    """The provider's create, as the engine calls it for the cut-over verification."""
    clock = FakeClock()
    provider = GatewayServesProvider(
        arm.url, arm.ca_path, poll_seconds=10, clock=clock, sleep=clock.sleep
    )
    props = {
        "gatewayId": GATEWAY_ID,
        "activeColor": "green",
        "subnets": {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
        "pools": [POOL],
        "controllerLogs": "kubectl -n agic logs deploy/agic-green-ingress-azure",
        "timeoutSeconds": timeout,
        "https": [ROUTE.to_props()],
    }
    return provider.create(props).outs or {}


def wait(arm: LoopbackArm, routes: list[HttpsRoute]) -> tuple[bool, str, float]:
    clock = FakeClock()
    reader = ArmGateway(GATEWAY_ID, caller_credential(), arm.url, arm.ca_path, 0.001)
    try:
        outcome = wait_until_https(reader, routes, 600, 60, clock, clock.sleep)
    finally:
        reader.close()
    return outcome.serving, outcome.message, clock.now


def test_verification_confirms_the_https_listener_and_its_key_vault_certificate(
    arm: LoopbackArm,
) -> None:
    arm.script(gets=[SERVING], healths=[health({POOL: dict.fromkeys(GREEN, "Up")})])
    outs = verify(arm)
    assert outs["serving"] is True, outs["message"]
    assert outs["message"].endswith(f"; HTTPS for {HOST}")
    assert outs["seen"]["https"]["certificates"] == {
        "shop-tls": {"provisioningState": "Succeeded", "keyVaultSecretId": SECRET}
    }
    assert outs["seen"]["https"]["httpsListeners"] == {HOST: [HTTPS_LISTENER]}


def test_a_certificate_the_gateway_could_not_install_fails_the_verification(
    arm: LoopbackArm,
) -> None:
    failed = with_https(gateway({POOL: GREEN}), certificate_state="Failed")
    arm.script(gets=[failed], healths=[health({POOL: dict.fromkeys(GREEN, "Up")})])
    outs = verify(arm)
    assert outs["serving"] is False
    message = outs["message"]
    assert message.startswith("the gateway serves green but not served over HTTPS after ")
    assert "certificate 'shop-tls' is Failed, not Succeeded" in message
    assert f"may not read {SECRET} (Key Vault Secrets User on the secret" in message
    assert message.endswith("run `pulumi up` again (it waits again)")


def test_a_listener_agic_writes_late_is_waited_for(arm: LoopbackArm) -> None:
    # AGIC's first write after a flip may land before the pools are right; the HTTPS look
    # follows the pools and waits, bounded, for the listener too.
    missing = with_https(gateway({POOL: GREEN}))
    missing["properties"]["httpListeners"] = missing["properties"]["httpListeners"][1:]
    arm.script(
        gets=[missing, missing, SERVING], healths=[health({POOL: dict.fromkeys(GREEN, "Up")})]
    )
    serving, message, waited = wait(arm, [ROUTE])
    assert serving, message
    assert waited == 120


@pytest.mark.parametrize(
    ("document", "finding"),
    [
        (
            with_https(gateway({POOL: GREEN}), certificate=False),
            "certificate 'shop-tls' for shop.example.com is not on the gateway",
        ),
        (
            with_https(gateway({POOL: GREEN}), listener_certificate="cert-default-other"),
            "the HTTPS listener for shop.example.com presents cert-default-other, not 'shop-tls'",
        ),
        (
            with_https(gateway({POOL: GREEN}), redirect=False),
            "no HTTP listener for shop.example.com: plain HTTP would not be redirected",
        ),
        (
            with_https(gateway({POOL: GREEN}), secret=SECRET.replace("shop-kv", "old-kv")),
            "comes from https://old-kv.vault.azure.net/secrets/shop-tls, not the configured",
        ),
    ],
)
def test_what_is_wrong_with_https_is_named_after_the_bound(
    arm: LoopbackArm, document: dict[str, Any], finding: str
) -> None:
    arm.script(gets=[document])
    serving, message, waited = wait(arm, [ROUTE])
    assert not serving
    assert message.startswith("not served over HTTPS after 600 s: ")
    assert finding in message
    assert waited == 600


def test_listener_host_names_in_either_of_arms_fields_are_read() -> None:
    plural = with_https(gateway({POOL: GREEN}), host_key="hostNames")
    assert judge_https(plural, [ROUTE]).serving
    assert judge_https(SERVING, [ROUTE]).serving


def test_an_app_without_redirect_needs_no_http_listener() -> None:
    plain = with_https(gateway({POOL: GREEN}), redirect=False)
    route = HttpsRoute(HOST, "shop-tls", SECRET, redirect_http=False)
    assert judge_https(plain, [route]).serving
    assert not judge_https(plain, [ROUTE]).serving


def test_certificate_names_and_hosts_compare_as_arm_does_without_case() -> None:
    shouting = HttpsRoute(HOST.upper(), "SHOP-TLS", SECRET.upper(), redirect_http=True)
    assert judge_https(SERVING, [shouting]).serving


# --- the gate before an app names a certificate ----------------------------------------------


def install_gate(arm: LoopbackArm, timeout: int = 30) -> dict[str, Any]:
    clock = FakeClock()
    provider = CertificatesInstalledProvider(
        arm.url, arm.ca_path, poll_seconds=10, clock=clock, sleep=clock.sleep
    )
    props = {
        "gatewayId": GATEWAY_ID,
        "certificates": {"shop-tls": SECRET},
        "timeoutSeconds": timeout,
    }
    return provider.create(props).outs or {}


def test_the_gate_opens_once_the_gateway_reports_the_certificate_installed(
    arm: LoopbackArm,
) -> None:
    # Before AGIC has written anything for the app: the certificate alone, no listener.
    bare = gateway({})
    pending = with_https(bare, certificate_state="Updating")
    arm.script(gets=[pending, with_https(bare)])
    outs = install_gate(arm)
    assert outs["installed"] is True, outs["message"]
    assert outs["message"] == "certificates installed on the gateway: shop-tls"
    assert arm.count("GET", GATEWAY_ID) == 2


@pytest.mark.parametrize(
    ("document", "finding"),
    [
        (
            with_https(gateway({}), certificate_state="Failed"),
            "'shop-tls' is Failed, not Succeeded",
        ),
        (with_https(gateway({}), certificate=False), "'shop-tls' is not on the gateway"),
    ],
)
def test_the_gate_stays_shut_and_says_why(
    arm: LoopbackArm, document: dict[str, Any], finding: str
) -> None:
    arm.script(gets=[document])
    outs = install_gate(arm)
    assert outs["installed"] is False
    assert outs["message"].startswith("after 30 s no app was given its certificate, because ")
    assert finding in outs["message"]
    assert "HTTP and the other apps serve as before" in outs["message"]


def test_the_gate_waits_again_while_it_was_shut_and_not_on_an_unchanged_stack() -> None:
    provider = CertificatesInstalledProvider()
    inputs = {"gatewayId": GATEWAY_ID, "certificates": {"shop-tls": SECRET}, "timeoutSeconds": 600}
    opened = {**inputs, "installed": True, "message": "ok"}
    assert provider.diff("id", opened, {**inputs, "installed": None}).changes is False
    assert provider.diff("id", {**opened, "installed": False}, inputs).changes is True
    renewed = {**inputs, "certificates": {"shop-tls": SECRET, "api-tls": SECRET + "-api"}}
    assert provider.diff("id", opened, renewed).changes is True

"""HTTPS at the gateway: the config, what the program registers, and that a flip leaves it be.

A TLS-configured variant of the sample stack (the samples cannot name a real vault) is evaluated
under mocks in both positions and rolled back.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pulumi
import pytest

import config
from components.gateway import AGIC_OWNED_PROPERTIES
from components.role_grant import ROLE_IDS
from components.workload import tls_annotations
from conftest import ACCESS, STACK, by_name, with_overrides
from plan.cloud_mocks import SUBSCRIPTION_ID, CloudMocks
from plan.diff import diff
from plan.evaluate import Evaluation, ProgramError, evaluate
from plan.policy_check import Violation, check

SECRET = "https://shop-kv.vault.azure.net/secrets/shop-tls"
CERTIFICATES = [
    {"name": "shop-tls", "keyVaultSecretId": SECRET, "keyVaultResourceGroup": "secrets-rg"}
]
APP = {
    "name": "aspnetapp",
    "image": config.SAMPLE_IMAGE,
    "host": "shop.example.com",
    "tls": {"certificate": "shop-tls"},
}
TLS = {
    "gateway": {"certificates": CERTIFICATES},
    "workloads": [APP],
    "dns": {"zone": "example.com", "resourceGroup": "dns-rg"},
}
GATEWAY = "azure-native:network:ApplicationGateway"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
RECORD_SET = "azure-native:dns:RecordSet"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
VERIFICATION = "pulumi-python:dynamic/cutover:GatewayServesActive"
GATE = "pulumi-python:dynamic/cutover:CertificatesInstalled"
NOT_INSTALLED = (
    "after 600 s no app was given its certificate, because certificate 'shop-tls' is Failed"
)


GATEWAY_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/aksbg-prod-rg/providers/"
    "Microsoft.Network/applicationGateways/aksbg-prod-appgw"
)


class _NotInstalled(CloudMocks):
    """The cloud where the gateway took the certificate but cannot read it from Key Vault."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(args.typ)
        resource_id, state = super().new_resource(args)
        if args.typ == GATE:
            state = {**state, "installed": False, "message": NOT_INSTALLED}
        return resource_id, state


def _parse(**values: Any) -> config.StackConfig:
    return config.parse({"active": "blue", "access": ACCESS, **values})


def _refusal(**values: Any) -> str:
    with pytest.raises(config.ConfigError) as raised:
        _parse(**values)
    return str(raised.value)


@pytest.fixture(scope="module")
def tls_blue() -> Evaluation:
    return evaluate(with_overrides("blue", TLS), STACK)


@pytest.fixture(scope="module")
def tls_green() -> Evaluation:
    return evaluate(with_overrides("green", TLS), STACK)


# --- config ----------------------------------------------------------------------------------


def test_tls_config_reads_certificates_tls_and_dns() -> None:
    cfg = _parse(**TLS)
    [certificate] = cfg.gateway.certificates
    assert (certificate.vault_name, certificate.secret_name) == ("shop-kv", "shop-tls")
    [app] = cfg.workloads
    assert app.tls is not None and app.tls.redirect_http is True
    assert cfg.dns is not None and cfg.dns.record_name("shop.example.com") == "shop"
    assert cfg.dns.record_name("example.com") == "@"


@pytest.mark.parametrize(
    ("secret", "fix"),
    [
        ("shop-tls", "is not a Key Vault secret URL"),
        ("https://shop-kv.vault.azure.net/keys/shop-tls", "is not a Key Vault secret URL"),
        ("http://shop-kv.vault.azure.net/secrets/shop-tls", "is not a Key Vault secret URL"),
        ("https://shop-kv.example.com/secrets/shop-tls", "is not a Key Vault secret URL"),
        ("https://s--kv.vault.azure.net/secrets/shop-tls", "is not a Key Vault secret URL"),
        (
            "https://shop-kv.vault.azure.net/secrets/shop-tls/0123456789abcdef0123456789abcdef",
            "drop the version so the gateway picks up renewals: "
            "https://shop-kv.vault.azure.net/secrets/shop-tls",
        ),
    ],
)
def test_key_vault_secret_id_must_be_a_versionless_secret_url(secret: str, fix: str) -> None:
    certificates = [{**CERTIFICATES[0], "keyVaultSecretId": secret}]
    message = _refusal(gateway={"certificates": certificates})
    assert message.startswith("aks-bluegreen:gateway.certificates[0].keyVaultSecretId: ")
    assert fix in message


def test_a_trailing_slash_on_the_secret_id_is_accepted_and_dropped() -> None:
    certificates = [{**CERTIFICATES[0], "keyVaultSecretId": SECRET + "/"}]
    cfg = _parse(gateway={"certificates": certificates})
    assert cfg.gateway.certificates[0].key_vault_secret_id == SECRET


def test_a_host_with_tls_needs_its_certificate_on_the_gateway() -> None:
    message = _refusal(workloads=[APP])
    assert message.startswith("aks-bluegreen:workloads[0].tls.certificate: 'shop-tls' is not")
    assert "add it to aks-bluegreen:gateway.certificates" in message
    other = [{**CERTIFICATES[0], "name": "other"}]
    assert "(defined: other)" in _refusal(gateway={"certificates": other}, workloads=[APP])


def test_tls_needs_a_host() -> None:
    hostless = {key: value for key, value in APP.items() if key != "host"}
    message = _refusal(gateway={"certificates": CERTIFICATES}, workloads=[hostless])
    assert message.startswith("aks-bluegreen:workloads[0].tls: needs a host")


def test_a_certificate_name_is_defined_once() -> None:
    message = _refusal(gateway={"certificates": CERTIFICATES * 2}, workloads=[APP])
    assert message.startswith("aks-bluegreen:gateway.certificates[1].name: 'shop-tls' is used")


def test_a_dns_record_needs_the_host_in_the_zone() -> None:
    message = _refusal(**{**TLS, "dns": {"zone": "example.org", "resourceGroup": "dns-rg"}})
    assert message.startswith("aks-bluegreen:workloads[0].host: shop.example.com is not in")


def test_an_unused_certificate_is_a_warning_not_a_refusal() -> None:
    cfg = _parse(gateway={"certificates": CERTIFICATES})
    [note] = config.rules.unused_certificates(cfg)
    assert note.startswith("gateway.certificates[0]: 'shop-tls' is installed on the gateway")
    assert config.rules.unused_certificates(_parse(**TLS)) == []


def test_a_bad_certificate_stops_the_program_with_one_named_message(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    with pytest.raises(ProgramError) as raised:
        evaluate_variant("blue", workloads=[APP])
    message = str(raised.value)
    assert message.startswith("aks-bluegreen:workloads[0].tls.certificate: ")
    assert "\n" not in message and "Traceback" not in message


# --- what the program registers --------------------------------------------------------------


def test_gateway_gets_its_own_identity_and_the_certificates_from_key_vault(
    tls_blue: Evaluation,
) -> None:
    gateway = tls_blue.one(GATEWAY)
    identity = tls_blue.one(IDENTITY, "gateway-identity")
    assert identity.inputs["resourceName"] == "aksbg-prod-appgw-identity"
    assert gateway.inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [
            f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/aksbg-prod-rg/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/aksbg-prod-appgw-identity"
        ],
    }
    assert gateway.inputs["sslCertificates"] == [{"name": "shop-tls", "keyVaultSecretId": SECRET}]


def test_gateway_identity_may_read_only_the_certificates_secret(tls_blue: Evaluation) -> None:
    grant = tls_blue.one(ROLE_ASSIGNMENT, "gateway-shop-tls-secrets-user")
    assert grant.inputs["scope"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/secrets-rg/providers/"
        "Microsoft.KeyVault/vaults/shop-kv/secrets/shop-tls"
    )
    assert grant.inputs["roleDefinitionId"].endswith(
        f"/roleDefinitions/{ROLE_IDS['Key Vault Secrets User']}"
    )
    assert ROLE_IDS["Key Vault Secrets User"] == "4633458b-17de-408a-b874-0445c86b69e6"
    identity = tls_blue.one(IDENTITY, "gateway-identity")
    assert identity.urn in grant.property_dependencies["principalId"]
    # The gateway is written only once it may read the secret.
    assert grant.urn in tls_blue.one(GATEWAY).dependencies


def test_the_program_owns_the_certificates_and_agic_the_rest(
    tls_blue: Evaluation, blue: Evaluation
) -> None:
    with_tls = set(tls_blue.one(GATEWAY).ignore_changes)
    assert with_tls == set(AGIC_OWNED_PROPERTIES) - {"sslCertificates"}
    # Without certificates the gateway is exactly as before: no identity, certificates ignored.
    plain = blue.one(GATEWAY)
    assert set(plain.ignore_changes) == set(AGIC_OWNED_PROPERTIES)
    assert "identity" not in plain.inputs and "sslCertificates" not in plain.inputs
    assert not [r for r in blue.of_type(IDENTITY) if r.name == "gateway-identity"]


def test_ingress_names_the_certificate_and_redirects_after_the_gateway_has_it(
    tls_blue: Evaluation,
) -> None:
    gateway = tls_blue.one(GATEWAY)
    gate = tls_blue.one(GATE)
    for color in ("blue", "green"):
        ingress = tls_blue.one(INGRESS, f"{color}-aspnetapp-ingress")
        annotations = ingress.inputs["metadata"]["annotations"]
        assert annotations["appgw.ingress.kubernetes.io/appgw-ssl-certificate"] == "shop-tls"
        assert annotations["appgw.ingress.kubernetes.io/ssl-redirect"] == "true"
        assert ingress.inputs["spec"]["rules"][0]["host"] == "shop.example.com"
        assert "tls" not in ingress.inputs["spec"]
        # The annotation is made from the gate's verdict, which follows the gateway's write.
        assert gate.urn in ingress.property_dependencies["metadata"]
    assert gate.inputs == {
        "gatewayId": GATEWAY_ID,
        "certificates": {"shop-tls": SECRET},
        "timeoutSeconds": 600,
        "__provider": gate.inputs["__provider"],
    }
    assert gateway.urn in gate.dependencies


def test_a_certificate_the_gateway_cannot_install_stops_up_before_any_ingress_names_it() -> None:
    cloud = _NotInstalled()
    with pytest.raises(ProgramError) as failure:
        evaluate(with_overrides("blue", TLS), STACK, mocks=cloud)
    assert str(failure.value) == f"aks-bluegreen: {NOT_INSTALLED}"
    assert GATEWAY in cloud.registered and GATE in cloud.registered
    assert INGRESS not in cloud.registered


def test_preview_does_not_wait_for_the_certificates() -> None:
    stack = evaluate(with_overrides("blue", TLS), STACK, mocks=_NotInstalled(), preview=True)
    assert stack.of_type(INGRESS)


def test_redirect_off_is_written_as_false() -> None:
    app = config.WorkloadConfig.model_validate(
        {**APP, "tls": {"certificate": "shop-tls", "redirectHttp": False}}
    )
    assert tls_annotations(app) == {
        "appgw.ingress.kubernetes.io/appgw-ssl-certificate": "shop-tls",
        "appgw.ingress.kubernetes.io/ssl-redirect": "false",
    }
    assert tls_annotations(config.WorkloadConfig(name="plain", image=config.SAMPLE_IMAGE)) == {}


def test_dns_record_aliases_the_gateway_public_ip(tls_blue: Evaluation) -> None:
    [record] = tls_blue.of_type(RECORD_SET)
    public_ip = tls_blue.one(PUBLIC_IP)
    assert record.inputs == {
        "resourceGroupName": "dns-rg",
        "zoneName": "example.com",
        "relativeRecordSetName": "shop",
        "recordType": "A",
        "ttl": 300,
        "targetResource": {
            "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/aksbg-prod-rg/providers/"
            "Microsoft.Network/publicIPAddresses/aksbg-prod-appgw-pip"
        },
    }
    assert public_ip.urn in record.dependencies


def test_the_cutover_verification_checks_https_only_where_tls_is_configured(
    tls_blue: Evaluation, blue: Evaluation
) -> None:
    assert tls_blue.one(VERIFICATION).inputs["https"] == [
        {
            "host": "shop.example.com",
            "certificate": "shop-tls",
            "keyVaultSecretId": SECRET,
            "redirectHttp": True,
        }
    ]
    assert "https" not in blue.one(VERIFICATION).inputs


def test_smoke_gate_asks_for_the_host_the_gateway_routes(tls_blue: Evaluation) -> None:
    job = by_name(tls_blue, "blue-aspnetapp-smoke-job")
    command = job.inputs["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[4] == "http://aspnetapp.aspnetapp.svc.cluster.local:80/"
    assert command[-1] == "shop.example.com"


# --- the flip and the rollback with TLS ------------------------------------------------------


def test_flip_with_tls_touches_no_azure_resource(
    tls_blue: Evaluation, tls_green: Evaluation
) -> None:
    azure = [urn for urn, reg in tls_blue.resources.items() if reg.touches_cloud]
    tls_types = {tls_blue.resources[urn].type for urn in azure}
    assert {IDENTITY, ROLE_ASSIGNMENT, RECORD_SET, GATEWAY} <= tls_types
    for urn in azure:
        before, after = asdict(tls_blue.resources[urn]), asdict(tls_green.resources[urn])
        before.pop("protect"), after.pop("protect")
        assert before == after, urn
    assert set(tls_green.resources) == set(tls_blue.resources)


def test_flip_with_tls_changes_no_app_object_and_the_same_steps_as_without(
    tls_blue: Evaluation, tls_green: Evaluation, blue: Evaluation, green: Evaluation
) -> None:
    with_tls, without = diff(tls_blue, tls_green), diff(blue, green)
    assert {c.name: c.action for c in with_tls.changes.values() if c.action != "same"} == {
        c.name: c.action for c in without.changes.values() if c.action != "same"
    }
    for color in ("blue", "green"):
        ingress = tls_blue.one(INGRESS, f"{color}-aspnetapp-ingress")
        assert asdict(ingress) == asdict(tls_green.resources[ingress.urn])


def test_rollback_with_tls_restores_exactly_the_blue_graph(
    tls_blue: Evaluation, tls_green: Evaluation
) -> None:
    rolled_back = evaluate(with_overrides("blue", TLS), STACK)
    assert {u: asdict(r) for u, r in rolled_back.resources.items()} == {
        u: asdict(r) for u, r in tls_blue.resources.items()
    }
    assert rolled_back.outputs == tls_blue.outputs
    forward, back = diff(tls_blue, tls_green), diff(tls_green, rolled_back)
    assert {u: c.action for u, c in forward.changes.items()} == {
        u: c.action for u, c in back.changes.items()
    }


# --- the policy pack -------------------------------------------------------------------------


def _gateway_edited(stack: Evaluation, edit: Callable[[dict[str, Any]], None]) -> Evaluation:
    gateway = stack.one(GATEWAY)
    inputs = copy.deepcopy(gateway.inputs)
    edit(inputs)
    resources = {**stack.resources, gateway.urn: dataclasses.replace(gateway, inputs=inputs)}
    return Evaluation(resources, stack.outputs, stack.invokes)


def _mandatory(violations: list[Violation]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for violation in violations:
        if violation.mandatory:
            found.setdefault(violation.policy, []).append(violation.message)
    return found


def test_tls_variant_passes_every_policy(tls_blue: Evaluation, tls_green: Evaluation) -> None:
    for stack in (tls_blue, tls_green):
        assert check(stack) == []


def test_ingress_naming_a_certificate_no_gateway_carries_is_refused(
    tls_blue: Evaluation,
) -> None:
    broken = _gateway_edited(tls_blue, lambda inputs: inputs.pop("sslCertificates"))
    found = _mandatory(check(broken))
    # Without its certificates the gateway must also ignore them again.
    assert set(found) == {"tls-certificate-on-gateway", "gateway-ignores-agic-owned"}
    assert len(found["tls-certificate-on-gateway"]) == 2  # one Ingress per cluster
    assert (
        "names certificate 'shop-tls', which no gateway in the stack carries"
        in (found["tls-certificate-on-gateway"][0])
    )


@pytest.mark.parametrize(
    ("certificate", "words"),
    [
        ({"keyVaultSecretId": SECRET + "/0123abcd"}, "not a versionless Key Vault secret URL"),
        ({"keyVaultSecretId": None}, "not a versionless Key Vault secret URL"),
        ({"keyVaultSecretId": None, "data": "MIIK", "password": "x"}, "is uploaded as data"),
    ],
)
def test_gateway_certificates_come_from_key_vault_without_a_version(
    tls_blue: Evaluation, certificate: dict[str, Any], words: str
) -> None:
    def edit(inputs: dict[str, Any]) -> None:
        inputs["sslCertificates"][0].update(certificate)

    found = _mandatory(check(_gateway_edited(tls_blue, edit)))
    assert set(found) == {"gateway-certificates-from-key-vault"}
    assert words in found["gateway-certificates-from-key-vault"][0]


def test_redirect_without_a_certificate_is_refused(tls_blue: Evaluation) -> None:
    ingress = tls_blue.one(INGRESS, "blue-aspnetapp-ingress")
    inputs = copy.deepcopy(ingress.inputs)
    inputs["metadata"]["annotations"].pop("appgw.ingress.kubernetes.io/appgw-ssl-certificate")
    resources = {**tls_blue.resources, ingress.urn: dataclasses.replace(ingress, inputs=inputs)}
    found = _mandatory(check(Evaluation(resources, tls_blue.outputs, tls_blue.invokes)))
    assert set(found) == {"tls-certificate-on-gateway"}
    assert "ssl-redirect: true without" in found["tls-certificate-on-gateway"][0]


def test_a_certificate_no_ingress_names_is_only_advised(tls_blue: Evaluation) -> None:
    resources = dict(tls_blue.resources)
    for ingress in tls_blue.of_type(INGRESS):
        inputs = copy.deepcopy(ingress.inputs)
        annotations = inputs["metadata"]["annotations"]
        annotations.pop("appgw.ingress.kubernetes.io/appgw-ssl-certificate")
        annotations.pop("appgw.ingress.kubernetes.io/ssl-redirect")
        resources[ingress.urn] = dataclasses.replace(ingress, inputs=inputs)
    violations = check(Evaluation(resources, tls_blue.outputs, tls_blue.invokes))
    assert [(v.policy, v.enforcement_level) for v in violations] == [
        ("gateway-certificate-used", "advisory")
    ]

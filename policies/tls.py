"""HTTPS at the gateway: every certificate an Ingress names is on the gateway, from Key Vault.

AGIC 1.9.8 ignores, with a Warning event and nothing else, an Ingress whose
`appgw-ssl-certificate` names a certificate the gateway does not have, and one annotated
`ssl-redirect: true` without any certificate (pkg/controller/prune.go pruneNoSslCertificate,
pruneRedirectWithNoTLS): that app's listeners leave the gateway, and an AGIC left with no Ingress
writes its default listener and empty pool, a 502 for everyone. The gateway takes a certificate
from Key Vault by a versionless secret URL, which it re-reads every four hours
(learn.microsoft.com/azure/application-gateway/key-vault-certs); an uploaded PFX would sit in
the Pulumi state and never rotate. Kept apart from config/ on purpose: the pack runs without the
program and states the rules a second time, on what the program registered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.gateway import APPLICATION_GATEWAY
from policies.workloads import kubernetes_kind

SSL_CERTIFICATE = "appgw.ingress.kubernetes.io/appgw-ssl-certificate"
SSL_REDIRECT = "appgw.ingress.kubernetes.io/ssl-redirect"
# https://<vault>.vault.azure.net/secrets/<name>, no version (or the China / US Government
# suffixes): Key Vault's object identifier without its last segment.
KEY_VAULT_SECRET = re.compile(
    r"^https://[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]"
    r"\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net)"
    r"/secrets/[a-zA-Z0-9-]{1,127}/?$"
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def gateway_certificates(resources: Sequence[PolicyResource]) -> set[str]:
    """The names of every certificate the stack's gateways carry."""
    names: set[str] = set()
    for resource in resources:
        if resource.resource_type != APPLICATION_GATEWAY:
            continue
        for certificate in _sequence(resource.props.get("sslCertificates")):
            name = _mapping(certificate).get("name")
            if isinstance(name, str):
                names.add(name)
    return names


def _ingresses(resources: Sequence[PolicyResource]) -> list[PolicyResource]:
    return [r for r in resources if kubernetes_kind(r.resource_type) == "Ingress"]


def ingress_tls_problems(props: Mapping[str, Any], installed: set[str]) -> list[str]:
    """Why AGIC would ignore this Ingress's HTTPS, or nothing when it will serve it."""
    annotations = _mapping(_mapping(props.get("metadata")).get("annotations"))
    certificate = annotations.get(SSL_CERTIFICATE)
    redirect = str(annotations.get(SSL_REDIRECT, "")).lower() == "true"
    if certificate is None:
        if redirect:
            return [
                f"is annotated {SSL_REDIRECT}: true without {SSL_CERTIFICATE}, so AGIC ignores "
                "it and its routes leave the gateway; give the workload tls.certificate or drop "
                "the redirect"
            ]
        return []
    problems: list[str] = []
    if certificate not in installed:
        shown = ", ".join(sorted(installed)) or "none"
        problems.append(
            f"names certificate {certificate!r}, which no gateway in the stack carries "
            f"(installed: {shown}), so AGIC ignores the Ingress and its routes leave the gateway; "
            "add it to gateway.certificates"
        )
    hostless = [
        index
        for index, rule in enumerate(_sequence(_mapping(props.get("spec")).get("rules")))
        if not _mapping(rule).get("host")
    ]
    if hostless:
        problems.append(
            f"serves HTTPS on rule {hostless[0]} without a host, so the gateway could not choose "
            "the certificate by the name a client asks for; set the workload's host"
        )
    return problems


def validate_tls_certificate_on_gateway(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    installed = gateway_certificates(args.resources)
    for resource in _ingresses(args.resources):
        name = _mapping(resource.props.get("metadata")).get("name") or resource.name
        for problem in ingress_tls_problems(resource.props, installed):
            report_violation(f"Ingress {name!r} {problem}", resource.urn)


def validate_certificates_from_key_vault(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != APPLICATION_GATEWAY:
        return
    for certificate in _sequence(args.props.get("sslCertificates")):
        props = _mapping(certificate)
        name = props.get("name")
        secret = props.get("keyVaultSecretId")
        if props.get("data") or props.get("password"):
            report_violation(
                f"certificate {name!r} is uploaded as data: the PFX and its password would sit "
                "in the Pulumi state and never rotate; keep it in Key Vault and set "
                "keyVaultSecretId (gateway.certificates in the stack config)",
                None,
            )
        elif not isinstance(secret, str) or not KEY_VAULT_SECRET.match(secret):
            report_violation(
                f"certificate {name!r} has keyVaultSecretId {secret!r}, not a versionless Key "
                "Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>); with a "
                "version the gateway never picks up a renewal",
                None,
            )


def validate_certificates_used(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    used = {
        _mapping(_mapping(r.props.get("metadata")).get("annotations")).get(SSL_CERTIFICATE)
        for r in _ingresses(args.resources)
    }
    for resource in args.resources:
        if resource.resource_type != APPLICATION_GATEWAY:
            continue
        for certificate in _sequence(resource.props.get("sslCertificates")):
            name = _mapping(certificate).get("name")
            if name not in used:
                report_violation(
                    f"certificate {name!r} is installed on the gateway but no Ingress names it; "
                    "remove it from gateway.certificates once nothing uses it",
                    resource.urn,
                )


tls_certificate_on_gateway = StackValidationPolicy(
    name="tls-certificate-on-gateway",
    description=(
        "Every Ingress that serves HTTPS names a certificate a gateway of the stack carries, has "
        "a host, and redirects HTTP only with a certificate."
    ),
    validate=validate_tls_certificate_on_gateway,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

certificates_from_key_vault = ResourceValidationPolicy(
    name="gateway-certificates-from-key-vault",
    description=(
        "The gateway's certificates come from Key Vault by a versionless secret URL, never as an "
        "uploaded PFX."
    ),
    validate=validate_certificates_from_key_vault,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

certificates_used = StackValidationPolicy(
    name="gateway-certificate-used",
    description="Every certificate on the gateway is named by an Ingress.",
    validate=validate_certificates_used,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    tls_certificate_on_gateway,
    certificates_from_key_vault,
    certificates_used,
]

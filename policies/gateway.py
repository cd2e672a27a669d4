"""The Application Gateway: a v2 SKU AGIC can drive, and Pulumi's hands off what AGIC owns."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

APPLICATION_GATEWAY = "azure-native:network:ApplicationGateway"
V2_SKUS: tuple[str, ...] = ("Standard_v2", "WAF_v2")
# AGIC 1.9.8 writes these from the active cluster's Ingresses (the fields pkg/appgw assigns); a
# Pulumi diff on any of them would put the placeholder config back on the next `pulumi up` and
# cut traffic. Kept apart from components/gateway.py on purpose: the pack runs without the
# program's SDKs and is a second, independent statement of the rule, so a program that drops a
# collection is caught here.
AGIC_OWNED_PROPERTIES: tuple[str, ...] = (
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "httpListeners",
    "requestRoutingRules",
    "probes",
    "urlPathMaps",
    "redirectConfigurations",
    "rewriteRuleSets",
    "sslCertificates",
    "frontendPorts",
    "tags",
)


def validate_v2_sku(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != APPLICATION_GATEWAY:
        return
    sku = args.props.get("sku")
    sku = sku if isinstance(sku, Mapping) else {}
    for key in ("name", "tier"):
        value = sku.get(key)
        if value not in V2_SKUS:
            report_violation(
                f"sku.{key} is {value!r}: AGIC only drives v2 gateways; set sku.{key} to "
                f"{' or '.join(V2_SKUS)} (gateway.sku in the stack config)",
                None,
            )
    # ARM refuses a WAF_v2 gateway without a WAF policy (ApplicationGatewayFirewallNotConfigured-
    # ForSelectedSku) and attaches WAF policies to WAF_v2 gateways only.
    policy = args.props.get("firewallPolicy")
    has_policy = isinstance(policy, Mapping) and bool(policy.get("id"))
    if sku.get("tier") == "WAF_v2" and not has_policy:
        report_violation(
            "sku WAF_v2 without a firewallPolicy: Azure refuses a WAF_v2 gateway without a WAF "
            "policy; reference one in firewallPolicy (gateway.sku WAF_v2 in the stack config "
            "creates it)",
            None,
        )
    elif sku.get("tier") == "Standard_v2" and has_policy:
        report_violation(
            "a firewallPolicy on a Standard_v2 gateway: Azure attaches WAF policies to WAF_v2 "
            "gateways only; set sku to WAF_v2 (gateway.sku in the stack config) or drop "
            "firewallPolicy",
            None,
        )


def validate_ignores_agic_owned(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != APPLICATION_GATEWAY:
        return
    ignored = set(args.opts.ignore_changes)
    # AGIC keeps the certificates it finds on the gateway (pkg/appgw/certificates.go
    # getSslCertificates merges them into its write), so a gateway that declares its own
    # certificates may, and must, let Pulumi diff them: ignored, a certificate added later would
    # never be installed (policies/tls.py says why that drops the app).
    owns_certificates = bool(args.props.get("sslCertificates"))
    missing = [
        name
        for name in AGIC_OWNED_PROPERTIES
        if name not in ignored and not (owns_certificates and name == "sslCertificates")
    ]
    if missing:
        report_violation(
            f"ignore_changes does not cover {', '.join(missing)}: AGIC writes them, and Pulumi "
            "would reset them to the placeholder config on the next update; add them to the "
            "gateway's ignore_changes",
            None,
        )


v2_sku = ResourceValidationPolicy(
    name="gateway-v2-sku",
    description=(
        "The Application Gateway is Standard_v2 or WAF_v2, the SKUs AGIC supports; WAF_v2, and "
        "only WAF_v2, references a firewall policy."
    ),
    validate=validate_v2_sku,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

ignores_agic_owned = ResourceValidationPolicy(
    name="gateway-ignores-agic-owned",
    description="The Application Gateway's ignore_changes covers every collection AGIC writes.",
    validate=validate_ignores_agic_owned,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

POLICIES: list[ResourceValidationPolicy] = [v2_sku, ignores_agic_owned]

"""AKS clusters: networking AGIC can reach, workload identity, Entra ID sign-in only, a supported
Kubernetes version."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
# The program tags each cluster with its color so policies need not parse resource names.
COLOR_TAG = "aks-bluegreen-color"

MINIMUM_VERSION_KEY = "minimumVersion"
# The oldest minor in AKS standard support on the day config/catalogs/kubernetes_versions.py was
# taken (1.34 reached end of life on 2026-11-30; tests/test_catalogs.py holds the two together);
# raise it through the policy config rather than the code, so each environment moves at its own
# pace.
DEFAULT_MINIMUM_VERSION = "1.35"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?\Z")


def _mapping(value: Any) -> Mapping[str, Any]:
    # The engine hands over read-only proxies, not dicts: test for the abstract type.
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def cluster_color(props: Mapping[str, Any]) -> str | None:
    color = _mapping(props.get("tags")).get(COLOR_TAG)
    return color if isinstance(color, str) else None


def validate_azure_cni(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    profile = _mapping(args.props.get("networkProfile"))
    plugin = str(profile.get("networkPlugin") or "").lower()
    mode = str(profile.get("networkPluginMode") or "").lower()
    if plugin != "azure":
        report_violation(
            f"networkProfile.networkPlugin is {plugin or 'unset (kubenet)'!r}: AGIC writes pod IPs "
            "into the gateway's backend pools, so they must be VNet addresses; set "
            "network_plugin=NetworkPlugin.AZURE",
            None,
        )
    if mode == "overlay":
        report_violation(
            "networkProfile.networkPluginMode is 'overlay': overlay pod IPs are not routable from "
            "the Application Gateway subnet; remove network_plugin_mode (plain Azure CNI)",
            None,
        )


def validate_workload_identity(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    if _mapping(args.props.get("oidcIssuerProfile")).get("enabled") is not True:
        report_violation(
            "oidcIssuerProfile.enabled is not true: AGIC's federated credential needs the "
            "cluster's OIDC issuer; set oidc_issuer_profile=ManagedClusterOIDCIssuerProfileArgs("
            "enabled=True)",
            None,
        )
    security = _mapping(args.props.get("securityProfile"))
    if _mapping(security.get("workloadIdentity")).get("enabled") is not True:
        report_violation(
            "securityProfile.workloadIdentity.enabled is not true: AGIC authenticates to ARM "
            "with workload identity (AAD Pod Identity is retired); set security_profile="
            "ManagedClusterSecurityProfileArgs(workload_identity=...(enabled=True))",
            None,
        )


def validate_entra_id_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    aad = _mapping(args.props.get("aadProfile"))
    off = [
        key
        for key, value in (
            ("aadProfile.managed", aad.get("managed")),
            ("aadProfile.enableAzureRBAC", aad.get("enableAzureRBAC")),
            ("disableLocalAccounts", args.props.get("disableLocalAccounts")),
        )
        if value is not True
    ]
    if off:
        report_violation(
            f"{', '.join(off)} {'is' if len(off) == 1 else 'are'} not true: the cluster would "
            "keep local accounts, whose static credentials act as cluster admin for anyone who "
            "reads them; set aad_profile=ManagedClusterAADProfileArgs(managed=True, "
            "enable_azure_rbac=True) and disable_local_accounts=True",
            None,
        )


def parse_version(text: Any) -> tuple[int, ...] | None:
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def meets_minimum(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    """Numeric, over the parts both name: "1.31" means AKS's latest 1.31 patch, so it meets
    "1.31.2"; a plain string comparison would wrongly rank "1.9" above "1.31"."""
    common = min(len(version), len(minimum))
    return version[:common] >= minimum[:common]


def minimum_version(config: Mapping[str, Any]) -> tuple[str, tuple[int, ...]]:
    text = config.get(MINIMUM_VERSION_KEY, DEFAULT_MINIMUM_VERSION)
    parsed = parse_version(text)
    if parsed is None:
        # The CLI validates config against the schema first; this guards direct callers.
        raise ValueError(
            f"policy config {MINIMUM_VERSION_KEY}={text!r} is not a version like "
            f"{DEFAULT_MINIMUM_VERSION!r}"
        )
    return str(text), parsed


def validate_minimum_version(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    minimum_text, minimum = minimum_version(args.get_config())
    found: list[tuple[str, Any]] = [("kubernetesVersion", args.props.get("kubernetesVersion"))]
    for index, pool in enumerate(_sequence(args.props.get("agentPoolProfiles"))):
        version = _mapping(pool).get("orchestratorVersion")
        if version is not None:
            found.append((f"agentPoolProfiles[{index}].orchestratorVersion", version))
    color = cluster_color(args.props) or args.name
    fix = f"set clusters.{color}.kubernetesVersion to {minimum_text} or later in the stack config"
    too_old: list[str] = []
    for key, version in found:
        parsed = parse_version(version)
        if parsed is None:
            shown = "unset, so AKS picks its default" if version is None else repr(version)
            report_violation(f"{key} is {shown}, not a pinned Kubernetes version; {fix}", None)
        elif not meets_minimum(parsed, minimum):
            too_old.append(f"{key} {version}")
    if too_old:
        report_violation(
            f"{', '.join(too_old)} {'is' if len(too_old) == 1 else 'are'} older than the "
            f"minimum {minimum_text}; {fix}, or lower "
            "minimumVersion in the policy config",
            None,
        )


azure_cni = ResourceValidationPolicy(
    name="aks-azure-cni",
    description="AKS clusters use plain Azure CNI so the Application Gateway can reach pod IPs.",
    validate=validate_azure_cni,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

workload_identity = ResourceValidationPolicy(
    name="aks-workload-identity",
    description="AKS clusters enable the OIDC issuer and workload identity AGIC signs in with.",
    validate=validate_workload_identity,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

entra_id_only = ResourceValidationPolicy(
    name="aks-entra-id-only",
    description="AKS clusters sign callers in with Entra ID, authorize with Azure RBAC, and have "
    "no local accounts.",
    validate=validate_entra_id_only,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

minimum_kubernetes_version = ResourceValidationPolicy(
    name="aks-minimum-version",
    description="AKS clusters and their node pools run at least the configured Kubernetes version.",
    validate=validate_minimum_version,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={
            MINIMUM_VERSION_KEY: {
                "type": "string",
                "pattern": r"^v?\d+\.\d+(\.\d+)?$",
                "default": DEFAULT_MINIMUM_VERSION,
                "description": "Oldest Kubernetes version allowed, MAJOR.MINOR[.PATCH].",
            }
        }
    ),
)

POLICIES: list[ResourceValidationPolicy] = [
    azure_cni,
    workload_identity,
    entra_id_only,
    minimum_kubernetes_version,
]

"""Role assignments: each scoped to the one resource it is needed on, never a whole subscription."""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CONTRIBUTOR_ROLE_ID = "b24988ac-6180-42a0-ab88-20f7382dd24c"
# Azure Kubernetes Service RBAC Cluster Admin: every Kubernetes action on whatever it is scoped to
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers).
AKS_CLUSTER_ADMIN_ROLE_ID = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# ARM treats resource IDs case-insensitively, so the patterns do too.
_SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[^/]+/?\Z", re.IGNORECASE)
_MANAGEMENT_GROUP_SCOPE = re.compile(
    r"^/providers/Microsoft\.Management/managementGroups(/[^/]+)?/?\Z", re.IGNORECASE
)
_GATEWAY_SCOPE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"applicationGateways/[^/]+/?\Z",
    re.IGNORECASE,
)


_CLUSTER_SCOPE = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerService/"
    r"managedClusters/[^/]+/?\Z",
    re.IGNORECASE,
)


def is_broad_scope(scope: str) -> bool:
    return (
        scope.strip() in ("", "/")
        or bool(_SUBSCRIPTION_SCOPE.match(scope))
        or bool(_MANAGEMENT_GROUP_SCOPE.match(scope))
    )


def is_gateway_scope(scope: str) -> bool:
    return bool(_GATEWAY_SCOPE.match(scope))


def role_id(role_definition_id: Any) -> str:
    # Accepts a bare role GUID or a full .../roleDefinitions/<guid> ID.
    return str(role_definition_id or "").rstrip("/").rsplit("/", 1)[-1].lower()


def validate_no_broad_scope(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != ROLE_ASSIGNMENT:
        return
    scope = str(args.props.get("scope") or "")
    if is_broad_scope(scope):
        report_violation(
            f"role assignment {args.name!r} is scoped to {scope or '(nothing)'!r}, a whole "
            "subscription or management group; scope it to the one resource the identity needs "
            "(the gateway, its resource group or a subnet)",
            None,
        )


def validate_contributor_on_gateway(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != ROLE_ASSIGNMENT:
        return
    if role_id(args.props.get("roleDefinitionId")) != CONTRIBUTOR_ROLE_ID:
        return
    scope = str(args.props.get("scope") or "")
    if not is_gateway_scope(scope):
        report_violation(
            f"Contributor assignment {args.name!r} is scoped to {scope!r}; AGIC needs Contributor "
            "only on its gateway: scope it to .../providers/Microsoft.Network/"
            "applicationGateways/<name> (use Reader or Network Contributor for anything else)",
            None,
        )


def validate_cluster_admin_on_a_cluster(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != ROLE_ASSIGNMENT:
        return
    if role_id(args.props.get("roleDefinitionId")) != AKS_CLUSTER_ADMIN_ROLE_ID:
        return
    scope = str(args.props.get("scope") or "")
    if not _CLUSTER_SCOPE.match(scope):
        report_violation(
            f"AKS RBAC Cluster Admin assignment {args.name!r} is scoped to {scope!r}; at a "
            "resource group or above it would make its holder admin of every cluster there, "
            "those of other stacks included: scope it to .../providers/Microsoft."
            "ContainerService/managedClusters/<name>",
            None,
        )


no_broad_scope = ResourceValidationPolicy(
    name="role-assignment-not-subscription-wide",
    description="No role assignment at subscription, management-group or root scope.",
    validate=validate_no_broad_scope,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

contributor_on_gateway = ResourceValidationPolicy(
    name="contributor-only-on-gateway",
    description="Contributor is granted only on an Application Gateway.",
    validate=validate_contributor_on_gateway,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

cluster_admin_on_a_cluster = ResourceValidationPolicy(
    name="aks-cluster-admin-only-on-a-cluster",
    description="AKS RBAC Cluster Admin is granted on one cluster, never on a group of them.",
    validate=validate_cluster_admin_on_a_cluster,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES: list[ResourceValidationPolicy] = [
    no_broad_scope,
    contributor_on_gateway,
    cluster_admin_on_a_cluster,
]

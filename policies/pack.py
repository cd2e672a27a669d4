"""The pack's identity and its policies, in one list both the CLI and the offline plan load."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policies import access, agic, clusters, gateway, ingress, protection, tls, workloads

NAME = "aks-bluegreen"
DESCRIPTION = (
    "Guards of the aks-bluegreen stack: one AGIC release on the active cluster, a v2 gateway "
    "AGIC owns, Ingresses matched to AGIC by annotation, Azure CNI with workload identity, "
    "least-privilege roles, protected state."
)
# Every policy sets its own level; a policy added without one blocks rather than warns.
ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    *agic.POLICIES,
    *gateway.POLICIES,
    *ingress.POLICIES,
    *tls.POLICIES,
    *clusters.POLICIES,
    *access.POLICIES,
    *protection.POLICIES,
    *workloads.POLICIES,
]

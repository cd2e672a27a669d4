"""Stateful resources whose loss breaks serving are `protect`ed against accidental deletion.

The gateway, its public IP and the VNet are checked one by one, so a violation stops the update
before that resource is touched. The active cluster is only known across the stack (it is the one
AGIC serves from), so it is checked by a stack policy: the offline plan and `pulumi preview` catch
it before anything is deployed.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.agic import active_colors
from policies.clusters import COLOR_TAG, MANAGED_CLUSTER, cluster_color
from policies.gateway import APPLICATION_GATEWAY

PUBLIC_IP = "azure-native:network:PublicIPAddress"
VIRTUAL_NETWORK = "azure-native:network:VirtualNetwork"
# Why each one hurts to lose: part of the violation message, so the reader knows the stakes.
STATEFUL: dict[str, str] = {
    APPLICATION_GATEWAY: "deleting it drops all traffic and the config AGIC wrote",
    # The stack's only public IPs are the gateway's; a new one would change the address DNS
    # points at.
    PUBLIC_IP: "a new one gets a new address, and every DNS record pointing here breaks",
    VIRTUAL_NETWORK: "both clusters and the gateway sit in its subnets",
}


def validate_stateful_protected(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    stake = STATEFUL.get(args.resource_type)
    if stake is not None and not args.opts.protect:
        kind = args.resource_type.rsplit(":", 1)[-1]
        report_violation(
            f"{kind} {args.name!r} is not protected ({stake}); set protect=True in its "
            "ResourceOptions",
            None,
        )


def validate_active_cluster_protected(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    # Without an AGIC release there is no active cluster to name; agic-single-release says so.
    for color in active_colors(args.resources):
        for resource in args.resources:
            if (
                resource.resource_type == MANAGED_CLUSTER
                and cluster_color(resource.props) == color
                and not resource.opts.protect
            ):
                report_violation(
                    f"the active cluster {resource.name!r} ({COLOR_TAG}: {color}) serves all "
                    "traffic through AGIC but is not protected; set protect=True on the active "
                    "cluster's ManagedCluster (the standby may stay unprotected so it can be "
                    "retired)",
                    resource.urn,
                )


stateful_protected = ResourceValidationPolicy(
    name="protect-gateway-and-network",
    description="The Application Gateway, its public IP and the VNet are protected.",
    validate=validate_stateful_protected,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

active_cluster_protected = StackValidationPolicy(
    name="protect-active-cluster",
    description="The AKS cluster AGIC serves from is protected.",
    validate=validate_active_cluster_protected,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    stateful_protected,
    active_cluster_protected,
]

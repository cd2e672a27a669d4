"""The ingress controller: exactly one AGIC release, on the active cluster, replaced safely.

Two AGICs at once fight over the gateway and the old one can write last, so the release count and
its placement are checked across the stack. Which cluster is "active" is read from what the
program declares: the release is named `agic-<color>` and each ManagedCluster carries its color
tag; the release's Kubernetes provider must be the one built in that cluster's component.
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

from policies.clusters import COLOR_TAG, MANAGED_CLUSTER, cluster_color

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CHART_NAME = "ingress-azure"
_RELEASE_NAME = re.compile(r"^agic-(?P<color>[a-z0-9-]+)\Z")


def is_agic_release(resource_type: str, props: Mapping[str, Any]) -> bool:
    # Any ingress-azure chart counts, whatever repository it comes from: a second controller
    # fights over the gateway no matter where its chart was pulled.
    if resource_type != HELM_RELEASE:
        return False
    chart = props.get("chart")
    return isinstance(chart, str) and chart.rstrip("/").rsplit("/", 1)[-1] == CHART_NAME


def agic_releases(resources: Sequence[PolicyResource]) -> list[PolicyResource]:
    # The type first: the offline plan wraps a resource's props in the engine's proxy only when a
    # policy reads them (plan/policy_check.py), and most resources are not releases.
    return [
        r
        for r in resources
        if r.resource_type == HELM_RELEASE and is_agic_release(r.resource_type, r.props)
    ]


def release_name(release: PolicyResource) -> str:
    name = release.props.get("name")
    return name if isinstance(name, str) else release.name


def declared_color(release: PolicyResource) -> str | None:
    match = _RELEASE_NAME.match(release_name(release))
    return match.group("color") if match else None


def parent_urn(resource: PolicyResource) -> str | None:
    # The parent object is only filled in when the parent is among the analyzed resources.
    return resource.parent.urn if resource.parent is not None else resource.opts.parent


def provider_color(release: PolicyResource, resources: Sequence[PolicyResource]) -> str | None:
    """The color of the cluster whose component also built the release's Kubernetes provider."""
    if release.provider is None:
        return None
    provider = next((r for r in resources if r.urn == release.provider.urn), None)
    component = parent_urn(provider) if provider is not None else None
    if component is None:
        return None
    for resource in resources:
        if resource.resource_type == MANAGED_CLUSTER and parent_urn(resource) == component:
            return cluster_color(resource.props)
    return None


def active_colors(resources: Sequence[PolicyResource]) -> list[str]:
    """Colors AGIC is meant to serve from: the color a release is named for, else where it runs."""
    colors: list[str] = []
    for release in agic_releases(resources):
        color = declared_color(release) or provider_color(release, resources)
        if color is not None and color not in colors:
            colors.append(color)
    return colors


def validate_single_release(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    releases = agic_releases(args.resources)
    # A preview shows no outputs at all for a resource whose provider's config is not yet known,
    # as a Kubernetes provider's kubeconfig is before its cluster exists (pulumi/pulumi
    # sdk/go/common/resource/plugin/provider_plugin.go Create: `if !pcfg.known` returns empty
    # properties): such a release's chart cannot be seen, so a preview of a first deployment or
    # a cluster rebuild cannot tell; `pulumi up` runs this again with every output known.
    unseen = [
        r for r in args.resources if r.resource_type == HELM_RELEASE and "chart" not in r.props
    ]
    if not releases and unseen:
        return
    if not releases:
        report_violation(
            f"no AGIC Helm release (chart {CHART_NAME}) in the stack: nothing keeps the gateway in "
            "step with the Ingresses; install one, on the active cluster (components/agic.py)",
            None,
        )
    elif len(releases) > 1:
        names = ", ".join(f"{release_name(r)} ({r.urn})" for r in releases)
        report_violation(
            f"{len(releases)} AGIC releases ({names}): two controllers fight over the gateway and "
            "the old one can write last; keep exactly one, on the active cluster, and move it by "
            "changing `active`",
            None,
        )


def validate_release_on_active_cluster(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    colors = {
        color
        for r in args.resources
        if r.resource_type == MANAGED_CLUSTER and (color := cluster_color(r.props)) is not None
    }
    for release in agic_releases(args.resources):
        name = release_name(release)
        color = declared_color(release)
        if color is None or color not in colors:
            report_violation(
                f"AGIC release {name!r} does not name a cluster: name it agic-<color> where "
                f"<color> is the {COLOR_TAG} tag of the cluster it serves "
                f"({', '.join(sorted(colors)) or 'no tagged cluster found'})",
                release.urn,
            )
            continue
        if release.provider is None:
            report_violation(
                f"AGIC release {name!r} has no explicit provider and would install into whatever "
                f"cluster the ambient kubeconfig points at; set provider= to the {color} "
                "cluster's Kubernetes provider",
                release.urn,
            )
            continue
        runs_on = provider_color(release, args.resources)
        if runs_on != color:
            where = f"the {runs_on} cluster" if runs_on else "no AKS cluster of this stack"
            report_violation(
                f"AGIC release {name!r} is for the {color} cluster but its provider "
                f"{release.provider.name!r} belongs to {where}; set provider= to the Kubernetes "
                f"provider of the Cluster component whose ManagedCluster is tagged "
                f"{COLOR_TAG}: {color}",
                release.urn,
            )


def validate_delete_before_replace(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != HELM_RELEASE or not is_agic_release(args.resource_type, args.props):
        return
    if args.opts.delete_before_replace is not True:
        report_violation(
            "the AGIC release is not delete_before_replace: on a cut-over the new controller would "
            "start before the old one is uninstalled and both would write the gateway; set "
            "delete_before_replace=True in its ResourceOptions",
            None,
        )


single_release = StackValidationPolicy(
    name="agic-single-release",
    description="Exactly one AGIC Helm release exists in the stack.",
    validate=validate_single_release,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

release_on_active_cluster = StackValidationPolicy(
    name="agic-on-active-cluster",
    description="The AGIC release agic-<color> runs on the <color> cluster's Kubernetes provider.",
    validate=validate_release_on_active_cluster,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

release_delete_before_replace = ResourceValidationPolicy(
    name="agic-delete-before-replace",
    description="The AGIC release is replaced delete-before-create: two controllers never overlap.",
    validate=validate_delete_before_replace,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    single_release,
    release_on_active_cluster,
    release_delete_before_replace,
]

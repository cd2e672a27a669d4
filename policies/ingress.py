"""Ingresses AGIC serves: matched by the annotation, never through an IngressClass.

AGIC 1.9.8 (pkg/k8scontext/context.go IsIngressClass) decides from the `kubernetes.io/ingress.class`
annotation when it is set; only without it does it follow `spec.ingressClassName`, and then only
while that IngressClass exists. `helm uninstall` deletes the chart's IngressClass before the AGIC
Deployment (helm pkg/releaseutil/kind_sorter.go UninstallOrder), and AGIC re-processes on that
event: on a cut-over the old AGIC would see no Ingress and write an empty backend pool, and every
request would get 502 until the new AGIC writes. So in a stack with an AGIC release, an Ingress
either carries the AGIC annotation and no class field, or plainly belongs to another controller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.agic import agic_releases
from policies.workloads import kubernetes_kind

CLASS_ANNOTATION = "kubernetes.io/ingress.class"
AGIC_CONTROLLER = "azure/application-gateway"
# The IngressClass name AGIC serves by default (pkg/environment DefaultIngressClassResourceName)
# and the chart's default kubernetes.ingressClassResource.name.
AGIC_CLASS_RESOURCE = "azure-application-gateway"
_FIX = (
    f"remove spec.ingressClassName and set the annotation {CLASS_ANNOTATION}: {AGIC_CONTROLLER} "
    "(components/workload.py)"
)


def _mapping(value: Any) -> Mapping[str, Any]:
    # The engine hands over read-only proxies, not dicts: test for the abstract type.
    return value if isinstance(value, Mapping) else {}


def agic_class_names(resources: Sequence[PolicyResource]) -> set[str]:
    """IngressClass names through which AGIC could serve an Ingress in this stack."""
    names = {AGIC_CLASS_RESOURCE}
    for resource in resources:
        if kubernetes_kind(resource.resource_type) != "IngressClass":
            continue
        if _mapping(resource.props.get("spec")).get("controller") == AGIC_CONTROLLER:
            name = _mapping(resource.props.get("metadata")).get("name")
            names.add(name if isinstance(name, str) else resource.name)
    for release in agic_releases(resources):
        values = _mapping(release.props.get("values"))
        configured = _mapping(_mapping(values.get("kubernetes")).get("ingressClassResource"))
        if isinstance(configured.get("name"), str):
            names.add(configured["name"])
    return names


def ingress_problem(props: Mapping[str, Any], agic_classes: set[str]) -> str | None:
    """Why AGIC's claim on this Ingress could vanish mid-cut-over, or None when it cannot."""
    annotations = _mapping(_mapping(props.get("metadata")).get("annotations"))
    annotation = annotations.get(CLASS_ANNOTATION)
    class_name = _mapping(props.get("spec")).get("ingressClassName")
    if annotation == AGIC_CONTROLLER:
        if class_name:
            return (
                f"sets both the {CLASS_ANNOTATION} annotation and spec.ingressClassName "
                f"{class_name!r}, which the API server refuses on create; remove "
                "spec.ingressClassName"
            )
        return None
    if annotation:
        return None  # Another controller's Ingress: AGIC ignores it by the annotation alone.
    if class_name in agic_classes:
        return (
            f"reaches AGIC through spec.ingressClassName {class_name!r}: AGIC serves it only while "
            "that IngressClass exists, and uninstalling the AGIC release on a cut-over deletes "
            "the chart's class before the controller, so the old AGIC writes an empty backend "
            f"pool (502 for every request); {_FIX}"
        )
    if not class_name:
        return (
            "names no ingress controller: AGIC serves it only if its own IngressClass is the "
            "cluster default, which the AGIC release deletes on a cut-over; for the gateway, set "
            f"the annotation {CLASS_ANNOTATION}: {AGIC_CONTROLLER}; for another controller, set "
            "spec.ingressClassName to its class"
        )
    return None


def validate_ingress_by_annotation(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    if not agic_releases(args.resources):
        return
    agic_classes = agic_class_names(args.resources)
    for resource in args.resources:
        if kubernetes_kind(resource.resource_type) != "Ingress":
            continue
        problem = ingress_problem(resource.props, agic_classes)
        if problem is not None:
            name = _mapping(resource.props.get("metadata")).get("name") or resource.name
            report_violation(f"Ingress {name!r} {problem}", resource.urn)


ingress_by_annotation = StackValidationPolicy(
    name="ingress-agic-by-annotation",
    description=(
        "Ingresses reach AGIC by the kubernetes.io/ingress.class annotation, never through an "
        "IngressClass the AGIC release deletes on a cut-over."
    ),
    validate=validate_ingress_by_annotation,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
)

POLICIES: list[StackValidationPolicy] = [ingress_by_annotation]

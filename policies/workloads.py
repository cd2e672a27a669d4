"""Kubernetes workloads: judgement calls, so advisory: they warn and never block a cut-over."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

REPLICATED_KINDS: tuple[str, ...] = ("Deployment", "StatefulSet")
MINIMUM_REPLICAS = 2


def _mapping(value: Any) -> Mapping[str, Any]:
    # The engine hands over read-only proxies, not dicts: test for the abstract type.
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def kubernetes_kind(resource_type: str) -> str | None:
    # "kubernetes:apps/v1:Deployment" -> "Deployment"; every API version of a kind counts.
    if not resource_type.startswith("kubernetes:"):
        return None
    return resource_type.rsplit(":", 1)[-1]


def pod_spec(kind: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec = _mapping(props.get("spec"))
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
    elif kind not in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
        return None
    return _mapping(_mapping(spec.get("template")).get("spec"))


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in _sequence(spec.get(key)):
            yield _mapping(container)


_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")


def image_problem(image: str) -> str | None:
    """Why an image reference is not reproducible, or None when a digest pins it.

    A tag is a name the registry can move to other content: blue and green (or a node that
    pulls later) can then run different code under one reference. Only a digest names content.
    """
    if "@" in image:
        digest = image.rsplit("@", 1)[1]
        return None if _DIGEST.match(digest) else "has a malformed digest"
    # Only the last path segment can carry the tag: "registry:5000/app" has a port, not a tag.
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag or digest, so it means :latest"
    if last.rsplit(":", 1)[1] == "latest":
        return "uses :latest"
    return "is pinned by tag only, which the registry can move"


def validate_replicas(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if kubernetes_kind(args.resource_type) not in REPLICATED_KINDS:
        return
    replicas = _mapping(args.props.get("spec")).get("replicas")
    if replicas is None or replicas < MINIMUM_REPLICAS:
        shown = "unset (Kubernetes defaults to 1)" if replicas is None else int(replicas)
        report_violation(
            f"replicas is {shown}: a node drain or upgrade takes the app, and the gateway's "
            f"backend pool, down; set replicas to {MINIMUM_REPLICAS} or more "
            "(workloads[].replicas in the stack config)",
            None,
        )


def validate_images_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = kubernetes_kind(args.resource_type)
    spec = pod_spec(kind, args.props) if kind is not None else None
    if spec is None:
        return
    for container in containers(spec):
        image = container.get("image")
        problem = image_problem(image) if isinstance(image, str) else None
        if problem is not None:
            report_violation(
                f"container {container.get('name')!r} image {image!r} {problem}: blue and green "
                "could run different code under one name; pin it by digest (IMAGE:TAG@sha256:...,"
                " in workloads[].image or smoke.image)",
                None,
            )


replicas_at_least_two = ResourceValidationPolicy(
    name="workload-replicas-at-least-two",
    description="Deployments and StatefulSets run at least two replicas.",
    validate=validate_replicas,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
)

images_pinned = ResourceValidationPolicy(
    name="container-image-pinned",
    description="Container images are pinned by an @sha256 digest, not by a tag alone.",
    validate=validate_images_pinned,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
)

POLICIES: list[ResourceValidationPolicy] = [replicas_at_least_two, images_pinned]

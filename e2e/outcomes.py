"""What the real clusters hold after an `up`: the outcomes the engine's word alone cannot show.

After each `up` against the local API servers (e2e/clusters.py), each reachable cluster is
read back: the AGIC Helm release (helm keeps a release as a Secret of type helm.sh/release.v1
labelled owner=helm, name, status: helm pkg/storage/driver/secrets.go) is deployed in the active
cluster and in no other; its Deployment exists only there; every app's namespace, Deployment
(with all replicas ready), PodDisruptionBudget, NetworkPolicies and Ingress exist in every
enabled cluster, each accepted by a real API server's validation and admission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.agic import controller_deployment_name, release_name
from e2e.clusters import LocalClusters


@dataclass(frozen=True)
class Outcome:
    checks: int
    problems: tuple[str, ...]
    # Clusters not read: stopped (the break glass) or marked unreachable in the position.
    skipped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _helm_releases(clusters: LocalClusters, color: str, namespace: str) -> dict[str, str]:
    """Release name -> status of its newest revision, as helm stores them."""
    newest: dict[str, tuple[int, str]] = {}
    path = f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm"
    for secret in clusters.items(color, path):
        labels = secret["metadata"].get("labels") or {}
        revision = int(labels.get("version", 0))
        name = labels.get("name", "")
        if revision >= newest.get(name, (-1, ""))[0]:
            newest[name] = (revision, labels.get("status", ""))
    return {name: status for name, (_, status) in newest.items()}


def read_back(clusters: LocalClusters, config: dict[str, Any], key: str) -> Outcome:
    """The clusters against one position of the stack (`key` is the config namespace)."""
    active = config[f"{key}active"]
    agic_namespace = (config.get(f"{key}agic") or {}).get("namespace", "agic")
    broken = (config.get(f"{key}breakGlass") or {}).get("unreachableCluster")
    workloads = config.get(f"{key}workloads") or []
    checks = 0
    problems: list[str] = []
    skipped: list[str] = []

    def expect(condition: bool, problem: str) -> None:
        nonlocal checks
        checks += 1
        if not condition:
            problems.append(problem)

    for color, cluster in (config.get(f"{key}clusters") or {}).items():
        if not clusters.reachable(color) or color == broken:
            skipped.append(color)
            continue
        enabled = cluster.get("enabled", True)
        deployments = clusters.names(color, "/apis/apps/v1/deployments")
        releases = _helm_releases(clusters, color, agic_namespace)
        agic = f"{agic_namespace}/{controller_deployment_name(release_name(color))}"
        if color == active:
            expect(
                releases == {release_name(color): "deployed"},
                f"{color}: helm releases {releases}, want only {release_name(color)} deployed",
            )
            expect(agic in deployments, f"{color}: AGIC Deployment {agic} missing")
        else:
            expect(not releases, f"{color}: helm releases {releases} in the standby cluster")
            standby_agic = clusters.holds_agic(color)
            expect(not standby_agic, f"{color}: an AGIC Deployment in the standby cluster")
        if not enabled:
            continue
        namespaces = clusters.names(color, "/api/v1/namespaces")
        budgets = clusters.names(color, "/apis/policy/v1/poddisruptionbudgets")
        policies = clusters.items(color, "/apis/networking.k8s.io/v1/networkpolicies")
        ingresses = clusters.names(color, "/apis/networking.k8s.io/v1/ingresses")
        for app in workloads:
            namespace = app.get("namespace") or app["name"]
            name = f"{namespace}/{app['name']}"
            expect(namespace in namespaces, f"{color}: namespace {namespace} missing")
            expect(name in deployments, f"{color}: Deployment {name} missing")
            expect(name in ingresses, f"{color}: Ingress {name} missing")
            expect(
                any(b.startswith(f"{namespace}/") for b in budgets),
                f"{color}: no PodDisruptionBudget in {namespace}",
            )
            expect(
                any(p["metadata"]["namespace"] == namespace for p in policies),
                f"{color}: no NetworkPolicy in {namespace}",
            )
            if name in deployments:
                status = clusters.request(
                    color, "GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{app['name']}"
                )["status"]
                want = int(app.get("replicas", 3))
                expect(
                    status.get("readyReplicas") == want,
                    f"{color}: {name} has {status.get('readyReplicas')} of {want} ready",
                )
    return Outcome(checks, tuple(problems), tuple(skipped))

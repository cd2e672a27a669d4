"""The runbook's app in one cluster: Namespace, Deployment, Service and Ingress."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config import WorkloadConfig

INGRESS_CLASS = "azure-application-gateway"
SERVICE_PORT = 80


@dataclass(frozen=True)
class WorkloadArgs:
    config: WorkloadConfig
    provider: k8s.Provider


class Workload(pulumi.ComponentResource):
    namespace: str
    service_name: str
    service_url: str

    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Workload", name, None, opts)
        cfg = args.config
        ns = cfg.resolved_namespace
        labels = {"app.kubernetes.io/name": cfg.name, "app.kubernetes.io/part-of": "aks-bluegreen"}
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=k8s.meta.v1.ObjectMetaArgs(name=ns), opts=child
        )
        in_namespace = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=[namespace])
        )
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=cfg.name, namespace=ns, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=cfg.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name=cfg.name,
                                image=cfg.image,
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(container_port=cfg.container_port)
                                ],
                                # AGIC turns the readiness probe into the gateway's health probe;
                                # without one the gateway probes "/" on the pod port blindly.
                                readiness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(
                                        path=cfg.health_path, port=cfg.container_port
                                    ),
                                    period_seconds=5,
                                    failure_threshold=3,
                                ),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "100m", "memory": "128Mi"},
                                    limits={"memory": "256Mi"},
                                ),
                            )
                        ]
                    ),
                ),
            ),
            opts=in_namespace,
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=cfg.name, namespace=ns, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=labels,
                ports=[
                    k8s.core.v1.ServicePortArgs(port=SERVICE_PORT, target_port=cfg.container_port)
                ],
            ),
            opts=in_namespace,
        )
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=cfg.name,
                namespace=ns,
                labels=labels,
                # Only the cluster that hosts AGIC ever gets an address, and AGIC is installed
                # after the app; awaiting one would stall every update for 10 minutes and fail.
                annotations={"pulumi.com/skipAwait": "true"},
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=INGRESS_CLASS,
                rules=[
                    k8s.networking.v1.IngressRuleArgs(
                        host=cfg.host,
                        http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                            paths=[
                                k8s.networking.v1.HTTPIngressPathArgs(
                                    path=cfg.path,
                                    path_type="Prefix",
                                    backend=k8s.networking.v1.IngressBackendArgs(
                                        service=k8s.networking.v1.IngressServiceBackendArgs(
                                            name=cfg.name,
                                            port=k8s.networking.v1.ServiceBackendPortArgs(
                                                number=SERVICE_PORT
                                            ),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            opts=in_namespace,
        )
        self.namespace = ns
        self.service_name = cfg.name
        self.service_url = (
            f"http://{cfg.name}.{ns}.svc.cluster.local:{SERVICE_PORT}{cfg.health_path}"
        )
        self.register_outputs({"namespace": ns, "serviceUrl": self.service_url})

"""The runbook's app in one cluster: Namespace, Deployment, Service, Ingress, disruption budget,
NetworkPolicies.

Everything here is the same in both clusters and independent of `active`: a cut-over moves AGIC,
never the app. The Deployment, the Ingress annotations and the budget together let a pod leave
the gateway's backend pool (rollout, node drain, scale-in, and the cut-over's own pool swap)
without a request being dropped; the timings come from WorkloadConfig.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.network_policy import AppIngressArgs, app_network_policies
from components.pod_security import restricted_container, restricted_pod
from config import WorkloadConfig

SERVICE_PORT = 80
# The Ingress is matched to AGIC by this annotation and carries no spec.ingressClassName. AGIC
# 1.9.8 (pkg/k8scontext/context.go IsIngressClass) checks the annotation first and answers from it
# alone; by spec.ingressClassName it accepts an Ingress only while the named IngressClass exists.
# `helm uninstall` (helm pkg/action/uninstall.go) first runs the chart's pre-delete hook, a Job
# that removes overlay-network objects and skips when their CRD is absent, as on plain Azure CNI
# (chart templates/cleanup-job.yaml, pkg/cni/cleanup.go), then deletes in
# pkg/releaseutil/kind_sorter.go UninstallOrder: Ingress, IngressClass, Service, ..., Deployment.
# AGIC re-processes on IngressClass events, so with a class match the still-running old AGIC
# would see no Ingress and write an empty pool: 502 for everyone until the new AGIC writes. The
# annotation involves nothing the release deletes. An IngressClass owned by this program would
# outlive AGIC too, but it is one more object whose loss silently unserves every Ingress, and
# AGIC would only follow it with the chart's class resource support on; the annotation needs no
# object at all, and the release installs no class (components/agic.py).
# The API server refuses the annotation together with spec.ingressClassName on create
# (kubernetes pkg/apis/networking/validation ValidateIngressCreate) and only warns that the
# annotation is deprecated (pkg/registry/networking/ingress/strategy.go WarningsOnCreate); the
# DefaultIngressClass admission plugin leaves an Ingress with the annotation alone
# (plugin/pkg/admission/network/defaultingressclass), so no default class is added to it.
INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
AGIC_INGRESS_CLASS = "azure/application-gateway"
# AGIC 1.9.8 pkg/annotations: connection draining on the backend settings it writes for this
# Ingress; the gateway stops sending new requests to a removed member and lets the ones in flight
# finish for the timeout (Azure docs, Application Gateway features, "Connection draining").
CONNECTION_DRAINING = "appgw.ingress.kubernetes.io/connection-draining"
CONNECTION_DRAINING_TIMEOUT = "appgw.ingress.kubernetes.io/connection-draining-timeout"
# AGIC 1.9.8 pkg/annotations/ingress_annotations.go AppGwSslCertificate and SslRedirectKey.
APPGW_SSL_CERTIFICATE = "appgw.ingress.kubernetes.io/appgw-ssl-certificate"
SSL_REDIRECT = "appgw.ingress.kubernetes.io/ssl-redirect"
# The .NET runtime creates its diagnostics IPC socket in $TMPDIR (/tmp) at startup and fails to
# start when it cannot (dotnet/runtime#86259); ASP.NET Core buffers large request bodies there
# too. The read-only root filesystem keeps everything else immutable. Data-protection keys
# would go to $HOME/.aspnet, which is "/" for this UID and read-only: ASP.NET Core then keeps
# them in memory (aspnetcore DefaultKeyStorageDirectories: a directory it cannot create is no
# key store), which is what per-pod keys on an emptyDir would amount to anyway.
TMP_VOLUME = "tmp"
TMP_SIZE_LIMIT = "64Mi"


@dataclass(frozen=True)
class WorkloadArgs:
    config: WorkloadConfig
    provider: k8s.Provider
    # Where the Application Gateway's instances live: the only outside source the app admits.
    gateway_subnet_cidr: str
    # Resolves once the live gateway has the certificates installed (components/
    # certificate_gate.py); None when no certificate is configured.
    certificates_ready: pulumi.Output[bool] | None = None


def tls_annotations(
    cfg: WorkloadConfig, ready: pulumi.Output[bool] | None = None
) -> dict[str, pulumi.Input[str]]:
    """AGIC's annotations for HTTPS at the gateway with a certificate already installed on it.

    AGIC 1.9.8 (pkg/appgw/ingress_rules.go processIngressRuleWithTLS) makes an HTTPS listener
    for the rule's host that references the gateway's own certificate of that name, across
    namespaces, and with ssl-redirect also the HTTP listener whose rule redirects to it
    (pkg/appgw/redirects.go). The certificate stays the gateway's: whichever cluster's AGIC
    writes, it is on the gateway, so a flip never moves or re-uploads it.
    """
    if cfg.tls is None:
        return {}
    name = cfg.tls.certificate
    # Made from the gate's verdict: AGIC ignores an Ingress naming a certificate the gateway
    # lacks (pkg/controller/prune.go pruneNoSslCertificate), so the name reaches the cluster only
    # once the gateway has it; while it has not, the Ingress is not registered at all.
    certificate: pulumi.Input[str] = name if ready is None else ready.apply(lambda _: name)
    return {
        APPGW_SSL_CERTIFICATE: certificate,
        SSL_REDIRECT: "true" if cfg.tls.redirect_http else "false",
    }


class Workload(pulumi.ComponentResource):
    namespace: str
    service_name: str
    service_url: str
    route_url: str

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
                # A rollout never drops below the desired ready count: an old pod goes only
                # after its replacement is ready. The surge rounds up, so it is at least one pod.
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_unavailable=0, max_surge="25%"
                    ),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        # Counted from before preStop: outlasts preStop + the gateway's draining
                        # (config/rules.py).
                        termination_grace_period_seconds=cfg.termination_grace_period_seconds,
                        # The app never calls the Kubernetes API; a mounted token is only loot.
                        automount_service_account_token=False,
                        security_context=restricted_pod(),
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name=TMP_VOLUME,
                                empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(
                                    size_limit=TMP_SIZE_LIMIT
                                ),
                            )
                        ],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name=cfg.name,
                                image=cfg.image,
                                ports=[
                                    k8s.core.v1.ContainerPortArgs(container_port=cfg.container_port)
                                ],
                                security_context=restricted_container(),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp")
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
                                # Restarts a process that stopped answering; slower to fire than
                                # readiness, so a busy pod leaves the pool before it is killed.
                                liveness_probe=k8s.core.v1.ProbeArgs(
                                    http_get=k8s.core.v1.HTTPGetActionArgs(
                                        path=cfg.health_path, port=cfg.container_port
                                    ),
                                    initial_delay_seconds=10,
                                    period_seconds=10,
                                    timeout_seconds=3,
                                    failure_threshold=6,
                                ),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "100m", "memory": "128Mi"},
                                    limits={"memory": "256Mi"},
                                ),
                                # A deleted pod leaves the Service's endpoints at once, but the
                                # gateway keeps sending to it until AGIC's next write lands (10 s
                                # to minutes). Delaying SIGTERM keeps it serving meanwhile; the
                                # kubelet's own sleep handler needs no shell or `sleep` in the
                                # image (PodLifecycleSleepAction, on by default since 1.30).
                                lifecycle=k8s.core.v1.LifecycleArgs(
                                    pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                                        sleep=k8s.core.v1.SleepActionArgs(
                                            seconds=cfg.pre_stop_delay_seconds
                                        )
                                    )
                                ),
                            )
                        ],
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
                annotations={
                    INGRESS_CLASS_ANNOTATION: AGIC_INGRESS_CLASS,
                    CONNECTION_DRAINING: "true",
                    CONNECTION_DRAINING_TIMEOUT: str(cfg.draining_timeout_seconds),
                    # Only the cluster that hosts AGIC ever gets an address, and AGIC is
                    # installed after the app; awaiting one would stall every update for 10
                    # minutes and fail.
                    "pulumi.com/skipAwait": "true",
                    **tls_annotations(cfg, args.certificates_ready),
                },
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
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
        # A node drain or upgrade evicts one pod at a time and never more: all but one replica
        # keep serving. maxUnavailable 1 always leaves an eviction allowed while every pod is
        # ready; AKS refuses to upgrade a cluster with a maxUnavailable 0 budget
        # (UnsatisfiablePDB) and fails a drain that stays blocked past the node pool's drain
        # timeout (30 minutes by default), so a budget must never allow zero. AlwaysAllow lets a
        # pod that is not ready (crash-looping, say) be evicted regardless, so a broken pod
        # cannot hold a node; only a ready pod's eviction waits, while another pod is not ready.
        # unhealthyPodEvictionPolicy is GA since Kubernetes 1.31 (beta, on by default, from 1.27).
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-disruption-budget",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=cfg.name, namespace=ns, labels=labels),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=in_namespace,
        )
        app_network_policies(
            name,
            AppIngressArgs(
                namespace=ns,
                app_labels=labels,
                container_port=cfg.container_port,
                gateway_subnet_cidr=args.gateway_subnet_cidr,
            ),
            in_namespace,
        )
        self.namespace = ns
        self.service_name = cfg.name
        base = f"http://{cfg.name}.{ns}.svc.cluster.local:{SERVICE_PORT}"
        self.service_url = f"{base}{cfg.health_path}"
        # What the gateway's rule sends to the Service: the route's own path (the smoke gate's).
        self.route_url = f"{base}{cfg.path}"
        self.register_outputs({"namespace": ns, "serviceUrl": self.service_url})

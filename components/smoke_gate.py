"""The in-cluster smoke test a cluster must pass before AGIC may point the gateway at it.

The runbook curls the new cluster's app from inside before switching. Here that is a Job: the
Kubernetes provider waits for a Job to complete and fails the update if it fails, and the AGIC
release depends on the active cluster's gates, so AGIC is never moved onto an app that does not
answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.network_policy import SMOKE_GATE_LABELS
from components.pod_security import restricted_container, restricted_pod
from components.workload import Workload
from config import SmokeConfig, WorkloadConfig

# POSIX sh, run by the curl image: "2xx within the attempts" or exit 1. curl's --fail would let a
# 3xx through; the explicit status check does not. The request is the one the gateway will send
# for the app: its route's path, and the Host header of the app's host. Application Gateway
# passes the client's Host on to the backend unless told to override it (AGIC's backend-hostname
# annotation, unused here), so an app that filters hosts (ASP.NET Core AllowedHosts) or routes by
# them answers the gate as it will answer the gateway.
SMOKE_SCRIPT = """\
url="$1"; attempts="$2"; timeout="$3"; interval="$4"; host="${5:-}"
if [ -n "$host" ]; then set -- --header "Host: $host"; else set --; fi
i=1
while [ "$i" -le "$attempts" ]; do
  code=$(curl --silent --output /dev/null --write-out '%{http_code}' \\
    --max-time "$timeout" "$@" "$url") || code="${code:-000}"
  case "$code" in
    2??) echo "smoke: $url${host:+ (Host: $host)} answered $code"; exit 0 ;;
  esac
  echo "smoke: attempt $i/$attempts: $url${host:+ (Host: $host)} answered $code"
  i=$((i + 1))
  [ "$i" -le "$attempts" ] && sleep "$interval"
done
echo "smoke: $url never answered 2xx"
exit 1
"""
RETRY_INTERVAL_SECONDS = 3
# A failed gate is stored with initialization errors, and the engine re-runs an update of such a
# resource on every later `up` (pulumi/pulumi step_generator.go: "If resource was unchanged, but
# there were initialization errors, generate an empty update step"), which re-awaits the same
# failed Job and fails again. With this annotation pulumi-kubernetes' Diff reads the live Job
# and, when it is not complete, asks for a replacement (provider.go Diff, ReplaceUnready; Jobs
# are the kind it supports), delete-before-replace since the name is fixed and unchanged: the
# next `up` deletes the failed Job and runs a fresh one.
REPLACE_UNREADY = {"pulumi.com/replaceUnready": "true"}


@dataclass(frozen=True)
class SmokeGateArgs:
    workload: Workload
    workload_config: WorkloadConfig
    kubernetes_version: str
    serves_ingress: bool
    config: SmokeConfig
    provider: k8s.Provider


def job_name(args: SmokeGateArgs) -> str:
    """The Job's name carries a digest of everything it vouches for.

    A Job runs once; a new name is what makes Pulumi create a fresh one. The digest covers the
    app's spec, the cluster's version and whether this cluster is the one AGIC serves from, so
    the gate re-runs when the app or cluster changes and on every cut-over, in both directions.
    """
    vouches_for = {
        "workload": args.workload_config.model_dump(mode="json"),
        "kubernetesVersion": args.kubernetes_version,
        "servesIngress": args.serves_ingress,
        "smoke": args.config.model_dump(mode="json"),
    }
    digest = hashlib.sha256(json.dumps(vouches_for, sort_keys=True).encode()).hexdigest()[:10]
    return f"smoke-{args.workload_config.name}"[:52] + f"-{digest}"


class SmokeGate(pulumi.ComponentResource):
    job_name: str

    def __init__(
        self, name: str, args: SmokeGateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:SmokeGate", name, None, opts)
        cfg = args.config
        self.job_name = job_name(args)
        deadline = cfg.attempts * (cfg.timeout_seconds + RETRY_INTERVAL_SECONDS) + 30
        k8s.batch.v1.Job(
            f"{name}-job",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.job_name,
                namespace=args.workload.namespace,
                labels={"app.kubernetes.io/part-of": "aks-bluegreen", **SMOKE_GATE_LABELS},
                annotations=REPLACE_UNREADY,
            ),
            # No ttlSecondsAfterFinished: a Job the cluster deletes by itself reads as drift and
            # would be re-created, and re-run, by the next `pulumi up --refresh`.
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=0,
                active_deadline_seconds=deadline,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    # The app's NetworkPolicy admits the gate's pods by this label.
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=SMOKE_GATE_LABELS),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        automount_service_account_token=False,
                        security_context=restricted_pod(),
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="smoke",
                                image=cfg.image,
                                command=[
                                    "sh",
                                    "-c",
                                    SMOKE_SCRIPT,
                                    "smoke",
                                    args.workload.route_url,
                                    str(cfg.attempts),
                                    str(cfg.timeout_seconds),
                                    str(RETRY_INTERVAL_SECONDS),
                                    args.workload_config.host or "",
                                ],
                                security_context=restricted_container(),
                                resources=k8s.core.v1.ResourceRequirementsArgs(
                                    requests={"cpu": "10m", "memory": "16Mi"},
                                    limits={"memory": "64Mi"},
                                ),
                            )
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.workload],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{deadline + 60}s"),
            ),
        )
        self.register_outputs({"jobName": self.job_name})

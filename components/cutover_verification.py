"""The last step of every `pulumi up`: wait until the live gateway serves the active cluster.

AGIC reports Ready when its informer cache has synced, not when its gateway write succeeded, so a
finished Helm release proves nothing about traffic. This step runs after the release, on every
flip, rollback, AGIC or app change, and waits (bounded by `cutover.timeoutSeconds`) until the
gateway's provisioning state is Succeeded, the apps' pool addresses all lie in the active
cluster's subnet and none in the other's, and backend health calls each of them healthy; for apps
with TLS, also that each host has its HTTPS listener with the certificate installed
(live_gateway/listeners.py). It
changes nothing in Azure, and does nothing during `pulumi preview`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from components.agic import backend_pool_name, controller_deployment_name
from components.workload import SERVICE_PORT
from config import PROJECT, AgicConfig, CertificateConfig, Color, WorkloadConfig
from live_gateway.listeners import HttpsRoute
from live_gateway.providers import GatewayServesProvider


class GatewayServesActive(pulumi.dynamic.Resource, module="cutover", name="GatewayServesActive"):
    serving: pulumi.Output[bool]
    message: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Outputs are declared as None inputs, as pulumi.dynamic requires for them to be read.
        outcome = {"serving": None, "waitedSeconds": None, "message": None, "seen": None}
        super().__init__(GatewayServesProvider(), name, {**props, **outcome}, opts)


@dataclass(frozen=True)
class CutoverVerificationArgs:
    gateway_id: pulumi.Input[str]
    active: Color
    # Every color's cluster subnet, retired ones included: an address there is not "active".
    subnets: Mapping[Color, str]
    workloads: Sequence[WorkloadConfig]
    # The AGIC release the verification follows, and what names it.
    release: pulumi.Resource
    release_name: str
    agic: AgicConfig
    timeout_seconds: int
    certificates: Sequence[CertificateConfig] = ()


def app_pools(workloads: Sequence[WorkloadConfig]) -> list[str]:
    """The gateway pools AGIC writes for the apps: Service port to the pods' port."""
    return [
        backend_pool_name(w.resolved_namespace, w.name, SERVICE_PORT, w.container_port)
        for w in workloads
    ]


def https_routes(
    workloads: Sequence[WorkloadConfig], certificates: Sequence[CertificateConfig]
) -> list[HttpsRoute]:
    """What HTTPS clients reach: each TLS app's host with its certificate and redirect."""
    secrets = {c.name: c.key_vault_secret_id for c in certificates}
    return [
        HttpsRoute(w.host, w.tls.certificate, secrets[w.tls.certificate], w.tls.redirect_http)
        for w in workloads
        if w.tls is not None and w.host is not None
    ]


def _apps_digest(workloads: Sequence[WorkloadConfig]) -> str:
    # A rollout of an app changes its pool's addresses: verify again after it.
    text = json.dumps([w.model_dump(mode="json") for w in workloads], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _confirm(outcome: list[Any]) -> str:
    serving, message = outcome
    if pulumi.runtime.is_dry_run() or serving:
        return str(message or "")
    # A RunError is reported by the language host as its message alone, no traceback
    # (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec); an exception in an apply
    # reaches it because the runtime awaits every output before the program ends (pulumi 3.272
    # output.py `_track`, runtime/stack.py `wait_for_rpcs`).
    raise pulumi.RunError(
        f"{PROJECT}: {message or 'the cut-over verification recorded no outcome'}"
    )


class CutoverVerification(pulumi.ComponentResource):
    serving: pulumi.Output[bool]
    message: pulumi.Output[str]

    def __init__(
        self, name: str, args: CutoverVerificationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:CutoverVerification", name, None, opts)
        logs = (
            f"kubectl -n {args.agic.namespace} logs "
            f"deploy/{controller_deployment_name(args.release_name)}"
        )
        routes = https_routes(args.workloads, args.certificates)
        check = GatewayServesActive(
            f"{name}-gateway-serves",
            {
                "gatewayId": args.gateway_id,
                "activeColor": args.active,
                "subnets": dict(args.subnets),
                "pools": app_pools(args.workloads),
                "appsDigest": _apps_digest(args.workloads),
                "agicRelease": args.release_name,
                "agicNamespace": args.agic.namespace,
                "chartVersion": args.agic.chart_version,
                "controllerLogs": logs,
                "timeoutSeconds": args.timeout_seconds,
                # Only with TLS, so a stack without it verifies with exactly the inputs it had.
                **({"https": [route.to_props() for route in routes]} if routes else {}),
            },
            pulumi.ResourceOptions(parent=self, depends_on=[args.release]),
        )
        self.serving = check.serving
        self.message = pulumi.Output.all(check.serving, check.message).apply(_confirm)
        self.register_outputs({"serving": self.serving, "message": self.message})

"""The gate between installing the gateway's certificates and any app naming one.

AGIC writes whatever certificate an Ingress names, and ignores the whole Ingress when the gateway
lacks it (pkg/controller/prune.go pruneNoSslCertificate), listeners and all. So the apps' TLS
annotation is derived from this gate's verdict: it resolves only once the live gateway reports
every configured certificate installed from Key Vault (live_gateway/certificates.py), and when it
does not, `pulumi up` stops with one line before any Ingress changes, HTTP still serving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic

from config import PROJECT, CertificateConfig
from live_gateway.certificates import CertificatesInstalledProvider


class CertificatesInstalled(
    pulumi.dynamic.Resource, module="cutover", name="CertificatesInstalled"
):
    installed: pulumi.Output[bool]
    message: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        outcome = {"installed": None, "message": None, "seen": None}
        super().__init__(CertificatesInstalledProvider(), name, {**props, **outcome}, opts)


@dataclass(frozen=True)
class CertificateGateArgs:
    gateway_id: pulumi.Input[str]
    # The gateway resource whose write installs the certificates.
    gateway: pulumi.Resource
    certificates: Sequence[CertificateConfig]
    timeout_seconds: int


def _confirm(outcome: list[Any]) -> bool:
    installed, message = outcome
    if pulumi.runtime.is_dry_run() or installed:
        return True
    # Raised in an apply, the RunError is reported as its message alone, and every output
    # derived from this one (the apps' annotations) never resolves, so no Ingress is registered
    # with a certificate the gateway cannot serve (components/cutover_verification.py `_confirm`).
    raise pulumi.RunError(f"{PROJECT}: {message or 'the certificate gate recorded no outcome'}")


class CertificateGate(pulumi.ComponentResource):
    # Resolves once the certificates are installed; what an app's TLS annotation is made from.
    ready: pulumi.Output[bool]
    check: pulumi.Resource

    def __init__(
        self, name: str, args: CertificateGateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:CertificateGate", name, None, opts)
        self.check = CertificatesInstalled(
            f"{name}-installed",
            {
                "gatewayId": args.gateway_id,
                "certificates": {c.name: c.key_vault_secret_id for c in args.certificates},
                "timeoutSeconds": args.timeout_seconds,
            },
            pulumi.ResourceOptions(parent=self, depends_on=[args.gateway]),
        )
        self.ready = pulumi.Output.all(self.check.installed, self.check.message).apply(_confirm)
        self.register_outputs({"ready": self.ready})

"""The gate before an app names a certificate: the live gateway has it, installed from Key Vault.

The gateway write that adds a certificate is Pulumi's; ARM can accept it while the gateway still
cannot fetch the secret (a grant still propagating, a vault firewall), and AGIC writes whatever an
Ingress names without looking. So after the write and before any Ingress carries the name, this
waits, bounded, until ARM reports every configured certificate on the gateway with provisioning
Succeeded and the configured secret (live_gateway/listeners.py certificate_findings). It runs
when the certificates change, not on a flip: they are the gateway's, and a flip leaves them be.
Like the cut-over verification it only reads, records its outcome rather than raising (a raise
would reach the user as the provider host's traceback), and waits again on the next `up` while
its last outcome was not installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from live_gateway.arm import GatewayReadError
from live_gateway.deadline import Clock, Deadline, Sleep
from live_gateway.listeners import certificate_findings, certificate_states
from live_gateway.providers import PROVIDER_KEY, _ArmAccess
from live_gateway.waiting import Gateway, pause

CERTIFICATES_INSTALLED_TYPE = "pulumi-python:dynamic/cutover:CertificatesInstalled"
OUTCOME_KEYS = ("installed", "message", "seen")


def wait_until_installed(
    gateway: Gateway,
    certificates: Mapping[str, str],
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock,
    sleep: Sleep,
) -> tuple[bool, str, dict[str, Any]]:
    """(installed, message, what was seen): every certificate name -> secret on the gateway."""
    deadline = Deadline(timeout_seconds, clock, sleep, grace=poll_seconds)
    findings: list[str] = []
    seen: dict[str, Any] = {}
    failure: GatewayReadError | None = None
    while True:
        try:
            states = certificate_states(gateway.gateway(deadline))
            failure, seen = None, dict(sorted(states.items()))
            findings = [
                finding
                for name, secret in sorted(certificates.items())
                for finding in certificate_findings(states, name, secret)
            ]
            if not findings:
                names = ", ".join(sorted(certificates))
                return True, f"certificates installed on the gateway: {names}", seen
        except GatewayReadError as err:
            failure = err
            if not err.transient:
                break
        if not pause(failure, poll_seconds, deadline):
            break
    waited = round(deadline.elapsed())
    if failure is not None:
        what = f"could not read the gateway's certificates ({failure})"
    else:
        what = "; ".join(findings)
    return (
        False,
        f"after {waited} s no app was given its certificate, because {what}; HTTP and the "
        "other apps serve as before. Fix it and run `pulumi up --refresh` again (it waits again), "
        "or revert the change",
        seen,
    )


class CertificatesInstalledProvider(_ArmAccess, ResourceProvider):
    """Create/Update wait, bounded, until the gateway reports the certificates installed."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs = set(news) - {PROVIDER_KEY, *OUTCOME_KEYS}
        changed = [key for key in sorted(inputs) if olds.get(key) != news.get(key)]
        if olds.get("installed") is not True:
            changed.append("installed")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("certificates-installed", self._wait(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._wait(news))

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        inputs = {key: value for key, value in props.items() if key != PROVIDER_KEY}
        try:
            gateway = self._gateway(props["gatewayId"])
        except GatewayReadError as err:
            return {**inputs, "installed": False, "message": str(err), "seen": {}}
        try:
            installed, message, seen = wait_until_installed(
                gateway,
                dict(props["certificates"]),
                float(props["timeoutSeconds"]),
                self.poll_seconds,
                self.clock,
                self.sleep,
            )
        finally:
            gateway.close()
        return {**inputs, "installed": installed, "message": message, "seen": seen}

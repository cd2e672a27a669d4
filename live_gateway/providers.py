"""The two dynamic providers: the cut-over verification and the retire guard.

Why a dynamic provider rather than a Job in the cluster under AGIC's workload identity: it runs
where `pulumi up` runs, as whoever runs it (their `az login`, or the workflow's OIDC app), so it
needs no new identity, no image and no role for AGIC beyond what AGIC has; it reads the gateway
as ARM reports it, which a Job would too but only after its own image pull and token exchange,
the very steps that can fail during a cut-over; and the engine never calls Create or Update in
`pulumi preview`, so a preview waits for nothing. Check does run in preview and in `up`, before
anything is deleted (the engine generates deletes only after the program has registered
everything: pulumi/pulumi pkg/resource/deploy/deployment_executor.go, performPostSteps), which is
where the retire guard refuses.

Errors raised here reach the user as the provider host's traceback (pulumi 3.272
dynamic/__main__.py `_abort_with_traceback`). So the verification does not raise on a timeout: it
records `serving: false` and its message, the program turns that into one `pulumi.RunError` line
(components/cutover_verification.py), and `diff` re-runs the wait on the next `up` while the
stored outcome is not `serving`. Nothing else escapes either: arm.py names every answer it cannot
use, and whatever is left (a bug here, a library's surprise) becomes that same one line.
"""

from __future__ import annotations

import os
import time
from ipaddress import IPv4Network
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ResourceProvider,
    UpdateResult,
)

from live_gateway.arm import ARM_ENDPOINT_VARIABLE, ArmGateway, GatewayReadError, first_line
from live_gateway.caller import caller_credential
from live_gateway.deadline import Clock, Sleep
from live_gateway.listeners import HttpsRoute, wait_until_https
from live_gateway.serving import Expectation, addresses_in
from live_gateway.waiting import ROLLBACK, Outcome, retry_faults, wait_until_serving

PROVIDER_KEY = "__provider"
# The resource types the program registers these providers under (pulumi.dynamic.Resource
# subclasses with module "cutover", in components/); named here for readers of the plan.
GATEWAY_SERVES_TYPE = "pulumi-python:dynamic/cutover:GatewayServesActive"
RETIRE_GUARD_TYPE = "pulumi-python:dynamic/cutover:RetireGuard"
# What Create/Update add to the inputs; every other property is an input, and a change of any
# input (the flip or rollback, AGIC's release or chart, the apps, the subnets, the bound) means
# the gateway is verified again.
OUTCOME_KEYS = ("serving", "waitedSeconds", "message", "seen")
# Seconds between looks at the gateway: AGIC writes in 10-20 s.
POLL_SECONDS = 10.0
# The retire guard reads once per preview; it retries only throttling and faults, this long.
GUARD_READ_SECONDS = 60.0


def _is_known(value: Any) -> bool:
    # In a preview before the gateway exists its ID is unknown: the SDK hands Check a sentinel.
    return isinstance(value, str) and value.startswith("/subscriptions/")


def _without_provider(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key != PROVIDER_KEY}


class _ArmAccess:
    """How a provider reaches ARM. Plain data, so the pickled provider is a few bytes and the
    same in every evaluation; tests point it at a loopback ARM and Entra ID. The credential is
    chosen where the provider runs, from that process's environment (caller.py), never pickled.
    The clock and sleep every wait runs on are the standard library's, pickled by reference;
    tests give a provider a clock of their own, so a bound is measured on it, not on a loaded
    machine's wall time."""

    def __init__(
        self,
        arm_endpoint: str | None = None,
        ca_bundle: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        authority_host: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.arm_endpoint = arm_endpoint
        self.ca_bundle = ca_bundle
        self.poll_seconds = poll_seconds
        self.authority_host = authority_host
        self.clock = clock
        self.sleep = sleep

    def _arm(self) -> str | None:
        """ARM's endpoint: the provider's own, else the variable of the process it runs in."""
        return self.arm_endpoint or os.environ.get(ARM_ENDPOINT_VARIABLE) or None

    def _gateway(self, gateway_id: str) -> ArmGateway:
        return ArmGateway(
            gateway_id,
            caller_credential(self.authority_host, self.ca_bundle),
            self._arm(),
            self.ca_bundle,
            operation_poll_seconds=min(self.poll_seconds, 5),
        )


class GatewayServesProvider(_ArmAccess, ResourceProvider):
    """Create/Update wait, bounded, until the live gateway serves the active cluster. Nothing in
    Azure is changed: it only reads."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        inputs = set(news) - {PROVIDER_KEY, *OUTCOME_KEYS}
        changed = [key for key in sorted(inputs) if olds.get(key) != news.get(key)]
        # The last wait timed out (or never finished): the next `up` waits again.
        if olds.get("serving") is not True:
            changed.append("serving")
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("gateway-serves-active", self._verify(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._verify(news))

    def _verify(self, props: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._wait(props)
        except Exception as err:
            outcome = {"serving": False, "waitedSeconds": 0, "seen": {}}
            message = f"the cut-over verification failed: {unexpected(err)}"
            return {**_without_provider(props), **outcome, "message": message}

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        expect = Expectation(
            active=props["activeColor"],
            subnets=dict(props["subnets"]),
            pools=tuple(props["pools"]),
            controller_logs=props["controllerLogs"],
        )
        try:
            gateway = self._gateway(props["gatewayId"])
        except GatewayReadError as err:
            outcome = {"serving": False, "waitedSeconds": 0, "message": str(err), "seen": {}}
            return {**_without_provider(props), **outcome}
        timeout = float(props["timeoutSeconds"])
        try:
            result = wait_until_serving(
                gateway, expect, timeout, self.poll_seconds, self.clock, self.sleep
            )
            # Apps with TLS: once the pools serve the active cluster, the same AGIC write must
            # also have given each host its HTTPS listener with a certificate the gateway could
            # install, or HTTPS clients get nothing while the pools look right.
            routes = [HttpsRoute.from_props(route) for route in props.get("https") or []]
            if result.serving and routes:
                https = wait_until_https(
                    gateway,
                    routes,
                    max(timeout - result.waited_seconds, self.poll_seconds),
                    self.poll_seconds,
                    self.clock,
                    self.sleep,
                )
                result = https_outcome(result, https, expect.active)
        finally:
            gateway.close()
        return {
            **_without_provider(props),
            "serving": result.serving,
            "waitedSeconds": result.waited_seconds,
            "message": result.message,
            "seen": result.seen,
        }


def https_outcome(pools: Outcome, https: Outcome, active: str) -> Outcome:
    """The verification's one outcome: the pools' verdict, then the HTTPS one."""
    seen = {**pools.seen, "https": https.seen}
    waited = pools.waited_seconds + https.waited_seconds
    if https.serving:
        return Outcome(True, waited, f"{pools.message}; {https.message}", seen)
    return Outcome(
        False,
        waited,
        f"the gateway serves {active} but {https.message}; {ROLLBACK}",
        seen,
    )


class RetireGuardProvider(_ArmAccess, ResourceProvider):
    """Check refuses while the live gateway has a backend address in the retired subnet. Reading
    the gateway needs only Reader, so pull-request previews run it too."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        gateway_id = news.get("gatewayId")
        if not _is_known(gateway_id):
            return CheckResult(news, [])
        color, cidr = news.get("retiredColor"), news.get("subnetCidr")
        doing = "replacing" if news.get("change") == "replace" else "retiring"
        done = "replaced" if news.get("change") == "replace" else "retired"
        verb = "replace" if news.get("change") == "replace" else "retire"
        try:
            still = self._addresses(str(gateway_id), str(cidr))
        except Exception as err:
            if not isinstance(err, GatewayReadError):
                err = GatewayReadError(unexpected(err), transient=False)
            return CheckResult(
                news,
                [
                    CheckFailure(
                        "",
                        f"cannot tell whether the gateway still sends traffic to {color} "
                        f"({err}), so {color} is not {done}; the principal running Pulumi "
                        "needs Reader on the gateway",
                    )
                ],
            )
        if still:
            return CheckResult(
                news,
                [
                    CheckFailure(
                        "",
                        f"the live gateway still has {len(still)} backend address(es) in "
                        f"{color}'s subnet {cidr} ({', '.join(still)}): {color} is serving, "
                        f"so {doing} it would cut those requests; cut over first (active: "
                        f"the other color), confirm with `pulumi up`, then {verb} {color}",
                    )
                ],
            )
        return CheckResult(news, [])

    def _addresses(self, gateway_id: str, cidr: str) -> list[str]:
        IPv4Network(cidr)  # a malformed input is named before ARM is asked
        gateway = self._gateway(gateway_id)
        try:
            document = retry_faults(
                gateway.gateway, GUARD_READ_SECONDS, self.poll_seconds, self.clock, self.sleep
            )
        finally:
            gateway.close()
        return addresses_in(document, cidr)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("gatewayId", "retiredColor", "subnetCidr")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['retiredColor']}-retired", _without_provider(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_without_provider(news))


def unexpected(err: Exception) -> str:
    """One line for what no check above foresaw: never a traceback into the engine's output."""
    if isinstance(err, GatewayReadError):
        return str(err)
    return f"{type(err).__name__}: {first_line(err)}"

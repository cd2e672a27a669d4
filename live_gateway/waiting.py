"""The bounded wait: look at the gateway until it serves the active cluster or time runs out.

AGIC reports Ready when its informer cache has synced, not when its gateway write succeeded
(AGIC pkg/controller/controller.go, `Readiness`: ready once `k8sContext.CacheSynced` is closed);
its first write after an install takes 10-20 s and can take minutes, or keep failing while a role
assignment or federated credential propagates. So the verdict is the gateway's, read again every
`poll_seconds`, never AGIC's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from live_gateway.arm import GatewayReadError
from live_gateway.serving import Expectation, Verdict, judge, sighting

Clock = Callable[[], float]
Sleep = Callable[[float], None]

ROLLBACK = (
    "revert the change to roll back, or fix the cause and run `pulumi up` again (it waits again)"
)


class Gateway(Protocol):
    def gateway(self) -> dict[str, Any]: ...

    def backend_health(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    serving: bool
    waited_seconds: int
    message: str
    seen: dict[str, Any] = field(default_factory=dict)


def look(gateway: Gateway, expect: Expectation) -> Verdict:
    """One look: the gateway's pools first; backend health only once the pools are right, as it
    is a long-running operation ARM takes seconds to answer."""
    document = gateway.gateway()
    first = judge(expect, sighting(document, expect.pools))
    if not first.needs_health:
        return first
    return judge(expect, sighting(document, expect.pools, gateway.backend_health()))


def wait_until_serving(
    gateway: Gateway,
    expect: Expectation,
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Outcome:
    start = clock()
    deadline = start + timeout_seconds
    verdict: Verdict | None = None
    failure: GatewayReadError | None = None
    while True:
        try:
            verdict, failure = look(gateway, expect), None
            if verdict.serving:
                return Outcome(True, round(clock() - start), verdict.finding, verdict.seen)
        except GatewayReadError as err:
            failure = err
            if not err.transient:
                break
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(poll_seconds, remaining))
    waited = round(clock() - start)
    return Outcome(False, waited, _message(expect, waited, verdict, failure), _seen(verdict))


# A guard reading an existing gateway has no propagation to wait for: a 403 or 404 is an answer.
_ANSWERS = frozenset({401, 403, 404})


def retry_faults(
    read: Callable[[], dict[str, Any]],
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    """`read()`, retried on throttling, server faults and connection errors until the bound."""
    deadline = clock() + timeout_seconds
    while True:
        try:
            return read()
        except GatewayReadError as err:
            remaining = deadline - clock()
            if not err.transient or err.status in _ANSWERS or remaining <= 0:
                raise
            sleep(min(poll_seconds, remaining))


def _seen(verdict: Verdict | None) -> dict[str, Any]:
    return verdict.seen if verdict else {}


def _message(
    expect: Expectation, waited: int, verdict: Verdict | None, failure: GatewayReadError | None
) -> str:
    head = f"the gateway does not serve {expect.active}"
    if failure is not None:
        saw = f"; the last look before it: {verdict.finding}" if verdict else ""
        return (
            f"{head}: could not read it ({failure}) after {waited} s{saw}. "
            f"{_access_hint(failure)}{ROLLBACK}"
        )
    assert verdict is not None
    return f"{head}: {verdict.finding} after {waited} s: {verdict.cause}; {ROLLBACK}"


def _access_hint(failure: GatewayReadError) -> str:
    if failure.status in (401, 403):
        return (
            "Whoever runs `pulumi up` needs Microsoft.Network/applicationGateways/read and "
            ".../backendhealth/action on the gateway (Contributor on it grants both; a new "
            "assignment can take minutes to apply). "
        )
    return ""

"""The bounded wait: look at the gateway until it serves the active cluster or time runs out.

AGIC reports Ready when its informer cache has synced, not when its gateway write succeeded
(AGIC pkg/controller/controller.go, `Readiness`: ready once `k8sContext.CacheSynced` is closed);
its first write after an install takes 10-20 s and can take minutes, or keep failing while a role
assignment or federated credential propagates. So the verdict is the gateway's, read again every
`poll_seconds`, never AGIC's.

The bound holds: every read is given what is left of it (live_gateway/deadline.py), a server's
Retry-After is honoured but never past it, and the wait returns within the bound plus one poll
interval whatever ARM, Entra ID, GitHub or `az` do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from live_gateway.arm import GatewayReadError
from live_gateway.deadline import Clock, Deadline, Sleep
from live_gateway.serving import Expectation, Verdict, judge, sighting

ROLLBACK = (
    "revert the change to roll back, or fix the cause and run `pulumi up` again (it waits again)"
)


class Gateway(Protocol):
    def gateway(self, deadline: Deadline) -> dict[str, Any]: ...

    def backend_health(self, deadline: Deadline) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    serving: bool
    waited_seconds: int
    message: str
    seen: dict[str, Any] = field(default_factory=dict)


def look(gateway: Gateway, expect: Expectation, deadline: Deadline) -> Verdict:
    """One look: the gateway's pools first; backend health only once the pools are right, as it
    is a long-running operation ARM takes seconds to answer."""
    document = gateway.gateway(deadline)
    first = judge(expect, sighting(document, expect.pools))
    if not first.needs_health:
        return first
    return judge(expect, sighting(document, expect.pools, gateway.backend_health(deadline)))


def pause(failure: GatewayReadError | None, poll_seconds: float, deadline: Deadline) -> bool:
    """Sleep until the next look: `poll_seconds`, or longer when the server asked for that with
    Retry-After. False, without sleeping, when the next look would start past the deadline."""
    remaining = deadline.looking()
    asked = (failure.retry_after or 0) if failure else 0
    if remaining <= 0 or asked > remaining:
        return False
    deadline.sleep(min(max(poll_seconds, asked), remaining))
    return True


def wait_until_serving(
    gateway: Gateway,
    expect: Expectation,
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Outcome:
    deadline = Deadline(timeout_seconds, clock, sleep, grace=poll_seconds)
    verdict: Verdict | None = None
    failure: GatewayReadError | None = None
    while True:
        try:
            verdict, failure = look(gateway, expect, deadline), None
            if verdict.serving:
                return Outcome(True, round(deadline.elapsed()), verdict.finding, verdict.seen)
        except GatewayReadError as err:
            failure = err
            if not err.transient:
                break
        if not pause(failure, poll_seconds, deadline):
            break
    waited = round(deadline.elapsed())
    return Outcome(False, waited, _message(expect, waited, verdict, failure), _seen(verdict))


# A guard reading an existing gateway has no propagation to wait for: a 403 or 404 is an answer.
_ANSWERS = frozenset({401, 403, 404})


def retry_faults(
    read: Callable[[Deadline], dict[str, Any]],
    timeout_seconds: float,
    poll_seconds: float,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    """`read(deadline)`, retried on throttling, server faults and connection errors until the
    bound, honouring Retry-After within it."""
    deadline = Deadline(timeout_seconds, clock, sleep)
    while True:
        try:
            return read(deadline)
        except GatewayReadError as err:
            if (
                not err.transient
                or err.status in _ANSWERS
                or not pause(err, poll_seconds, deadline)
            ):
                raise


def _seen(verdict: Verdict | None) -> dict[str, Any]:
    return verdict.seen if verdict else {}


def _message(
    expect: Expectation, waited: int, verdict: Verdict | None, failure: GatewayReadError | None
) -> str:
    head = f"the gateway does not serve {expect.active}"
    if failure is not None and failure.transient and (failure.retry_after or 0) > 0:
        saw = f"; the last look before it: {verdict.finding}" if verdict else ""
        return (
            f"{head}: could not read it ({failure}; the server asked to wait "
            f"{failure.retry_after:.0f} s, past the bound) after {waited} s{saw}. {ROLLBACK}"
        )
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

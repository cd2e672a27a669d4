"""The bounded wait around the live judge, called directly: how often it looks, when it stops,
what it says; and the retries of a single read. Time is a fake clock; the gateway is scripted
with ARM-shaped documents (tests/arm_documents.py); tests/test_live_gateway.py runs the same wait
through the real client against a loopback ARM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import FrozenInstanceError
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arm_documents import BLUE, GREEN, POOL, SUBNETS, gateway, health, up
from fake_clock import FakeClock
from live_gateway.arm import GatewayReadError
from live_gateway.deadline import Deadline
from live_gateway.serving import Expectation
from live_gateway.waiting import ROLLBACK, Outcome, look, retry_faults, wait_until_serving

LOGS = "kubectl -n agic logs deploy/agic-green-ingress-azure"
TO_GREEN = Expectation(active="green", subnets=SUBNETS, pools=(POOL,), controller_logs=LOGS)
SERVING = gateway({POOL: GREEN})
OLD = gateway({POOL: BLUE})
UP = health({POOL: [up(GREEN)]})
HEAD = "the gateway does not serve green"
ACCESS = (
    "Whoever runs `pulumi up` needs Microsoft.Network/applicationGateways/read and "
    ".../backendhealth/action on the gateway (Contributor on it grants both; a new "
    "assignment can take minutes to apply). "
)

Answer = dict[str, Any] | GatewayReadError
# Not zero: a wait that counts from the clock's zero rather than its own start is then wrong.
START = 1000.0


class Scripted:
    """Each read takes the next answer (the last one repeats) and notes the clock's time."""

    def __init__(
        self,
        clock: FakeClock,
        gets: Sequence[Answer],
        healths: Sequence[Answer] = (),
        read_seconds: float = 0,
    ) -> None:
        self.clock = clock
        self.read_seconds = read_seconds
        self.gets, self.healths = list(gets), list(healths)
        self.get_times: list[float] = []
        self.health_times: list[float] = []

    @staticmethod
    def _next(answers: list[Answer]) -> dict[str, Any]:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, GatewayReadError):
            raise answer
        return answer

    def gateway(self, deadline: Deadline | None = None) -> dict[str, Any]:
        self.get_times.append(self.clock.now)
        self.clock.now += self.read_seconds
        return self._next(self.gets)

    def backend_health(self, deadline: Deadline | None = None) -> dict[str, Any]:
        self.health_times.append(self.clock.now)
        return self._next(self.healths)


def fault(status: int | None, transient: bool = True) -> GatewayReadError:
    return GatewayReadError(f"HTTP {status} fault", transient=transient, status=status)


def waiting(
    gets: Sequence[Answer],
    healths: Sequence[Answer] = (UP,),
    timeout: float = 600,
    poll: float = 60,
    clock: FakeClock | None = None,
) -> tuple[Outcome, Scripted, FakeClock]:
    clock = clock or FakeClock(START)
    scripted = Scripted(clock, gets, healths)
    outcome = wait_until_serving(scripted, TO_GREEN, timeout, poll, clock, clock.sleep)
    return outcome, scripted, clock


# --- one look --------------------------------------------------------------------------------


def test_a_look_asks_for_backend_health_only_once_the_pools_are_right() -> None:
    clock = FakeClock(START)
    old = Scripted(clock, [OLD], [UP])
    assert not look(old, TO_GREEN, Deadline(60)).serving
    assert old.health_times == []
    right = Scripted(clock, [SERVING], [UP])
    found = look(right, TO_GREEN, Deadline(60))
    assert found.serving, found.finding
    assert (len(right.get_times), len(right.health_times)) == (1, 1)
    assert found.seen["health"] == dict.fromkeys(GREEN, "Up")


def test_a_look_judges_the_pools_it_read_with_the_health_it_read() -> None:
    down = health({POOL: [{**up(GREEN), GREEN[0]: "Down"}]})
    found = look(Scripted(FakeClock(START), [SERVING], [down]), TO_GREEN, Deadline(60))
    assert not found.serving
    assert not found.needs_health
    assert found.finding == "1 of 3 addresses in green's subnet are not healthy (10.241.0.4 Down)"


# --- the wait --------------------------------------------------------------------------------


def test_a_gateway_already_serving_is_confirmed_at_once_without_sleeping() -> None:
    outcome, scripted, clock = waiting([SERVING])
    assert outcome == Outcome(
        True, 0, "3 addresses in green's subnet 10.241.0.0/16, all healthy", outcome.seen
    )
    assert outcome.seen["addresses"]["green"] == list(GREEN)
    assert clock.sleeps == []
    assert scripted.get_times == [1000.0]


def test_the_wait_looks_every_poll_until_agic_rewrites_the_pools() -> None:
    outcome, scripted, _ = waiting([OLD, OLD, gateway({POOL: GREEN}, "Updating"), SERVING])
    assert outcome.serving
    assert outcome.waited_seconds == 180
    assert scripted.get_times == [1000.0, 1060.0, 1120.0, 1180.0]
    assert scripted.health_times == [1180.0]


def test_a_gateway_that_never_serves_is_looked_at_through_the_last_instant_of_the_bound() -> None:
    outcome, scripted, clock = waiting([OLD])
    assert not outcome.serving
    assert outcome.waited_seconds == 600
    # At 0, 60, ..., 600 s: the look at the bound itself counts, nothing after it.
    assert scripted.get_times == [1000.0 + 60 * n for n in range(11)]
    assert clock.sleeps == [60] * 10
    assert outcome.message == (
        f"{HEAD}: 3 of 3 addresses still in blue's subnet 10.240.0.0/16 after 600 s: "
        f"AGIC on green has not written the gateway ({LOGS}); {ROLLBACK}"
    )
    assert outcome.seen["addresses"]["blue"] == list(BLUE)


def test_the_last_sleep_is_cut_to_the_bound() -> None:
    outcome, scripted, clock = waiting([OLD], timeout=100, poll=60)
    assert clock.sleeps == [60, 40]
    assert scripted.get_times == [1000.0, 1060.0, 1100.0]
    assert outcome.waited_seconds == 100


def test_the_last_second_of_the_bound_is_still_waited_for() -> None:
    _, scripted, clock = waiting([OLD], timeout=61, poll=60)
    assert scripted.get_times == [1000.0, 1060.0, 1061.0]
    assert clock.sleeps == [60, 1]


def test_reads_that_take_time_end_the_wait_once_the_bound_is_passed() -> None:
    clock = FakeClock(START)
    slow = Scripted(clock, [OLD], read_seconds=7)
    outcome = wait_until_serving(slow, TO_GREEN, 100, 60, clock, clock.sleep)
    # Looks at 0, 67 and 100 s; the last one ends at 107 s, past the bound: no more sleep.
    assert slow.get_times == [1000.0, 1067.0, 1100.0]
    assert clock.sleeps == [60, 26]
    assert outcome.waited_seconds == 107


def test_an_outcome_cannot_be_changed_once_given() -> None:
    outcome, _, _ = waiting([SERVING])
    with pytest.raises(FrozenInstanceError):
        outcome.serving = False  # type: ignore[misc]


@pytest.mark.parametrize("start", [0.0, 7.0, 86_400.0])
def test_the_time_waited_is_counted_from_the_start_whatever_the_clock_reads(start: float) -> None:
    # A monotonic clock's zero is arbitrary: only differences mean anything.
    served, _, _ = waiting([OLD, SERVING], clock=FakeClock(start))
    assert served.waited_seconds == 60
    never, _, _ = waiting([OLD], clock=FakeClock(start))
    assert never.waited_seconds == 600


def test_the_time_waited_is_rounded_to_whole_seconds() -> None:
    outcome, _, _ = waiting([OLD], timeout=2.6, poll=1.3)
    assert outcome.waited_seconds == 3
    assert "after 3 s" in outcome.message


def test_unhealthy_backends_fail_naming_the_probes() -> None:
    down = health({POOL: [{**up(GREEN), GREEN[2]: "Down"}]})
    outcome, scripted, _ = waiting([SERVING], [down], timeout=60)
    assert not outcome.serving
    assert outcome.message == (
        f"{HEAD}: 1 of 3 addresses in green's subnet are not healthy (10.241.0.6 Down) after "
        "60 s: the gateway's probes do not reach the app in green: check its readiness and "
        f"`az network application-gateway show-backend-health`; {ROLLBACK}"
    )
    assert outcome.seen["health"][GREEN[2]] == "Down"
    assert len(scripted.health_times) == 2


def test_a_transient_fault_is_waited_out_and_forgotten_once_a_look_succeeds() -> None:
    outcome, scripted, _ = waiting([fault(429), fault(503), OLD], timeout=180)
    assert not outcome.serving
    assert scripted.get_times == [1000.0, 1060.0, 1120.0, 1180.0]
    # The message is the last look's, not the fault's: the fault cleared.
    assert outcome.message.startswith(f"{HEAD}: 3 of 3 addresses still in blue's subnet")


def test_a_transient_fault_until_the_bound_is_named_with_the_last_look_before_it() -> None:
    outcome, scripted, _ = waiting([OLD, fault(503)], timeout=120)
    assert not outcome.serving
    assert len(scripted.get_times) == 3
    assert outcome.message == (
        f"{HEAD}: could not read it (HTTP 503 fault) after 120 s; the last look before it: "
        f"3 of 3 addresses still in blue's subnet 10.240.0.0/16. {ROLLBACK}"
    )
    assert outcome.seen["addresses"]["blue"] == list(BLUE)


def test_a_fault_in_backend_health_is_waited_out_like_one_in_the_gateway() -> None:
    outcome, scripted, _ = waiting([SERVING], [fault(500), UP])
    assert outcome.serving
    assert outcome.waited_seconds == 60
    assert scripted.health_times == [1000.0, 1060.0]


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_that_never_clears_names_the_permissions_needed(status: int) -> None:
    outcome, scripted, _ = waiting([fault(status)], timeout=120)
    assert not outcome.serving
    assert len(scripted.get_times) == 3  # a new role assignment can take minutes to apply
    assert outcome.message == (
        f"{HEAD}: could not read it (HTTP {status} fault) after 120 s. {ACCESS}{ROLLBACK}"
    )
    assert outcome.seen == {}


def test_a_permanent_failure_ends_the_wait_at_once() -> None:
    outcome, scripted, clock = waiting([fault(None, transient=False)])
    assert outcome == Outcome(
        False, 0, f"{HEAD}: could not read it (HTTP None fault) after 0 s. {ROLLBACK}", {}
    )
    assert len(scripted.get_times) == 1
    assert clock.sleeps == []


def test_a_permanent_failure_after_a_look_keeps_what_that_look_saw() -> None:
    outcome, _, _ = waiting([OLD, fault(404, transient=False)])
    assert outcome.waited_seconds == 60
    assert outcome.message == (
        f"{HEAD}: could not read it (HTTP 404 fault) after 60 s; the last look before it: "
        f"3 of 3 addresses still in blue's subnet 10.240.0.0/16. {ROLLBACK}"
    )
    assert outcome.seen["addresses"]["blue"] == list(BLUE)


# A wait is up to a few dozen looks: a tenth of the profile's examples (30 by default).
@settings(max_examples=settings.default.max_examples // 10)
@given(
    timeout=st.integers(0, 900),
    poll=st.integers(1, 120),
    serving_after=st.one_of(st.none(), st.integers(0, 20)),
)
def test_the_wait_never_outlasts_its_bound_and_confirms_only_a_serving_look(
    timeout: int, poll: int, serving_after: int | None
) -> None:
    looks: list[Answer] = [OLD] * (serving_after if serving_after is not None else 1)
    if serving_after is not None:
        looks.append(SERVING)
    outcome, scripted, clock = waiting(looks, timeout=timeout, poll=poll)
    assert clock.now - 1000.0 <= timeout
    assert all(0 < s <= poll for s in clock.sleeps)
    # Every look but the last is followed by one sleep; the last look is at the bound or serving.
    assert len(scripted.get_times) == len(clock.sleeps) + 1
    served = serving_after is not None and serving_after < len(scripted.get_times)
    assert outcome.serving == served
    if served:
        assert len(scripted.get_times) == serving_after + 1
    else:
        assert scripted.get_times[-1] - 1000.0 == timeout


# --- retrying one read -----------------------------------------------------------------------


def retrying(
    answers: Sequence[Answer], timeout: float = 300, poll: float = 60, read_seconds: float = 0
) -> tuple[dict[str, Any] | GatewayReadError, list[float], FakeClock]:
    clock = FakeClock(START)
    scripted = Scripted(clock, answers, read_seconds=read_seconds)
    try:
        result: dict[str, Any] | GatewayReadError = retry_faults(
            scripted.gateway, timeout, poll, clock, clock.sleep
        )
    except GatewayReadError as err:
        result = err
    return result, scripted.get_times, clock


def test_a_read_that_answers_is_returned_without_waiting() -> None:
    result, times, clock = retrying([SERVING])
    assert result == SERVING
    assert (times, clock.sleeps) == ([1000.0], [])


@pytest.mark.parametrize("status", [None, 429, 500, 503])
def test_throttling_server_faults_and_lost_connections_are_retried(status: int | None) -> None:
    result, times, clock = retrying([fault(status), fault(status), SERVING])
    assert result == SERVING
    assert times == [1000.0, 1060.0, 1120.0]
    assert clock.sleeps == [60, 60]


def test_a_fault_that_outlasts_the_bound_is_raised_after_the_last_retry() -> None:
    last = fault(503)
    result, times, clock = retrying([fault(500), last], timeout=100)
    assert result is last
    assert times == [1000.0, 1060.0, 1100.0]
    assert clock.sleeps == [60, 40]


def test_a_retry_takes_the_last_second_of_the_bound_too() -> None:
    result, times, clock = retrying([fault(503), fault(503), SERVING], timeout=61)
    assert result == SERVING
    assert times == [1000.0, 1060.0, 1061.0]
    assert clock.sleeps == [60, 1]


def test_a_slow_failing_read_past_the_bound_is_raised_without_another_sleep() -> None:
    last = fault(503)
    result, times, clock = retrying([fault(503), last], timeout=100, read_seconds=30)
    # Reads at 0 (ends 30), 90 (ends 120: past the bound).
    assert result is last
    assert times == [1000.0, 1090.0]
    assert clock.sleeps == [60]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_an_answer_about_access_or_existence_is_raised_at_once(status: int) -> None:
    # A guard reading an existing gateway has no propagation to wait for.
    refusal = fault(status, transient=True)
    result, times, clock = retrying([refusal, SERVING])
    assert result is refusal
    assert (times, clock.sleeps) == ([1000.0], [])


def test_a_permanent_failure_is_raised_at_once() -> None:
    broken = fault(500, transient=False)
    result, times, _ = retrying([broken, SERVING])
    assert result is broken
    assert times == [1000.0]


def test_with_no_time_left_a_fault_is_raised_without_retrying() -> None:
    first = fault(503)
    result, times, clock = retrying([first, SERVING], timeout=0)
    assert result is first
    assert (times, clock.sleeps) == ([1000.0], [])

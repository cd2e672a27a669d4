"""The verification and the retire guard, with the real azure-mgmt-network client and the real
AzureCliCredential, against a loopback ARM that answers as ARM documents (tests/loopback_arm.py).

Time is a fake clock: the bound is the real 600 s, the sleeps are instant, the requests are real.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_clock import FakeClock
from live_gateway.arm import ArmGateway
from live_gateway.caller import caller_credential
from live_gateway.providers import GatewayServesProvider, RetireGuardProvider
from live_gateway.serving import Expectation
from live_gateway.waiting import Outcome, wait_until_serving
from loopback_arm import (
    GATEWAY_ID,
    POOL,
    LoopbackArm,
    fake_az,
    gateway,
    health,
    serve_to_cli,
)

BLUE = ["10.240.0.4", "10.240.0.5", "10.240.0.6"]
GREEN = ["10.241.0.4", "10.241.0.5", "10.241.0.6"]
LOGS = "kubectl -n agic logs deploy/agic-green-ingress-azure"
TO_GREEN = Expectation(
    active="green",
    subnets={"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
    pools=(POOL,),
    controller_logs=LOGS,
)
ROLLBACK = (
    "revert the change to roll back, or fix the cause and run `pulumi up` again (it waits again)"
)


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackArm]:
    yield from serve_to_cli(tmp_path_factory.mktemp("arm"))


def wait(arm: LoopbackArm, timeout: float = 600, poll: float = 60) -> Outcome:
    clock = FakeClock()
    reader = ArmGateway(GATEWAY_ID, caller_credential(), arm.url, arm.ca_path, 0.001)
    try:
        return wait_until_serving(reader, TO_GREEN, timeout, poll, clock, clock.sleep)
    finally:
        reader.close()


def healthy(addresses: list[str], state: str = "Up") -> dict:
    return health({POOL: dict.fromkeys(addresses, state)})


# --- the verification ------------------------------------------------------------------------


def test_gateway_serving_the_new_cluster_is_confirmed_in_one_look(arm: LoopbackArm) -> None:
    arm.script(gets=[gateway({POOL: GREEN})], healths=[healthy(GREEN)])
    outcome = wait(arm)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 0
    assert outcome.message == "3 addresses in green's subnet 10.241.0.0/16, all healthy"
    assert outcome.seen["addresses"] == {"green": GREEN, "blue": [], "elsewhere": []}
    # Backend health went through ARM's long-running operation: POST 202, then its Location
    # polled until 200; every request carried the CLI's token.
    assert arm.count("POST", "/backendhealth") == 1
    assert arm.count("GET", "/operationResults/") == 2
    assert {auth for _, _, auth in arm.requests} == {"Bearer loopback-arm-token"}


def test_flip_is_confirmed_once_agic_on_the_new_cluster_rewrites_the_pools(
    arm: LoopbackArm,
) -> None:
    old, new = gateway({POOL: BLUE}), gateway({POOL: GREEN})
    arm.script(gets=[old, gateway({POOL: GREEN}, "Updating"), new], healths=[healthy(GREEN)])
    outcome = wait(arm)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 120
    # Health is asked only once the pools are right.
    assert arm.count("POST", "/backendhealth") == 1


def test_addresses_still_in_the_old_subnet_fail_after_the_bound_saying_what_to_do(
    arm: LoopbackArm,
) -> None:
    arm.script(gets=[gateway({POOL: BLUE})])
    outcome = wait(arm)
    assert not outcome.serving
    assert outcome.message == (
        "the gateway does not serve green: 3 of 3 addresses still in blue's subnet "
        f"10.240.0.0/16 after 600 s: AGIC on green has not written the gateway ({LOGS}); "
        f"{ROLLBACK}"
    )
    assert outcome.seen["addresses"]["blue"] == BLUE
    assert arm.count("GET", GATEWAY_ID) == 11  # at 0, 60, ..., 600 s
    assert arm.count("POST") == 0


def test_mixed_pools_are_not_serving(arm: LoopbackArm) -> None:
    arm.script(gets=[gateway({POOL: [*BLUE[:2], *GREEN]})])
    outcome = wait(arm, timeout=120)
    assert not outcome.serving
    assert "2 of 5 addresses still in blue's subnet 10.240.0.0/16, 3 in green's after 120 s" in (
        outcome.message
    )


def test_an_unhealthy_backend_fails_with_its_address_and_state(arm: LoopbackArm) -> None:
    states = {GREEN[0]: "Up", GREEN[1]: "Healthy", GREEN[2]: "Down"}
    arm.script(gets=[gateway({POOL: GREEN})], healths=[health({POOL: states})])
    outcome = wait(arm, timeout=60)
    assert not outcome.serving
    assert (
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.6 Down) after 60 s: "
        "the gateway's probes do not reach the app in green" in outcome.message
    )
    assert outcome.seen["health"][GREEN[2]] == "Down"


def test_a_missing_app_pool_points_at_agic(arm: LoopbackArm) -> None:
    arm.script(gets=[gateway({})])
    outcome = wait(arm, timeout=60)
    assert f"1 of 1 app pools are not on the gateway ({POOL}) after 60 s" in outcome.message
    assert LOGS in outcome.message


def test_a_403_while_a_role_assignment_propagates_is_waited_out(arm: LoopbackArm) -> None:
    arm.script(gets=[403, 403, gateway({POOL: GREEN})], healths=[503, healthy(GREEN)])
    outcome = wait(arm)
    assert outcome.serving, outcome.message
    # Two refused reads, one server fault from backend health, then the answer.
    assert outcome.waited_seconds == 180
    assert arm.count("GET", GATEWAY_ID) == 4


def test_a_403_that_never_clears_names_the_error_and_the_permission(arm: LoopbackArm) -> None:
    arm.script(gets=[403])
    outcome = wait(arm, timeout=600)
    assert not outcome.serving
    assert outcome.message.startswith(
        "the gateway does not serve green: could not read it (HTTP 403 AuthorizationFailed: "
        "The client does not have authorization"
    )
    assert "after 600 s" in outcome.message
    assert ".../backendhealth/action on the gateway" in outcome.message
    assert arm.count("GET", GATEWAY_ID) == 11


def test_an_azure_cli_that_is_not_logged_in_fails_at_once(
    arm: LoopbackArm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_az(tmp_path, logged_in=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    arm.script(gets=[gateway({POOL: GREEN})])
    outcome = wait(arm)
    assert not outcome.serving
    assert outcome.waited_seconds == 0
    assert "no Azure token from the Azure CLI" in outcome.message
    assert "run `az login`" in outcome.message
    assert arm.requests == []


# --- the retire guard ------------------------------------------------------------------------


def guard_check(arm: LoopbackArm, gateway_id: str = GATEWAY_ID) -> list[str]:
    provider = RetireGuardProvider(arm.url, arm.ca_path, poll_seconds=0.01)
    news = {"gatewayId": gateway_id, "retiredColor": "blue", "subnetCidr": "10.240.0.0/16"}
    result = provider.check({}, news)
    assert result.inputs == news
    return [failure.reason for failure in result.failures]


def test_retiring_a_cluster_the_gateway_still_serves_is_refused_naming_the_addresses(
    arm: LoopbackArm,
) -> None:
    arm.script(gets=[gateway({POOL: BLUE, "pool-other-web-80-bp-80": ["10.240.1.9"]})])
    (reason,) = guard_check(arm)
    assert reason.startswith(
        "the live gateway still has 4 backend address(es) in blue's subnet 10.240.0.0/16 "
        "(10.240.0.4, 10.240.0.5, 10.240.0.6, 10.240.1.9): blue is serving"
    )
    assert arm.count("POST") == 0  # Reader suffices: the guard only reads the gateway


def test_retiring_a_cluster_the_gateway_no_longer_serves_passes(arm: LoopbackArm) -> None:
    arm.script(gets=[gateway({POOL: GREEN})])
    assert guard_check(arm) == []


def test_retire_guard_with_no_gateway_yet_passes_without_asking_arm(arm: LoopbackArm) -> None:
    arm.script(gets=[500])
    # What the SDK hands Check for an unknown output in a first preview.
    assert guard_check(arm, "04da6b54-80e4-46f7-96ec-b56ff0331ba9") == []
    assert arm.requests == []


def test_retire_guard_refuses_when_it_cannot_read_the_gateway(arm: LoopbackArm) -> None:
    arm.script(gets=[403])
    (reason,) = guard_check(arm)
    assert reason.startswith("cannot tell whether the gateway still sends traffic to blue")
    assert "HTTP 403 AuthorizationFailed" in reason
    assert arm.count("GET", GATEWAY_ID) == 1  # a 403 on an existing gateway is an answer


def test_retire_guard_retries_a_server_fault(arm: LoopbackArm) -> None:
    arm.script(gets=[503, 429, gateway({POOL: GREEN})])
    assert guard_check(arm) == []
    assert arm.count("GET", GATEWAY_ID) == 3


# --- the provider's own contract ---------------------------------------------------------------


def test_verification_reruns_while_its_last_outcome_was_not_serving() -> None:
    provider = GatewayServesProvider()
    inputs = {"activeColor": "green", "timeoutSeconds": 600, "__provider": "x"}
    served = {**inputs, "serving": True, "message": "ok"}
    assert provider.diff("id", served, {**inputs, "serving": None}).changes is False
    assert provider.diff("id", {**served, "serving": False}, inputs).changes is True
    assert provider.diff("id", served, {**inputs, "activeColor": "blue"}).changes is True
    # A new serialization of the provider alone is no reason to look again.
    assert provider.diff("id", served, {**inputs, "__provider": "y"}).changes is False

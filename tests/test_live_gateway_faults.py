"""The live checks keep their bound, and say what happened in one line, whatever the far side does.

The real azure-mgmt-network client, azure-core pipeline and LRO poller, and the real
AzureCliCredential and ClientAssertionCredential, against the loopback TLS ARM, GitHub and Entra
ID (tests/loopback_arm.py, tests/loopback_oidc.py). Where the wait is the loop's or the poller's,
time is an injected clock and the bound is a real one of minutes; where it is a socket's or a
process's, the clock is the real one and the bound a few seconds, and the test measures it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    Throttled,
    fake_az,
    gateway,
    health,
    serve_to_cli,
)
from loopback_oidc import CLIENT, LoopbackCloud
from loopback_oidc import serve as serve_cloud
from loopback_tls import Raw

GREEN = ["10.241.0.4", "10.241.0.5", "10.241.0.6"]
LOGS = "kubectl -n agic logs deploy/agic-green-ingress-azure"
TO_GREEN = Expectation(
    active="green",
    subnets={"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
    pools=(POOL,),
    controller_logs=LOGS,
)
HEAD = "the gateway does not serve green: could not read it"
ROLLBACK = (
    "revert the change to roll back, or fix the cause and run `pulumi up` again (it waits again)"
)


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackArm]:
    yield from serve_to_cli(tmp_path_factory.mktemp("faults"))


def wait_faked(
    arm: LoopbackArm, timeout: float, poll: float, operation_poll: float = 0.001
) -> tuple[Outcome, FakeClock, float]:
    """The wait on an injected clock; also returns the real seconds it took."""
    clock = FakeClock()
    reader = ArmGateway(GATEWAY_ID, caller_credential(), arm.url, arm.ca_path, operation_poll)
    started = time.monotonic()
    try:
        outcome = wait_until_serving(reader, TO_GREEN, timeout, poll, clock, clock.sleep)
    finally:
        reader.close()
    return outcome, clock, time.monotonic() - started


def wait_real(arm: LoopbackArm, timeout: float, poll: float) -> tuple[Outcome, float]:
    reader = ArmGateway(GATEWAY_ID, caller_credential(), arm.url, arm.ca_path, 0.1)
    started = time.monotonic()
    try:
        outcome = wait_until_serving(reader, TO_GREEN, timeout, poll)
    finally:
        reader.close()
    return outcome, time.monotonic() - started


def healthy() -> dict[str, Any]:
    return health({POOL: dict.fromkeys(GREEN, "Up")})


# --- a long-running operation that never ends ------------------------------------------------


def test_a_backend_health_operation_that_never_finishes_ends_at_the_bound_plus_one_poll(
    arm: LoopbackArm,
) -> None:
    arm.script(gets=[gateway({POOL: GREEN})], healths=[healthy()], running_polls=None)
    outcome, clock, real = wait_faked(arm, timeout=5, poll=2, operation_poll=1)
    assert not outcome.serving
    assert outcome.message == (
        f"{HEAD} (ARM's backend-health operation was still running after 7 s) after 7 s. {ROLLBACK}"
    )
    # Never past the bound plus one poll interval; the poller's sleeps were the injected clock's.
    assert clock.now <= 5 + 2
    assert real < 5
    # Polled once a second as the operation asked, not 43 times: 7 polls across 7 s of waiting.
    assert arm.count("GET", "/operationResults/") <= 8


def test_an_operation_asking_to_poll_after_a_minute_is_not_waited_past_the_bound(
    arm: LoopbackArm,
) -> None:
    arm.script(
        gets=[gateway({POOL: GREEN})], healths=[healthy()], running_polls=None, poll_retry_after=60
    )
    outcome, clock, _ = wait_faked(arm, timeout=5, poll=2)
    assert not outcome.serving
    assert "ARM's backend-health operation was still running after 7 s" in outcome.message
    assert clock.now == 7
    # The Retry-After of 60 s was cut to what was left.
    assert max(clock.sleeps) <= 7


# --- a GET that answers late -----------------------------------------------------------------


def test_a_get_answered_after_20_s_holds_a_2_s_bound_for_no_more_than_the_bound_and_a_poll(
    arm: LoopbackArm,
) -> None:
    late = Raw(json.dumps(gateway({POOL: GREEN})).encode(), delay_seconds=20)
    arm.script(gets=[late])
    outcome, real = wait_real(arm, timeout=2, poll=1)
    assert not outcome.serving
    # The socket's read timeout was the time left (3 s: the bound and one poll interval).
    assert 2.5 <= real < 4.0, real
    assert outcome.message.startswith(
        f"{HEAD} (ARM did not answer GET of the gateway in the time left of the bound ("
    )
    assert "timed out" in outcome.message.lower()
    assert outcome.message.endswith(f"after 3 s. {ROLLBACK}")
    assert arm.count("GET", GATEWAY_ID) == 1


# --- throttling --------------------------------------------------------------------------------


def test_a_429_with_retry_after_30_is_asked_again_after_30_s_not_every_poll(
    arm: LoopbackArm,
) -> None:
    arm.script(gets=[Throttled(30), Throttled(30), gateway({POOL: GREEN})], healths=[healthy()])
    outcome, clock, _ = wait_faked(arm, timeout=600, poll=2)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 60
    assert clock.sleeps[:2] == [30, 30]
    assert arm.count("GET", GATEWAY_ID) == 3


def test_a_retry_after_past_the_bound_ends_the_wait_at_once_saying_so(arm: LoopbackArm) -> None:
    arm.script(gets=[Throttled(30)])
    outcome, clock, _ = wait_faked(arm, timeout=20, poll=2)
    assert not outcome.serving
    assert clock.now == 0
    assert outcome.message == (
        f"{HEAD} (HTTP 429 TooManyRequests: Too many requests.; the server asked to wait 30 s, "
        f"past the bound) after 0 s. {ROLLBACK}"
    )


def test_the_retire_guard_honours_retry_after(arm: LoopbackArm) -> None:
    arm.script(gets=[Throttled(3), gateway({POOL: GREEN})])
    guard = RetireGuardProvider(arm.url, arm.ca_path, poll_seconds=0.01)
    news = {"gatewayId": GATEWAY_ID, "retiredColor": "blue", "subnetCidr": "10.240.0.0/16"}
    started = time.monotonic()
    assert guard.check({}, news).failures == []
    # Asked again after the 3 s ARM asked for, not after the guard's 0.01 s poll.
    assert 3 <= time.monotonic() - started < 5
    assert arm.count("GET", GATEWAY_ID) == 2


# --- answers that are not what ARM documents -------------------------------------------------


HTML = (
    b"<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head>"
    b"<body>upstream timed out</body></html>"
)


@pytest.mark.parametrize(
    ("answer", "said", "transient"),
    [
        (
            Raw(HTML, content_type="text/html"),
            "ARM answered GET of the gateway with HTTP 200 and an HTML page "
            "(504 Gateway Time-out), not JSON",
            True,
        ),
        (
            Raw(json.dumps(gateway({POOL: GREEN})).encode()[:120]),
            "ARM answered GET of the gateway with HTTP 200 and a truncated JSON body "
            "(120 bytes, ending mid-document)",
            True,
        ),
        (
            None,
            "ARM answered GET of the gateway with HTTP 200 and an empty body, not JSON",
            True,
        ),
        (
            "Succeeded",
            "ARM's answer to GET of the gateway is not the documented shape: the body is a "
            "string, not an object",
            False,
        ),
        (
            {**gateway({POOL: GREEN}), "properties": None},
            "ARM's answer to GET of the gateway is not the documented shape: properties is "
            "null, not an object",
            False,
        ),
    ],
    ids=["html", "truncated-json", "empty", "string-body", "null-properties"],
)
def test_a_200_that_is_not_a_gateway_is_named_as_what_it_is(
    arm: LoopbackArm, answer: Any, said: str, transient: bool
) -> None:
    arm.script(gets=[answer])
    outcome, clock, _ = wait_faked(arm, timeout=60, poll=10)
    assert not outcome.serving
    waited = 60 if transient else 0
    assert outcome.message == f"{HEAD} ({said}) after {waited} s. {ROLLBACK}"
    assert clock.now == waited


def test_a_body_cut_off_mid_answer_is_named_and_waited_out(arm: LoopbackArm) -> None:
    whole = json.dumps(gateway({POOL: GREEN})).encode()
    cut = Raw(whole[:200], declared_length=len(whole))
    arm.script(gets=[cut, gateway({POOL: GREEN})], healths=[healthy()])
    outcome, _, _ = wait_faked(arm, timeout=60, poll=10)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 10
    arm.script(gets=[cut])
    outcome, _, _ = wait_faked(arm, timeout=20, poll=10)
    assert outcome.message.startswith(f"{HEAD} (ARM's answer to GET of the gateway was cut off")
    assert outcome.message.endswith(f"after 20 s. {ROLLBACK}")


def _pool(properties: Any) -> dict[str, Any]:
    document = gateway({POOL: GREEN})
    document["properties"]["backendAddressPools"][1] = properties
    return document


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (_pool(None), "properties.backendAddressPools[1] is null, not an object"),
        (
            _pool({"name": POOL, "properties": {"backendAddresses": "10.241.0.4"}}),
            "properties.backendAddressPools[1].properties.backendAddresses is a string, "
            "not an array",
        ),
        (_pool({"name": 7}), "properties.backendAddressPools[1].name is a number, not a string"),
        (
            {**gateway({}), "properties": {"provisioningState": ["Succeeded"]}},
            "properties.provisioningState is an array, not a string",
        ),
    ],
    ids=["null-pool", "addresses-string", "name-number", "state-array"],
)
def test_a_wrong_typed_field_is_named_by_its_path_at_once(
    arm: LoopbackArm, document: dict[str, Any], field: str
) -> None:
    arm.script(gets=[document])
    outcome, clock, _ = wait_faked(arm, timeout=600, poll=10)
    assert outcome.message == (
        f"{HEAD} (ARM's answer to GET of the gateway is not the documented shape: {field}) "
        f"after 0 s. {ROLLBACK}"
    )
    assert clock.now == 0


def test_a_backend_health_server_without_an_address_is_named(arm: LoopbackArm) -> None:
    broken = healthy()
    broken["backendAddressPools"][0]["backendHttpSettingsCollection"][0]["servers"][1] = {
        "address": None,
        "health": "Up",
    }
    arm.script(gets=[gateway({POOL: GREEN})], healths=[broken])
    outcome, _, _ = wait_faked(arm, timeout=60, poll=10)
    assert outcome.message == (
        f"{HEAD} (ARM's answer to backend health is not the documented shape: "
        "backendAddressPools[0].backendHttpSettingsCollection[0].servers[1].address is null, "
        f"not a string) after 0 s. {ROLLBACK}"
    )


def test_the_retire_guard_refuses_a_null_pool_in_one_line(arm: LoopbackArm) -> None:
    arm.script(gets=[_pool(None)])
    guard = RetireGuardProvider(arm.url, arm.ca_path, poll_seconds=0.01)
    news = {"gatewayId": GATEWAY_ID, "retiredColor": "blue", "subnetCidr": "10.240.0.0/16"}
    (failure,) = guard.check({}, news).failures
    assert failure.reason.startswith(
        "cannot tell whether the gateway still sends traffic to blue (ARM's answer to GET of "
        "the gateway is not the documented shape: properties.backendAddressPools[1] is null, "
        "not an object), so blue is not retired"
    )
    assert "\n" not in failure.reason


def test_the_verification_turns_inputs_it_cannot_use_into_its_one_line_outcome() -> None:
    provider = GatewayServesProvider(poll_seconds=0.01)
    outs = provider.create({"gatewayId": GATEWAY_ID, "activeColor": "green"}).outs or {}
    assert outs["serving"] is False
    assert outs["message"] == "the cut-over verification failed: KeyError: 'subnets'"


# --- a slow Azure CLI ------------------------------------------------------------------------


def slow_az(directory: Path, seconds: int) -> None:
    script = directory / "az"
    script.write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
    script.chmod(0o755)


def test_an_azure_cli_slower_than_the_bound_is_transient_and_killed_at_it(
    arm: LoopbackArm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_az(tmp_path, 30)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    arm.script(gets=[gateway({POOL: GREEN})])
    outcome, real = wait_real(arm, timeout=2, poll=1)
    assert not outcome.serving
    assert 2.5 <= real < 4.5, real
    assert outcome.message == (
        f"{HEAD} (no Azure token from the Azure CLI: `az account get-access-token` did not "
        f"answer within 3 s) after 3 s. {ROLLBACK}"
    )
    assert "az login" not in outcome.message
    assert arm.requests == []


# --- GitHub's and Entra ID's token endpoints failing -----------------------------------------


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCloud]:
    yield from serve_cloud(tmp_path_factory.mktemp("faults-oidc"))


@pytest.fixture
def on_github(
    cloud: LoopbackCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LoopbackCloud:
    fake_az(tmp_path, logged_in=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    for name, value in cloud.environment().items():
        monkeypatch.setenv(name, value)
    return cloud


def wait_on_github(cloud: LoopbackCloud, timeout: float, poll: float) -> tuple[Outcome, FakeClock]:
    clock = FakeClock()
    reader = ArmGateway(
        GATEWAY_ID,
        caller_credential(cloud.entra.url, cloud.ca_path),
        cloud.arm.url,
        cloud.ca_path,
        0.01,
    )
    try:
        return wait_until_serving(reader, TO_GREEN, timeout, poll, clock, clock.sleep), clock
    finally:
        reader.close()


ENTRA = f"Entra ID for app {CLIENT} with the job's GitHub OIDC token"


def test_a_github_token_endpoint_5xx_is_waited_out(on_github: LoopbackCloud) -> None:
    on_github.script(GREEN[:2], [3599], github_faults=[503, 502])
    outcome, clock = wait_on_github(on_github, timeout=600, poll=10)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 20
    # Two pauses of the wait's poll interval (then backend health's own short poll).
    assert clock.sleeps[:2] == [10, 10]
    assert len(on_github.github.requests) == 3


def test_a_github_token_endpoint_that_stays_down_says_so_after_the_bound(
    on_github: LoopbackCloud,
) -> None:
    on_github.script(GREEN[:2], [3599], github_faults=[503] * 100)
    outcome, clock = wait_on_github(on_github, timeout=30, poll=10)
    assert outcome.message == (
        f"{HEAD} (GitHub's OIDC token endpoint answered HTTP 503 "
        '{"message": "Server Error"}) after 30 s. '
        f"{ROLLBACK}"
    )
    assert clock.now == 30
    assert on_github.arm.requests == []


def test_an_entra_id_5xx_is_waited_out_not_reported_as_a_missing_credential(
    on_github: LoopbackCloud,
) -> None:
    on_github.script(GREEN[:2], [3599], entra_faults=[503])
    outcome, _ = wait_on_github(on_github, timeout=600, poll=10)
    assert outcome.serving, outcome.message
    assert outcome.waited_seconds == 10
    on_github.script(GREEN[:2], [3599], entra_faults=[500] * 100)
    outcome, clock = wait_on_github(on_github, timeout=30, poll=10)
    assert outcome.message == (
        f"{HEAD} (no Azure token from {ENTRA} (Entra ID answered HTTP 500)) after 30 s. {ROLLBACK}"
    )
    assert clock.now == 30
    assert "federated credential" not in outcome.message


def test_a_github_token_endpoint_answering_html_is_named(on_github: LoopbackCloud) -> None:
    on_github.script(GREEN[:2], [3599], github_faults=[Raw(HTML, "text/html")] * 100)
    outcome, clock = wait_on_github(on_github, timeout=10, poll=10)
    assert outcome.message == (
        f"{HEAD} (GitHub's OIDC token endpoint answered HTTP 200 with an HTML page "
        f"(504 Gateway Time-out), not JSON) after 10 s. {ROLLBACK}"
    )
    assert clock.now == 10

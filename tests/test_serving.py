"""The live judge, called directly on ARM's JSON: when may `pulumi up` say the gateway serves the
active cluster? Never while a request can land on the old cluster, on nothing, or on a backend
the gateway has not seen healthy.

Inputs are shaped as azure-rest-api-specs documents ApplicationGateways Get and BackendHealth
(tests/arm_documents.py); the property tests hold the judge to a plain restatement of the rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import FrozenInstanceError
from ipaddress import IPv4Address, IPv4Network, ip_address
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arm_documents import (
    BLUE,
    BLUE_NET,
    GATEWAY_ID,
    GREEN,
    GREEN_NET,
    OTHER,
    POOL,
    SUBNETS,
    Entry,
    Servers,
    fqdn,
    gateway,
    health,
    ip,
    up,
)
from live_gateway.serving import (
    Expectation,
    Sighting,
    Verdict,
    addresses_in,
    gateway_pools,
    health_by_address,
    judge,
    sighting,
)

LOGS = "kubectl -n agic logs deploy/agic-green-ingress-azure"
AGIC = f"AGIC on green has not written the gateway ({LOGS})"
PROBES = (
    "the gateway's probes do not reach the app in green: check its readiness and "
    "`az network application-gateway show-backend-health`"
)


def expecting(active: str = "green", pools: Sequence[str] = (POOL,)) -> Expectation:
    return Expectation(active=active, subnets=SUBNETS, pools=tuple(pools), controller_logs=LOGS)


TO_GREEN = expecting()


def verdict(
    document: Mapping[str, Any],
    backend_health: Mapping[str, Any] | None = None,
    expect: Expectation = TO_GREEN,
) -> Verdict:
    return judge(expect, sighting(document, expect.pools, backend_health))


def served(pools: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Backend health in which every address of every pool is Up for the pool's one setting."""
    return health({name: [up(addresses)] for name, addresses in pools.items()})


# --- serving ---------------------------------------------------------------------------------


def test_pools_in_the_active_subnet_all_up_are_serving_with_the_whole_picture() -> None:
    found = verdict(gateway({POOL: GREEN}), served({POOL: GREEN}))
    assert found == Verdict(
        serving=True,
        finding="3 addresses in green's subnet 10.241.0.0/16, all healthy",
        cause="",
        seen={
            "provisioningState": "Succeeded",
            "pools": {POOL: list(GREEN)},
            "addresses": {"green": list(GREEN), "blue": [], "elsewhere": []},
            "health": dict.fromkeys(GREEN, "Up"),
        },
        needs_health=False,
    )


def test_documents_decoded_from_arms_json_text_are_judged_the_same() -> None:
    # The client hands over strings decoded from the response body, never the constants the
    # judge compares them with.
    document = json.loads(json.dumps(gateway({POOL: GREEN})))
    report = json.loads(json.dumps(served({POOL: GREEN})))
    assert verdict(document, report).serving


def test_the_judge_serves_blue_the_same_way_after_a_rollback() -> None:
    found = verdict(gateway({POOL: BLUE}), served({POOL: BLUE}), expecting("blue"))
    assert found.serving
    assert found.finding == "3 addresses in blue's subnet 10.240.0.0/16, all healthy"
    assert found.seen["addresses"] == {"blue": list(BLUE), "green": [], "elsewhere": []}


def test_the_standby_color_is_the_other_one_of_the_two_subnets() -> None:
    assert expecting("green").standby == "blue"
    assert expecting("blue").standby == "green"
    # Colors read from a provider's inputs are equal strings, not the same objects.
    assert expecting("".join(["bl", "ue"])).standby == "green"


def test_what_the_judge_is_given_and_gives_cannot_be_changed_afterwards() -> None:
    found = verdict(gateway({POOL: BLUE}))
    seen = sighting(gateway({POOL: BLUE}), [POOL])
    for record, field in ((found, "serving"), (seen, "health"), (TO_GREEN, "active")):
        with pytest.raises(FrozenInstanceError):
            setattr(record, field, None)


@pytest.mark.parametrize("spelling", ["Up", "Healthy", "up", "HEALTHY"])
def test_both_spellings_of_a_serving_backend_are_accepted_in_any_case(spelling: str) -> None:
    # ARM's enum says Up; the portal, az and PowerShell show the same state as Healthy.
    found = verdict(gateway({POOL: GREEN}), health({POOL: [up(GREEN, spelling)]}))
    assert found.serving, found.finding


def test_pool_names_match_whatever_case_the_gateway_and_backend_health_spell_them() -> None:
    # ARM names are case-insensitive: the gateway may hold the pool as "Pool-AspNetApp-...",
    # and backend health's pool ID may spell both its segment and the name in other cases.
    document = gateway({POOL.title(): GREEN})
    report = health({POOL.upper(): [up(GREEN)]}, segment="BackendAddressPools")
    found = verdict(document, report)
    assert found.serving, found.finding
    assert found.seen["pools"] == {POOL: list(GREEN)}


def test_health_of_other_pools_listed_first_does_not_hide_the_app_pools() -> None:
    report = health({OTHER: [up(["10.241.9.9"])], POOL: [up(GREEN)]})
    assert verdict(gateway({POOL: GREEN}), report).serving


def test_a_pool_id_with_a_trailing_slash_still_names_the_pool() -> None:
    report = served({POOL: GREEN})
    report["backendAddressPools"][0]["backendAddressPool"]["id"] += "/"
    assert verdict(gateway({POOL: GREEN}), report).serving


def test_addresses_in_every_schema_form_of_a_pool_entry_are_read() -> None:
    # The Get example lists bare strings; the schema has {"ipAddress"} (and {"fqdn"}).
    entries: list[Entry] = [GREEN[0], ip(GREEN[1]), {"ipAddress": GREEN[2], "fqdn": "x.test"}]
    found = verdict(gateway({POOL: entries}), served({POOL: GREEN}))
    assert found.serving, found.finding
    assert found.seen["pools"] == {POOL: list(GREEN)}


def test_several_app_pools_serve_only_together() -> None:
    other = ("10.241.1.7", "10.241.1.8")
    expect = expecting(pools=(POOL, OTHER))
    document = gateway({POOL: GREEN, OTHER: other})
    assert verdict(document, served({POOL: GREEN, OTHER: other}), expect).serving
    half = health({POOL: [up(GREEN)], OTHER: [up(other[:1])]})
    found = verdict(document, half, expect)
    assert not found.serving
    assert found.finding == (
        "1 of 5 addresses in green's subnet are not healthy (10.241.1.8 Unknown)"
    )


# --- not serving: the pools are not the active cluster's ------------------------------------

NOT_SERVING_POOLS: list[tuple[str, dict[str, Any], Expectation, str, str]] = [
    (
        "provisioning still running",
        gateway({POOL: GREEN}, "Updating"),
        TO_GREEN,
        "the gateway's provisioning state is Updating",
        f"AGIC's last write has not finished or was refused ({LOGS})",
    ),
    (
        "provisioning failed",
        gateway({POOL: GREEN}, "Failed"),
        TO_GREEN,
        "the gateway's provisioning state is Failed",
        f"AGIC's last write has not finished or was refused ({LOGS})",
    ),
    (
        "no provisioning state at all",
        gateway({POOL: GREEN}, None),
        TO_GREEN,
        "the gateway's provisioning state is unknown",
        f"AGIC's last write has not finished or was refused ({LOGS})",
    ),
    (
        "the app pool is missing",
        gateway({}),
        TO_GREEN,
        f"1 of 1 app pools are not on the gateway ({POOL})",
        f"{AGIC}, or the app has no ready endpoints in green",
    ),
    (
        "one of two app pools is missing",
        gateway({POOL: GREEN}),
        expecting(pools=(POOL, OTHER)),
        f"1 of 2 app pools are not on the gateway ({OTHER})",
        f"{AGIC}, or the app has no ready endpoints in green",
    ),
    (
        "six app pools missing are listed five and the count of the rest",
        gateway({}),
        expecting(pools=[f"pool-{n}" for n in "abcdef"]),
        "6 of 6 app pools are not on the gateway "
        "(pool-a, pool-b, pool-c, pool-d, pool-e and 1 more)",
        f"{AGIC}, or the app has no ready endpoints in green",
    ),
    (
        "the app pool is empty",
        gateway({POOL: []}),
        TO_GREEN,
        f"1 of 1 app pools have no backend address ({POOL})",
        f"the app has no endpoints in green, or {AGIC}",
    ),
    (
        "the app pool holds only entries without an address",
        gateway({POOL: [{}, {"ipAddress": ""}]}),
        TO_GREEN,
        f"1 of 1 app pools have no backend address ({POOL})",
        f"the app has no endpoints in green, or {AGIC}",
    ),
    (
        "one of two app pools is empty",
        gateway({POOL: GREEN, OTHER: []}),
        expecting(pools=(POOL, OTHER)),
        f"1 of 2 app pools have no backend address ({OTHER})",
        f"the app has no endpoints in green, or {AGIC}",
    ),
    (
        "every address still in the old cluster",
        gateway({POOL: BLUE}),
        TO_GREEN,
        "3 of 3 addresses still in blue's subnet 10.240.0.0/16",
        AGIC,
    ),
    (
        "old and new addresses mixed",
        gateway({POOL: [*BLUE[:2], *GREEN]}),
        TO_GREEN,
        "2 of 5 addresses still in blue's subnet 10.240.0.0/16, 3 in green's",
        AGIC,
    ),
    (
        "an old address in a second app pool",
        gateway({POOL: GREEN, OTHER: BLUE[:1]}),
        expecting(pools=(POOL, OTHER)),
        "1 of 4 addresses still in blue's subnet 10.240.0.0/16, 3 in green's",
        AGIC,
    ),
    (
        "an address outside both subnets next to the active ones",
        gateway({POOL: [*GREEN, "10.0.0.9"]}),
        TO_GREEN,
        "1 of 4 addresses are in neither cluster's subnet (10.0.0.9)",
        f"something other than AGIC on green writes these pools ({LOGS})",
    ),
    (
        "an FQDN backend next to the active addresses",
        gateway({POOL: [*GREEN, fqdn("app.contoso.example")]}),
        TO_GREEN,
        "1 of 4 addresses are in neither cluster's subnet (app.contoso.example)",
        f"something other than AGIC on green writes these pools ({LOGS})",
    ),
    (
        "only FQDN backends",
        gateway({POOL: [fqdn("b.example"), fqdn("a.example")]}),
        TO_GREEN,
        "2 of 2 addresses are in neither cluster's subnet (a.example, b.example)",
        f"something other than AGIC on green writes these pools ({LOGS})",
    ),
    (
        "an IPv6 backend",
        gateway({POOL: [*GREEN, "fd00::4"]}),
        TO_GREEN,
        "1 of 4 addresses are in neither cluster's subnet (fd00::4)",
        f"something other than AGIC on green writes these pools ({LOGS})",
    ),
    (
        "old addresses are named before strangers when both are there",
        gateway({POOL: [*GREEN, BLUE[0], "192.168.0.1"]}),
        TO_GREEN,
        "1 of 5 addresses still in blue's subnet 10.240.0.0/16, 3 in green's",
        AGIC,
    ),
]


@pytest.mark.parametrize(
    ("document", "expect", "finding", "cause"),
    [case[1:] for case in NOT_SERVING_POOLS],
    ids=[case[0] for case in NOT_SERVING_POOLS],
)
def test_pools_that_are_not_the_active_clusters_are_refused_before_health_is_read(
    document: dict[str, Any], expect: Expectation, finding: str, cause: str
) -> None:
    # Healthy backend health for everything changes nothing: the pools decide first.
    everything = gateway_pools(document)
    for backend_health in (None, served({name: everything.get(name, ()) for name in expect.pools})):
        found = verdict(document, backend_health, expect)
        assert (found.serving, found.finding, found.cause) == (False, finding, cause)
        assert not found.needs_health


def test_pools_that_are_right_ask_for_backend_health_before_any_verdict() -> None:
    found = verdict(gateway({POOL: GREEN}))
    assert found == Verdict(
        serving=False,
        finding="backend health not read yet",
        cause="",
        seen={
            "provisioningState": "Succeeded",
            "pools": {POOL: list(GREEN)},
            "addresses": {"green": list(GREEN), "blue": [], "elsewhere": []},
        },
        needs_health=True,
    )


def test_what_was_seen_lists_addresses_in_numeric_order_strangers_last() -> None:
    mixed = ["10.241.0.10", "10.241.0.9", "app.example", "10.240.0.2", "10.0.0.1", "fd00::1"]
    found = verdict(gateway({POOL: mixed, OTHER: ["10.241.0.9"]}), expect=expecting())
    assert found.seen["addresses"] == {
        "green": ["10.241.0.9", "10.241.0.10"],
        "blue": ["10.240.0.2"],
        # IPv6 sorts after every IPv4 address, names after every address.
        "elsewhere": ["10.0.0.1", "fd00::1", "app.example"],
    }
    assert found.seen["pools"] == {POOL: mixed}


# --- not serving: backend health says no -----------------------------------------------------

NOT_SERVING_HEALTH: list[tuple[str, dict[str, Any], str]] = [
    (
        "one address down",
        health({POOL: [{GREEN[0]: "Up", GREEN[1]: "Healthy", GREEN[2]: "Down"}]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.6 Down)",
    ),
    (
        "down for one HTTP setting, up for another",
        health({POOL: [up(GREEN), {**up(GREEN), GREEN[1]: "Down"}]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.5 Down)",
    ),
    (
        "down for the first HTTP setting, up for the next",
        health({POOL: [{**up(GREEN), GREEN[1]: "Down"}, up(GREEN)]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.5 Down)",
    ),
    (
        "the first state that does not serve is the one named",
        health({POOL: [{**up(GREEN), GREEN[0]: "Draining"}, {**up(GREEN), GREEN[0]: "Down"}]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.4 Draining)",
    ),
    (
        "an active address not probed yet",
        health({POOL: [up(GREEN[:2])]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.6 Unknown)",
    ),
    (
        "a server with no health field",
        health({POOL: [{**up(GREEN), GREEN[2]: None}]}),
        "1 of 3 addresses in green's subnet are not healthy (10.241.0.6 Unknown)",
    ),
    (
        "partial, draining and unknown do not serve",
        health({POOL: [{GREEN[0]: "Partial", GREEN[1]: "Draining", GREEN[2]: "Unknown"}]}),
        "3 of 3 addresses in green's subnet are not healthy "
        "(10.241.0.4 Partial, 10.241.0.5 Draining, 10.241.0.6 Unknown)",
    ),
    (
        "health of another pool says nothing of the app pool",
        health({OTHER: [up(GREEN)]}),
        "3 of 3 addresses in green's subnet are not healthy "
        "(10.241.0.4 Unknown, 10.241.0.5 Unknown, 10.241.0.6 Unknown)",
    ),
    (
        "a health report with no pools",
        {"backendAddressPools": None},
        "3 of 3 addresses in green's subnet are not healthy "
        "(10.241.0.4 Unknown, 10.241.0.5 Unknown, 10.241.0.6 Unknown)",
    ),
    (
        "an empty health report",
        {},
        "3 of 3 addresses in green's subnet are not healthy "
        "(10.241.0.4 Unknown, 10.241.0.5 Unknown, 10.241.0.6 Unknown)",
    ),
]


@pytest.mark.parametrize(
    ("report", "finding"),
    [case[1:] for case in NOT_SERVING_HEALTH],
    ids=[case[0] for case in NOT_SERVING_HEALTH],
)
def test_backend_health_that_does_not_serve_every_active_address_is_refused(
    report: dict[str, Any], finding: str
) -> None:
    found = verdict(gateway({POOL: GREEN}), report)
    assert (found.serving, found.finding, found.cause) == (False, finding, PROBES)
    assert not found.needs_health


def test_more_than_five_unhealthy_addresses_are_listed_five_and_the_count_of_the_rest() -> None:
    many = [f"10.241.0.{n}" for n in range(10, 17)]
    found = verdict(gateway({POOL: many}), health({POOL: [up(many, "Down")]}))
    assert found.finding == (
        "7 of 7 addresses in green's subnet are not healthy (10.241.0.10 Down, 10.241.0.11 Down, "
        "10.241.0.12 Down, 10.241.0.13 Down, 10.241.0.14 Down and 2 more)"
    )
    six = many[:6]
    found = verdict(gateway({POOL: six}), health({POOL: [up(six, "Down")]}))
    assert found.finding.endswith("10.241.0.14 Down and 1 more)")
    five = many[:5]
    found = verdict(gateway({POOL: five}), health({POOL: [up(five, "Down")]}))
    assert found.finding.endswith("10.241.0.13 Down, 10.241.0.14 Down)")
    twelve = [f"10.241.0.{n}" for n in range(10, 22)]
    found = verdict(gateway({POOL: twelve}), health({POOL: [up(twelve, "Down")]}))
    assert found.finding.startswith("12 of 12 addresses")
    assert found.finding.endswith("10.241.0.14 Down and 7 more)")


def test_an_address_shared_by_two_pools_must_be_probed_in_each() -> None:
    # Two Services over the same pods give two pools with the same addresses; health for one
    # pool says nothing of the other's port and path.
    expect = expecting(pools=(POOL, OTHER))
    document = gateway({POOL: GREEN, OTHER: GREEN})
    found = verdict(document, health({POOL: [up(GREEN)], OTHER: [up(GREEN[:2])]}), expect)
    assert not found.serving
    assert found.finding.endswith("not healthy (10.241.0.6 Unknown)")
    both = health({POOL: [up(GREEN)], OTHER: [up(GREEN)]})
    assert verdict(document, both, expect).serving


def test_an_address_down_in_any_app_pool_is_down() -> None:
    expect = expecting(pools=(POOL, OTHER))
    document = gateway({POOL: GREEN, OTHER: GREEN[:1]})
    report = health({POOL: [up(GREEN)], OTHER: [{GREEN[0]: "Down"}]})
    found = verdict(document, report, expect)
    assert found.finding.endswith("not healthy (10.241.0.4 Down)")


# --- the pieces, on their own ----------------------------------------------------------------


def test_gateway_pools_reads_every_pool_and_skips_entries_without_an_address() -> None:
    document = gateway(
        {POOL: [GREEN[0], ip(GREEN[1]), fqdn("a.example"), {}, {"fqdn": ""}, ""], OTHER: []}
    )
    document["properties"]["backendAddressPools"].append({"name": "bare"})
    document["properties"]["backendAddressPools"].append({"properties": None})
    document["properties"]["backendAddressPools"].append(
        {"name": "odd", "properties": {"backendAddresses": [None, 7, GREEN[2]]}}
    )
    assert gateway_pools(document) == {
        "defaultaddresspool": (),
        POOL: (GREEN[0], GREEN[1], "a.example"),
        OTHER: (),
        "bare": (),
        "": (),
        "odd": (GREEN[2],),
    }


@pytest.mark.parametrize(
    "document",
    [{}, {"properties": None}, {"properties": {}}, {"properties": {"backendAddressPools": None}}],
)
def test_a_gateway_document_without_pools_has_none(document: dict[str, Any]) -> None:
    assert gateway_pools(document) == {}
    assert sighting(document, [POOL]) == Sighting(provisioning_state="", pools={})
    assert addresses_in(document, GREEN_NET) == []


def test_health_by_address_keeps_the_worst_state_of_each_address_across_settings() -> None:
    report = health(
        {
            POOL: [
                {GREEN[0]: "Up", GREEN[1]: "Down", GREEN[2]: "Up"},
                {GREEN[0]: "Healthy", GREEN[1]: "Up", GREEN[2]: "Draining"},
            ],
            OTHER: [{"10.241.9.9": "Up"}],
        }
    )
    assert health_by_address(report, [POOL]) == {
        GREEN[0]: "Healthy",
        GREEN[1]: "Down",
        GREEN[2]: "Draining",
    }


def test_health_by_address_tolerates_missing_parts_of_the_report() -> None:
    report = {
        "backendAddressPools": [
            {"backendAddressPool": None},
            {"backendAddressPool": {"id": f"{GATEWAY_ID}/backendAddressPools/{POOL}"}},
            {
                "backendAddressPool": {"id": f"{GATEWAY_ID}/backendAddressPools/{POOL}"},
                "backendHttpSettingsCollection": [{"servers": None}, {}, {"servers": [{}]}],
            },
        ]
    }
    assert health_by_address(report, [POOL]) == {"": "Unknown"}


def test_the_retire_guard_sees_every_pool_address_inside_a_subnet_once_in_order() -> None:
    document = gateway(
        {
            POOL: ["10.240.0.10", "10.240.0.9", fqdn("old.example"), "10.241.0.4"],
            "pool-other-web-80-bp-80": ["10.240.0.9", "10.240.1.1"],
        }
    )
    assert addresses_in(document, BLUE_NET) == ["10.240.0.9", "10.240.0.10", "10.240.1.1"]
    assert addresses_in(document, GREEN_NET) == ["10.241.0.4"]
    assert addresses_in(document, "192.168.0.0/24") == []


# --- properties: the judge against a plain statement of the rule -----------------------------

NAMES = (POOL, OTHER, "pool-api-api-8080-bp-8080")
STATES = ("Up", "Healthy", "up", "Down", "Partial", "Draining", "Unknown", None)


def hosts(cidr: str) -> st.SearchStrategy[str]:
    network = IPv4Network(cidr)
    # A handful of addresses per network, so that pools and settings share them often.
    return st.integers(1, 6).map(lambda n: str(network.network_address + n))


def address_strategy() -> st.SearchStrategy[str]:
    return st.one_of(
        hosts(GREEN_NET),
        hosts(BLUE_NET),
        hosts("10.0.0.0/24"),
        st.sampled_from(["app.example", "fd00::4"]),
    )


@st.composite
def looks(draw: st.DrawFn) -> tuple[Expectation, dict[str, Any], dict[str, Any] | None, dict]:
    """An expectation, a gateway document, maybe a backend-health report, and the raw facts."""
    active = draw(st.sampled_from(["blue", "green"]))
    wanted = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    on_gateway: dict[str, list[str]] = {}
    for name in NAMES:
        if draw(st.integers(0, 5)) == 0:
            continue  # a pool missing from the gateway, now and then
        # Mostly addresses of the active cluster, so that many looks reach backend health.
        mostly_active = st.one_of(
            hosts(SUBNETS[active]), hosts(SUBNETS[active]), address_strategy()
        )
        on_gateway[name] = draw(st.lists(mostly_active, max_size=4, unique=True))
    spelled = {draw(st.sampled_from([n, n.upper(), n.title()])): a for n, a in on_gateway.items()}
    state = draw(st.sampled_from(["Succeeded", "Succeeded", "Succeeded", "Updating", None]))
    document = gateway(
        {name: [fqdn(a) if a == "app.example" else a for a in a_] for name, a_ in spelled.items()},
        state,
    )
    report: dict[str, Any] | None = None
    reported: dict[str, list[Servers]] = {}
    if draw(st.booleans()):
        for name in NAMES:
            if draw(st.integers(0, 5)) == 0:
                continue  # a pool backend health does not report
            listed = on_gateway.get(name, [])
            per_setting = []
            for _ in range(draw(st.integers(1, 3))):
                servers = draw(st.lists(st.sampled_from(listed), unique=True)) if listed else []
                if draw(st.integers(0, 4)) == 0:
                    servers = [*servers, draw(hosts(SUBNETS[active]))]  # a stale entry
                states = [draw(st.sampled_from(STATES[:3] * 3 + STATES[3:])) for _ in servers]
                per_setting.append(dict(zip(servers, states, strict=True)))
            reported[name] = per_setting
        segment = draw(st.sampled_from(["backendaddressPools", "backendAddressPools"]))
        report = health(
            {draw(st.sampled_from([n, n.upper()])): s for n, s in reported.items()}, segment
        )
    facts = {"active": active, "wanted": wanted, "pools": on_gateway, "state": state}
    facts["health"] = reported if report is not None else None
    return expecting(active, wanted), document, report, facts


def pools_right(facts: dict) -> bool:
    """Succeeded, every wanted pool present and not empty, every address in the active subnet."""
    active = IPv4Network(SUBNETS[facts["active"]])
    pools = facts["pools"]
    if facts["state"] != "Succeeded" or any(not pools.get(name) for name in facts["wanted"]):
        return False
    addresses = {a for name in facts["wanted"] for a in pools[name]}
    return all(_is_ipv4(a) and IPv4Address(a) in active for a in addresses)


def serves_by_the_rule(facts: dict) -> bool:
    """The pools are right; and each address is reported in its own pool's health, and every
    report of it among the wanted pools says Up or Healthy."""
    if not pools_right(facts) or facts["health"] is None:
        return False
    reported = {name: facts["health"].get(name, []) for name in facts["wanted"]}
    states: dict[str, list[str | None]] = {}
    for per_setting in reported.values():
        for servers in per_setting:
            for address, state in servers.items():
                states.setdefault(address, []).append(state)
    for name in facts["wanted"]:
        for address in facts["pools"][name]:
            if not any(address in servers for servers in reported[name]):
                return False
            if not all(
                s is not None and s.casefold() in {"up", "healthy"} for s in states[address]
            ):
                return False
    return True


def _is_ipv4(address: str) -> bool:
    try:
        return ip_address(address).version == 4
    except ValueError:
        return False


# Each example is a whole look, so a quarter of the profile's examples (75 by default, 2,500
# with --hypothesis-profile=deep); the properties below it a tenth.
LOOK_EXAMPLES = settings(max_examples=settings.default.max_examples // 4)
SIDE_EXAMPLES = settings(max_examples=settings.default.max_examples // 10)


@LOOK_EXAMPLES
@given(looks())
def test_the_judge_serves_exactly_when_the_rule_says_so(case: tuple) -> None:
    expect, document, report, facts = case
    found = verdict(document, report, expect)
    assert found.serving == serves_by_the_rule(facts), (found.finding, facts)
    if found.serving:
        count = len({a for name in expect.pools for a in facts["pools"][name]})
        assert found.finding == (
            f"{count} addresses in {expect.active}'s subnet {SUBNETS[expect.active]}, all healthy"
        )
    else:
        assert found.finding
    # Only a look whose pools are right asks for backend health, and only when it lacks it.
    assert found.needs_health == (report is None and pools_right(facts))


@SIDE_EXAMPLES
@given(looks())
def test_what_was_seen_partitions_the_app_pools_addresses_by_subnet(case: tuple) -> None:
    expect, document, report, facts = case
    seen = verdict(document, report, expect).seen
    groups = seen["addresses"]
    everything = [a for group in groups.values() for a in group]
    wanted = {a for name in expect.pools for a in facts["pools"].get(name, [])}
    assert sorted(everything) == sorted(wanted)
    for color in ("blue", "green"):
        network = IPv4Network(SUBNETS[color])
        assert all(_is_ipv4(a) and IPv4Address(a) in network for a in groups[color])
    assert ("health" in seen) == (report is not None)


@SIDE_EXAMPLES
@given(looks(), st.sampled_from([BLUE_NET, GREEN_NET, "10.0.0.0/24"]))
def test_the_retire_guard_finds_every_ipv4_address_of_any_pool_inside_the_subnet(
    case: tuple, cidr: str
) -> None:
    _, document, _, facts = case
    network = IPv4Network(cidr)
    inside = {
        a
        for pool in facts["pools"].values()
        for a in pool
        if _is_ipv4(a) and IPv4Address(a) in network
    }
    found = addresses_in(document, cidr)
    assert found == sorted(inside, key=lambda a: int(IPv4Address(a)))

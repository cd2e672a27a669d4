"""The transition rules called directly on the facts of two parsed configs, without evaluating
the program: each rule at its edge, and the facts' round trip through the stack output."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, cast

import pulumi
import pytest

import config
from config import Color, transition
from conftest import STACK, with_overrides


def facts(overrides: dict[str, Any] | None = None) -> transition.DeployedFacts:
    raw = with_overrides("blue", overrides or {})
    cfg = config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in raw.items()})
    return transition.facts_of(cfg, config.resource_prefix(cfg, STACK))


def refused(head: dict[str, Any], base: dict[str, Any] | None = None) -> list[str]:
    """`key: words` of every refusal of base -> head (the blue sample, blue serving)."""
    return [_keyed(p) for p in transition.refusals(facts(base), facts(head))]


def _keyed(problem: config.ConfigError) -> str:
    prefix = f"aks-bluegreen:{problem.key}: "
    assert str(problem).startswith(prefix), str(problem)
    return f"{problem.key}: {str(problem).removeprefix(prefix)}"


def cluster(color: str, **values: Any) -> dict[str, Any]:
    return {"clusters": {color: values}}


# --- versions --------------------------------------------------------------------------------
# The sample: blue 1.35 serving, green 1.36 the standby.


@pytest.mark.parametrize(
    ("base", "head", "says"),
    [
        # A flip that also upgrades the cluster it leaves: blue serves until the flip lands.
        (
            {},
            {"active": "green", **cluster("blue", kubernetesVersion="1.36")},
            "1.35 -> 1.36 upgrades blue in place while it is serving; upgrade green instead",
        ),
        (
            cluster("blue", kubernetesVersion="1.35.7"),
            cluster("blue", kubernetesVersion="1.35.3"),
            "1.35.7 -> 1.35.3 is a downgrade, which AKS refuses",
        ),
        ({}, cluster("green", kubernetesVersion="1.35"), "1.36 -> 1.35 is a downgrade"),
        (
            cluster("green", kubernetesVersion="1.35"),
            cluster("green", kubernetesVersion="1.37"),
            "1.35 -> 1.37 skips a minor version, which AKS refuses; upgrade to 1.36 first",
        ),
        ({}, cluster("blue", kubernetesVersion="1.37"), "upgrade to 1.36 first"),
    ],
)
def test_versions_aks_refuses_or_that_upgrade_the_serving_cluster(
    base: dict[str, Any], head: dict[str, Any], says: str
) -> None:
    [problem] = refused(head, base)
    assert problem.startswith(
        f"clusters.{'green' if 'green' in head.get('clusters', {}) else 'blue'}.kubernetesVersion: "
    )
    assert says in problem


@pytest.mark.parametrize(
    ("base", "head"),
    [
        ({}, cluster("green", kubernetesVersion="1.37")),  # the standby, one minor up
        ({}, cluster("blue", kubernetesVersion="1.35.3")),  # a patch of the serving cluster
        (cluster("blue", kubernetesVersion="1.35.7"), cluster("blue", kubernetesVersion="1.35")),
        (cluster("blue", kubernetesVersion="1.35.3"), cluster("blue", kubernetesVersion="1.35.7")),
        # Re-enabling a retired cluster at another version, even an older one: it is built anew.
        (cluster("green", enabled=False), cluster("green", kubernetesVersion="1.35")),
        (cluster("green", enabled=False), cluster("green", kubernetesVersion="1.37")),
        # Retiring the standby at another version: nothing of it is upgraded.
        ({}, cluster("green", enabled=False, kubernetesVersion="1.35")),
    ],
)
def test_versions_aks_accepts_on_a_cluster_that_may_change(
    base: dict[str, Any], head: dict[str, Any]
) -> None:
    assert refused(head, base) == []


def test_a_version_an_older_output_lacks_is_not_judged() -> None:
    previous = replace(facts(), clusters=(("blue", transition.ClusterFacts(enabled=True)),))
    assert transition.refusals(previous, facts(cluster("blue", kubernetesVersion="1.37"))) == []
    head = replace(facts(), clusters=(("blue", transition.ClusterFacts(enabled=True)),))
    assert transition.refusals(facts(cluster("blue", kubernetesVersion="1.37")), head) == []


# --- the serving cluster's settings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "key", "says"),
    [
        (
            {"network": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}},
            "network.serviceCidr",
            "10.0.0.0/16 -> 10.1.0.0/16 would replace blue, which is serving (AKS cannot change a "
            "cluster's service range; azure-native replaces it); set clusters.green.serviceCidr "
            "to 10.1.0.0/16 first, cut over to green, then set it on blue",
        ),
        (
            {"network": {"dnsServiceIp": "10.0.0.11"}},
            "network.dnsServiceIp",
            "set clusters.green.dnsServiceIp to 10.0.0.11 first",
        ),
        (
            cluster("blue", dnsServiceIp="10.0.0.11"),
            "clusters.blue.dnsServiceIp",
            "10.0.0.10 -> 10.0.0.11 would replace blue, which is serving (AKS cannot change a "
            "cluster's service range; azure-native replaces it); make the change on green (the "
            "standby, which is rebuilt), cut over to it, then make it on blue",
        ),
        (
            {
                "network": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"},
                **cluster("blue", serviceCidr="10.2.0.0/16", dnsServiceIp="10.2.0.10"),
            },
            "clusters.blue.serviceCidr",
            "10.0.0.0/16 -> 10.2.0.0/16 would replace blue",
        ),
        (
            cluster("blue", maxPods=100),
            "clusters.blue.maxPods",
            "110 -> 100 would rebuild blue, which is serving (AKS fixes a node pool's maxPods "
            "when it creates the pool); make the change on green",
        ),
        (
            cluster("blue", availabilityZones=["1", "2"]),
            "clusters.blue.availabilityZones",
            "1,2,3 -> 1,2 would rebuild blue",
        ),
        (
            cluster("blue", availabilityZones=[]),
            "clusters.blue.availabilityZones",
            "1,2,3 -> none would rebuild blue",
        ),
        (
            cluster("blue", encryptionAtHost=False),
            "clusters.blue.encryptionAtHost",
            "True -> False would rebuild blue",
        ),
        (
            cluster("blue", subnetCidr="10.242.0.0/16"),
            "clusters.blue.subnetCidr",
            "10.240.0.0/16 -> 10.242.0.0/16: blue's nodes and pods have addresses in that subnet "
            "and Azure refuses to change the range of a subnet in use; cut over to green first, "
            "retire blue in a later change, then change its subnet and enable it again",
        ),
        (
            cluster("green", subnetCidr="10.242.0.0/16"),
            "clusters.green.subnetCidr",
            "retire green first (clusters.green.enabled: false), then change its subnet",
        ),
    ],
)
def test_a_change_that_would_replace_the_serving_cluster_names_its_key_and_the_way_round(
    head: dict[str, Any], key: str, says: str
) -> None:
    problems = refused(head)
    assert problems[0].startswith(f"{key}: "), problems
    assert says in problems[0]


def test_the_standby_may_change_what_would_rebuild_it() -> None:
    for head in (
        cluster("green", maxPods=100),
        cluster("green", vmSize="Standard_D8ds_v5", osDiskType="Managed"),
        cluster("green", serviceCidr="10.1.0.0/16", dnsServiceIp="10.1.0.10"),
        cluster("green", availabilityZones=["1"]),
    ):
        assert refused(head) == [], head


def test_a_retired_cluster_may_come_back_with_any_setting() -> None:
    retired = cluster("green", enabled=False)
    back = cluster("green", subnetCidr="10.242.0.0/16", maxPods=100)
    assert refused(back, base=retired) == []


def test_after_a_flip_the_new_serving_cluster_is_the_one_held() -> None:
    base = {"active": "green"}
    assert refused(cluster("blue", maxPods=100), base) == []
    [problem] = refused({"active": "green", **cluster("green", maxPods=100)}, base)
    assert problem.startswith("clusters.green.maxPods: 110 -> 100 would rebuild green")
    assert "make the change on blue" in problem


def test_a_pool_setting_an_older_output_lacks_is_not_judged() -> None:
    blue = dict(facts().clusters)["blue"]
    previous = replace(
        facts(), clusters=(("blue", replace(blue, node_pool=(("vmSize", "Standard_D4ds_v5"),))),)
    )
    assert transition.refusals(previous, facts(cluster("blue", maxPods=100))) == []


# --- the stack itself ------------------------------------------------------------------------


def test_the_stacks_identity_and_gateway_subnet_are_fixed() -> None:
    [location] = refused({"location": "northeurope"})
    assert location.startswith("location: westeurope -> northeurope: it would replace")
    [prefix] = refused({"namePrefix": "shop"})
    assert prefix.startswith("namePrefix: names would change from aksbg-prod-* to shop-prod-*")
    [subnet] = refused({"network": {"gatewaySubnetCidr": "10.226.0.0/24"}})
    assert subnet.startswith("network.gatewaySubnetCidr: 10.225.0.0/24 -> 10.226.0.0/24")


# --- retiring, protection, break-glass -------------------------------------------------------


def test_the_cluster_a_flip_leaves_is_retired_in_a_later_change() -> None:
    [problem] = refused({"active": "green", **cluster("blue", enabled=False)})
    assert problem.startswith("clusters.blue.enabled: blue is serving until this change lands")
    assert refused(cluster("green", enabled=False)) == []
    assert (
        refused({"active": "green", **cluster("blue", enabled=False)}, base={"active": "green"})
        == []
    )
    partial = transition.facts_from_output({"clusters": {}})
    assert partial is not None
    assert (
        transition.refusals(partial, facts({"active": "green", **cluster("blue", enabled=False)}))
        == []
    )


def test_a_cluster_still_protected_is_retired_only_after_a_deployment_lifts_it() -> None:
    previous = replace(facts({"active": "green"}), protected=("blue", "green"))
    [problem] = [
        _keyed(p)
        for p in transition.refusals(
            previous, facts({"active": "green", **cluster("blue", enabled=False)})
        )
    ]
    assert problem.startswith("clusters.blue.enabled: blue is still protected")
    assert "now that green serves, then retire blue" in problem
    lifted = replace(previous, protected=("green",))
    assert (
        transition.refusals(lifted, facts({"active": "green", **cluster("blue", enabled=False)}))
        == []
    )


def test_a_lifted_break_glass_retires_the_unreachable_cluster_in_the_same_change() -> None:
    declared = {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}
    [problem] = refused({"active": "green"}, base=declared)
    assert problem.startswith("breakGlass: blue's objects left the state while it was unreachable")
    assert "retire blue (clusters.blue.enabled: false" in problem
    assert refused({"active": "green", **cluster("blue", enabled=False)}, base=declared) == []
    assert refused(declared, base=declared) == []


def test_a_cluster_never_deployed_cannot_be_declared_unreachable() -> None:
    [problem] = refused(
        {"breakGlass": {"unreachableCluster": "green"}}, base=cluster("green", enabled=False)
    )
    assert problem.startswith("breakGlass.unreachableCluster: green was not deployed")
    assert refused({"breakGlass": {"unreachableCluster": "green"}}) == []


# --- certificates ----------------------------------------------------------------------------

_SECRET = "https://shop-kv.vault.azure.net/secrets/"


def _tls(*named: str | None, on_gateway: tuple[str, ...] = ("a", "b")) -> dict[str, Any]:
    certificates = [
        {"name": n, "keyVaultSecretId": _SECRET + n, "keyVaultResourceGroup": "kv"}
        for n in on_gateway
    ]
    apps = [
        {"name": f"app{i}", "image": config.SAMPLE_IMAGE, "host": f"app{i}.example.com"}
        | ({"tls": {"certificate": name}} if name else {})
        for i, name in enumerate(named)
    ]
    return {"gateway": {"certificates": certificates}, "workloads": apps}


def test_a_named_certificate_leaves_the_gateway_only_once_no_app_names_it() -> None:
    # Two apps naming it: one refusal, for the certificate.
    [problem] = refused(_tls(None, None, on_gateway=("b",)), base=_tls("a", "a"))
    assert problem.startswith("gateway.certificates: 'a' is named by an app")
    assert refused(_tls(None, None, on_gateway=("b",)), base=_tls(None, None)) == []


def test_a_certificate_is_named_only_once_it_is_on_the_gateway() -> None:
    [problem] = refused(_tls(None, "b"), base=_tls(None, None, on_gateway=("a",)))
    assert problem.startswith("workloads[1].tls.certificate: 'b' is not on the gateway yet")
    assert refused(_tls(None, "b"), base=_tls(None, None)) == []


def test_certificate_facts_an_older_output_lacks_skip_the_rule() -> None:
    for missing in ("certificates", "certificatesNamed"):
        older = facts(_tls("a")).to_output()
        del older["gateway"][missing]
        previous = transition.facts_from_output(older)
        assert previous is not None
        assert transition.refusals(previous, facts(_tls(None, on_gateway=("b",)))) == []


# --- the facts and the stack output ----------------------------------------------------------


def test_the_facts_of_a_config_are_what_its_deployment_exports() -> None:
    deployed = facts(_tls("a", None))
    assert deployed.active == "blue"
    assert (deployed.location, deployed.resource_prefix) == ("westeurope", "aksbg-prod")
    assert (deployed.vnet_cidr, deployed.gateway_subnet_cidr) == ("10.224.0.0/11", "10.225.0.0/24")
    assert (deployed.service_cidr, deployed.dns_service_ip) == ("10.0.0.0/16", "10.0.0.10")
    assert (deployed.certificates, deployed.certificates_named) == (("a", "b"), ("a", None))
    assert deployed.cluster("green") == transition.ClusterFacts(
        enabled=True,
        kubernetes_version="1.36",
        subnet_cidr="10.241.0.0/16",
        service_cidr="10.0.0.0/16",
        dns_service_ip="10.0.0.10",
        node_pool=(
            ("vmSize", "Standard_D4ds_v5"),
            ("osDiskType", "Ephemeral"),
            ("availabilityZones", ["1", "2", "3"]),
            ("maxPods", 110),
            ("encryptionAtHost", True),
        ),
    )
    # Through JSON, as the engine stores and returns it.
    output = json.loads(json.dumps(deployed.to_output()))
    assert output["schema"] == 2 and output["servingColor"] is None
    assert output["breakGlass"] is None
    assert transition.facts_from_output(output) == deployed


def test_the_break_glass_and_the_serving_color_come_back_from_the_output() -> None:
    deployed = replace(
        facts({"active": "green", "breakGlass": {"unreachableCluster": "blue"}}), serving="blue"
    )
    output = json.loads(json.dumps(deployed.to_output()))
    assert output["breakGlass"] == {"unreachableCluster": "blue"}
    output |= {"config": {"active": "green"}, "protectedColors": ["green", "red"]}
    back = transition.facts_from_output(output)
    assert back == replace(deployed, config={"active": "green"}, protected=("green",))


def test_a_malformed_output_reads_as_facts_unknown() -> None:
    back = transition.facts_from_output(
        {
            "active": "red",
            "location": "",
            "resourcePrefix": 7,
            "network": "10.0.0.0/8",
            "clusters": {
                "blue": {
                    "enabled": "yes",
                    "kubernetesVersion": 1.35,
                    "nodePool": {"maxPods": 110.0, "vmSize": None, "osDiskType": 2.5},
                },
                "red": {"enabled": True},
            },
            "breakGlass": {"unreachableCluster": "purple"},
            "gateway": {"certificates": ["a", None], "certificatesNamed": ["a", None, 3]},
            "servingColor": "blue",
            "config": ["active"],
            "protectedColors": "blue",
        }
    )
    assert back == transition.DeployedFacts(
        clusters=(
            ("blue", transition.ClusterFacts(node_pool=(("osDiskType", 2.5), ("maxPods", 110)))),
        ),
        serving="blue",
    )
    [(_, pool)] = back.cluster("blue").node_pool[1:]
    assert type(pool) is int
    named = transition.facts_from_output({"gateway": {"certificatesNamed": ["a", None]}})
    assert named is not None and named.certificates_named == ("a", None)
    assert named.certificates is None
    assert transition.facts_from_output([]) is None


# --- in the program --------------------------------------------------------------------------


def test_an_unsafe_change_stops_the_program_with_every_refusal() -> None:
    head = facts({"location": "northeurope", **cluster("blue", kubernetesVersion="1.36")})
    with pytest.raises(pulumi.RunError) as raised:
        transition.refuse_unsafe_change(facts(), head)
    assert str(raised.value) == "\n".join(str(p) for p in transition.refusals(facts(), head))
    assert str(raised.value).count("\n") == 1
    transition.refuse_unsafe_change(None, head)  # never deployed: nothing to compare
    transition.refuse_unsafe_change(facts(), facts())


@pytest.mark.parametrize(
    ("active", "enabled", "serving", "protected"),
    [
        ("blue", ["blue", "green"], None, {"blue"}),  # first deployment
        ("blue", ["blue", "green"], "blue", {"blue"}),
        ("green", ["blue", "green"], "blue", {"blue", "green"}),  # a flip not yet verified
        ("green", ["blue", "green"], "green", {"green"}),
        ("green", ["blue", "green"], "unverified", {"blue", "green"}),
        ("green", ["green"], "unverified", {"green"}),
    ],
)
def test_the_protected_clusters_are_the_active_and_the_last_verified_serving(
    active: Color, enabled: list[Color], serving: str | None, protected: set[Color]
) -> None:
    previous = None
    if serving is not None:
        verified = None if serving == "unverified" else cast(Color, serving)
        previous = replace(facts(), serving=verified)
    assert transition.protected_colors(active, enabled, previous) == protected


def test_the_last_deployment_is_read_through_the_stacks_own_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[str, str]] = []

    class Reference:
        def __init__(self, name: str, stack: str) -> None:
            asked.append((name, stack))

        async def get_output_details(self, output: str) -> SimpleNamespace:
            asked.append(("output", output))
            return SimpleNamespace(value=facts().to_output())

    monkeypatch.setattr(pulumi, "get_organization", lambda: "org")
    monkeypatch.setattr(pulumi, "get_project", lambda: "aks-bluegreen")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "prod")
    monkeypatch.setattr(pulumi, "StackReference", Reference)
    # A loop of its own: asyncio.run would leave the thread without one for the evaluations
    # that pulumi's runtime runs next in this process.
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(transition.last_deployment()) == facts()
    finally:
        loop.close()
    assert asked == [
        ("previous-deployment", "org/aks-bluegreen/prod"),
        ("output", "deployedConfig"),
    ]


# --- the facts as the program reads them back: JSON strings, not the config's own objects ------


def read_back(overrides: dict[str, Any] | None = None, **extra: Any) -> transition.DeployedFacts:
    """The facts of the last deployment as the stack reference returns them: parsed JSON."""
    output = json.loads(json.dumps(facts(overrides).to_output() | extra))
    previous = transition.facts_from_output(output)
    assert previous is not None
    return previous


def refused_after(previous: transition.DeployedFacts, head: dict[str, Any]) -> list[str]:
    return [_keyed(p) for p in transition.refusals(previous, facts(head))]


def test_rules_read_the_serving_color_from_the_output_by_value() -> None:
    previous = read_back()
    [upgrade] = refused_after(previous, cluster("blue", kubernetesVersion="1.36"))
    assert "upgrades blue in place while it is serving" in upgrade
    [pool] = refused_after(previous, cluster("blue", maxPods=120))
    assert pool.startswith("clusters.blue.maxPods: 110 -> 120 would rebuild blue")
    [retire] = refused_after(previous, {"active": "green", **cluster("blue", enabled=False)})
    assert retire.startswith("clusters.blue.enabled: blue is serving")
    glass = {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}
    assert refused_after(read_back(glass), glass) == []


def test_with_green_serving_blues_minor_upgrade_is_the_standbys() -> None:
    green = {"active": "green"}
    assert refused({"active": "green", **cluster("blue", kubernetesVersion="1.36")}, green) == []
    # A flip back to blue that retires green, which still serves.
    [problem] = refused(cluster("green", enabled=False), base=green)
    assert problem.startswith("clusters.green.enabled: green is serving until this change lands")


def test_an_unchanged_patch_version_is_no_downgrade() -> None:
    patched = cluster("blue", kubernetesVersion="1.35.7")
    assert refused(patched, base=patched) == []


@pytest.mark.parametrize(
    ("base", "head", "key"),
    [
        # The shared range goes down in sort order: still the shared key.
        (
            {"network": {"serviceCidr": "10.1.0.0/16", "dnsServiceIp": "10.1.0.10"}},
            {"network": {"serviceCidr": "10.0.0.0/16", "dnsServiceIp": "10.0.0.10"}},
            "network.serviceCidr",
        ),
        # Blue's own range goes back to the shared one, which did not change: blue's key.
        (
            cluster("blue", serviceCidr="10.1.0.0/16", dnsServiceIp="10.1.0.10"),
            {},
            "clusters.blue.serviceCidr",
        ),
        # Both change, blue's own to a range that sorts below the new shared one: blue's key.
        (
            {},
            {
                "network": {"serviceCidr": "10.2.0.0/16", "dnsServiceIp": "10.2.0.10"},
                **cluster("blue", serviceCidr="10.1.0.0/16", dnsServiceIp="10.1.0.10"),
            },
            "clusters.blue.serviceCidr",
        ),
    ],
)
def test_the_service_range_refusal_names_the_key_that_moved_the_serving_cluster(
    base: dict[str, Any], head: dict[str, Any], key: str
) -> None:
    problems = refused(head, base)
    assert problems[0].startswith(f"{key}: "), problems


def test_protection_lingers_on_either_cluster_only_until_lifted() -> None:
    both = ("blue", "green")
    # The flip back to blue is not verified yet: green is still protected.
    previous = replace(facts(), protected=both)
    [problem] = [
        _keyed(p) for p in transition.refusals(previous, facts(cluster("green", enabled=False)))
    ]
    assert problem.startswith("clusters.green.enabled: green is still protected")
    # Protected but kept enabled: nothing to refuse.
    assert (
        transition.refusals(
            replace(facts({"active": "green"}), protected=both), facts({"active": "green"})
        )
        == []
    )


def test_a_certificate_kept_on_the_gateway_and_named_stays_named() -> None:
    assert refused(_tls("a"), base=_tls("a")) == []


def test_rules_tolerate_an_older_output_without_enabled() -> None:
    output = facts().to_output()
    for facts_of_cluster in output["clusters"].values():
        del facts_of_cluster["enabled"]
    previous = transition.facts_from_output(output)
    assert previous is not None
    assert (
        transition.refusals(previous, facts({"breakGlass": {"unreachableCluster": "green"}})) == []
    )

"""The safety invariants on the sample stack: every sequence that once broke them, refused in
the plan's own words, and the common journeys, accepted (docs/safety.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from safety_cases import Judge
from safety_cases import stack_config as sample

import config
from conftest import ACCESS, ROOT, STACK, with_overrides
from plan.diff import diff
from plan.evaluate import Evaluation, evaluate

APP = "mcr.microsoft.com/dotnet/samples:aspnetapp-9.0"
FLIP = {"active": "green"}


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge()


def refusals(judge: Judge, base: dict[str, Any], head: dict[str, Any]) -> list[str]:
    return list(judge.verdict(sample(base), sample(head)).verdict.refusals)


BLUE_REPLACED = (
    "refused: nothing serving is lost: the change replaces ManagedCluster blue-aks "
    "(networkProfile.networkDataplane changed; networkProfile.networkPolicy changed), "
    "blue's cluster"
)


def test_a_flip_with_a_rebuild_of_the_cluster_it_leaves_is_refused(judge: Judge) -> None:
    # The engine would let protect move and the cluster be replaced in one update: the judge
    # sees the replace on the diff, whatever key caused it, and both clusters stay protected.
    found = refusals(judge, {}, {**FLIP, "clusters": {"blue": {"networkPolicy": "none"}}})
    assert found[0] == BLUE_REPLACED
    assert (
        "refused: protected: the change replaces ManagedCluster blue-aks, protected in the base; "
        "the engine refuses it too"
    ) in found
    assert (
        "refused: a flip changes nothing else: active blue -> green comes with "
        "clusters.blue.networkPolicy; move those to their own pull request, land it, then flip "
        "alone"
    ) in found


def test_a_rebuild_of_the_serving_cluster_by_an_unlisted_key_is_refused(judge: Judge) -> None:
    found = refusals(judge, {}, {"clusters": {"blue": {"networkPolicy": "none"}}})
    assert found[0] == BLUE_REPLACED
    assert any(
        line.startswith(
            "refused: nothing serving is lost: with blue-kubernetes the change replaces 9 "
            "serving object(s): "
        )
        and "Namespace agic" in line
        for line in found
    ), found


def test_the_same_rebuild_of_the_standby_is_accepted(judge: Judge) -> None:
    judged = judge.verdict(sample({}), sample({"clusters": {"green": {"networkPolicy": "none"}}}))
    assert judged.verdict.refusals == ()
    # ... and `pulumi preview`/`up` check the live gateway sends green nothing first.
    assert judged.verdict.clusters_lost == ("green",)


def test_upgrading_the_standby_and_flipping_to_it_at_once_is_refused_with_its_revert(
    judge: Judge,
) -> None:
    found = refusals(judge, {}, {**FLIP, "clusters": {"green": {"kubernetesVersion": "1.37"}}})
    assert found[0] == (
        "refused: a flip changes nothing else: active blue -> green comes with "
        "clusters.green.kubernetesVersion; move those to their own pull request, land it, then "
        "flip alone"
    )
    assert found[1].startswith(
        "refused: every change can be reverted, and the revert of this one would be refused: "
    )
    assert "1.37 -> 1.36 is a downgrade, which AKS refuses" in found[1]
    assert found[1].endswith(
        "instead: first land everything but the flip (keep active: blue), let `pulumi up` "
        "finish, then change active alone"
    )


def test_re_enabling_a_retired_cluster_and_flipping_to_it_at_once_is_refused(
    judge: Judge,
) -> None:
    found = refusals(judge, {"clusters": {"green": {"enabled": False}}}, FLIP)
    assert found[0] == (
        "refused: a flip changes nothing else: active blue -> green comes with "
        "clusters.green.enabled; move those to their own pull request, land it, then flip alone"
    )
    # Its revert would retire green while it serves.
    assert found[1].startswith(
        "refused: every change can be reverted, and the revert of this one would be refused: "
        "nothing serving is lost: the change deletes "
    )
    assert "green's cluster" in found[1] or "green's control-plane identity" in found[1]


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"workloads": [{"name": "aspnetapp", "image": APP}]}, "workloads"),
        ({"gateway": {"sku": "WAF_v2"}}, "gateway.sku"),
    ],
)
def test_a_flip_with_a_workload_or_gateway_change_is_refused_naming_the_key(
    judge: Judge, extra: dict[str, Any], key: str
) -> None:
    found = refusals(judge, {}, {**FLIP, **extra})
    assert found[0] == (
        f"refused: a flip changes nothing else: active blue -> green comes with {key}; move "
        "those to their own pull request, land it, then flip alone"
    )


# --- the common journeys, each accepted and doing what it says ----------------------------

JOURNEYS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "upgrade the standby": ({}, {"clusters": {"green": {"kubernetesVersion": "1.37"}}}),
    "flip": ({}, FLIP),
    "roll back": (FLIP, {}),
    "retire the old cluster": (FLIP, {**FLIP, "clusters": {"blue": {"enabled": False}}}),
    "re-enable it on the next minor": (
        {**FLIP, "clusters": {"blue": {"enabled": False}}},
        {**FLIP, "clusters": {"blue": {"kubernetesVersion": "1.37"}}},
    ),
    "add an app": (
        {},
        {
            "workloads": [
                {"name": "aspnetapp", "image": config.model.SAMPLE_IMAGE},
                {"name": "shop", "image": APP, "path": "/shop"},
            ]
        },
    ),
    "change an app without a flip": ({}, {"workloads": [{"name": "aspnetapp", "image": APP}]}),
}


@pytest.mark.parametrize("journey", sorted(JOURNEYS))
def test_common_journeys_are_accepted_both_ways(judge: Judge, journey: str) -> None:
    base, head = JOURNEYS[journey]
    judged = judge.verdict(sample(base), sample(head))
    assert judged.verdict.refusals == (), journey
    plan = diff(judged.base, judged.head)
    touched = {(c.action, c.type.split(":")[-1]) for c in plan.touched}
    expected = {
        "upgrade the standby": ("update", "ManagedCluster"),
        "flip": ("replace", "Release"),
        "roll back": ("replace", "Release"),
        "retire the old cluster": ("delete", "ManagedCluster"),
        "re-enable it on the next minor": ("create", "ManagedCluster"),
        "add an app": ("create", "Deployment"),
        "change an app without a flip": ("update", "Deployment"),
    }[journey]
    assert expected in touched, touched


# --- namespaces owned once, ranges Azure refuses, anchored validators ------------------------


def parse(**overrides: Any) -> config.StackConfig:
    return config.parse({"active": "blue", "access": ACCESS, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"workloads": [{"name": "shop", "image": APP, "namespace": "agic"}]},
            "aks-bluegreen:workloads[0].namespace: 'agic' is AGIC's namespace (agic.namespace): "
            "removing or renaming the app would delete the namespace and AGIC in it; give the "
            "app its own namespace",
        ),
        (
            {"agic": {"namespace": "shop"}, "workloads": [{"name": "shop", "image": APP}]},
            "aks-bluegreen:workloads[0].namespace: 'shop' is AGIC's namespace",
        ),
        (
            {"agic": {"namespace": "kube-system"}},
            "aks-bluegreen:agic.namespace: 'kube-system' belongs to Kubernetes or AKS",
        ),
        (
            {"workloads": [{"name": "shop", "image": APP, "namespace": "default"}]},
            "aks-bluegreen:workloads[0].namespace: 'default' belongs to Kubernetes or AKS",
        ),
        (
            {"workloads": [{"name": "shop", "image": APP, "namespace": "gatekeeper-system"}]},
            "'gatekeeper-system' belongs to Kubernetes or AKS",
        ),
        (
            {
                "workloads": [
                    {"name": "a", "image": APP, "namespace": "shop", "path": "/a"},
                    {"name": "b", "image": APP, "namespace": "shop", "path": "/b"},
                ]
            },
            "aks-bluegreen:workloads[1].namespace: 'shop' is already workloads[0]'s namespace",
        ),
        (
            {"network": {"serviceCidr": "172.30.0.0/16", "dnsServiceIp": "172.30.0.10"}},
            "aks-bluegreen:network.serviceCidr: 172.30.0.0/16 overlaps 172.30.0.0/16, which Azure "
            "refuses (AKS azure-cni-overview: reserved address ranges)",
        ),
        (
            {"network": {"serviceCidr": "192.0.2.0/24", "dnsServiceIp": "192.0.2.10"}},
            "overlaps 192.0.2.0/24, which Azure refuses",
        ),
        (
            {
                "clusters": {
                    "blue": {"kubernetesVersion": "1.35", "subnetCidr": "10.240.0.0/16"},
                    "green": {
                        "kubernetesVersion": "1.36",
                        "subnetCidr": "10.241.0.0/16",
                        "serviceCidr": "169.254.0.0/16",
                        "dnsServiceIp": "169.254.0.10",
                    },
                }
            },
            "aks-bluegreen:clusters.green.serviceCidr: 169.254.0.0/16 overlaps 169.254.0.0/16",
        ),
    ],
)
def test_namespaces_and_ranges_azure_or_aks_own_are_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(config.ConfigError) as refused:
        parse(**overrides)
    assert message in str(refused.value)


def test_a_vnet_in_address_space_azure_keeps_is_refused() -> None:
    with pytest.raises(config.ConfigError) as refused:
        parse(
            network={"vnetCidr": "168.63.0.0/16", "gatewaySubnetCidr": "168.63.0.0/24"},
            clusters={
                "blue": {"kubernetesVersion": "1.35", "subnetCidr": "168.63.64.0/18"},
                "green": {"kubernetesVersion": "1.36", "subnetCidr": "168.63.128.0/18"},
            },
        )
    assert str(refused.value).startswith(
        "aks-bluegreen:network.vnetCidr: 168.63.0.0/16 overlaps 168.63.129.16/32, which Azure "
        "refuses (Azure virtual network FAQ"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"namePrefix": "shop\n"},
        {"location": "westeurope\n"},
        {"agic": {"chartVersion": "1.9.8\n"}},
        {"agic": {"chart": "oci://myregistry.azurecr.io/charts/ingress-azure\n"}},
        {"workloads": [{"name": "shop\n", "image": APP}]},
    ],
)
def test_a_trailing_newline_is_refused_by_every_validator(overrides: dict[str, Any]) -> None:
    with pytest.raises(config.ConfigError):
        parse(**overrides)


def test_stack_names_from_file_names_are_anchored() -> None:
    from scripts.changed_stacks import STACK_FILE, STACK_NAME

    found = STACK_FILE.match("Pulumi.prod\n.yaml")
    assert found is None or STACK_NAME.match(found["stack"]) is None
    assert STACK_FILE.match("Pulumi.prod.yaml\n") is None


def test_during_a_flip_both_clusters_stay_protected(judge: Judge) -> None:
    # Evaluated against its last deployment (blue verified serving), as the plan and the
    # program evaluate it: blue keeps protect, so not even the engine would replace it.
    judged = judge.verdict(sample({}), sample(FLIP))
    protected = {reg.name for reg in judged.head.resources.values() if reg.protect and reg.custom}
    assert {"blue-aks", "green-aks", "agic-blue-namespace", "agic-green-namespace"} <= protected
    plan = diff(judged.base, judged.head)
    assert {c.name for c in plan.by_action("state-only")} == {"green-aks", "agic-green-namespace"}


def test_bin_plan_exits_1_and_names_the_invariant_on_a_rebuild_of_the_serving_cluster(
    tmp_path: Path,
) -> None:
    from test_plan_cli import run_plan, stack_file

    head = stack_file(
        tmp_path, "prod", with_overrides("blue", {"clusters": {"blue": {"networkPolicy": "none"}}})
    )
    result = run_plan(str(ROOT / "Pulumi.blue.yaml"), str(head), "--no-policies")
    assert result.returncode == 1
    assert "Safety: refused (docs/safety.md):" in result.stdout
    assert BLUE_REPLACED in result.stderr.splitlines()
    assert (
        "refused: protected: the change replaces ManagedCluster blue-aks, protected in the base; "
        "the engine refuses it too"
    ) in result.stderr.splitlines()


def test_the_plan_does_not_say_all_passed_when_the_policy_config_weakens_policies(
    tmp_path: Path,
) -> None:
    from test_plan_cli import run_plan

    policy_config = tmp_path / "policy.json"
    policy_config.write_text('{"all": "advisory"}')
    result = run_plan("--policy-config", str(policy_config))
    assert "Policies: all passed" not in result.stdout
    assert "not mandatory by the policy config: " in result.stdout


def test_no_environment_variable_can_switch_on_a_kubernetes_provider_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK reads PULUMI_K8S_* when an argument is None (pulumi_kubernetes provider.py).
    for variable in (
        "PULUMI_K8S_UPSERT_EXISTING_OBJECTS",
        "PULUMI_K8S_ENABLE_PATCH_FORCE",
        "PULUMI_K8S_SKIP_UPDATE_UNREACHABLE",
        "PULUMI_K8S_DELETE_UNREACHABLE",
    ):
        monkeypatch.setenv(variable, "true")
    stack = evaluate(sample({}), STACK)
    providers = stack.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 2
    for provider in providers:
        for key in (
            "upsertExistingObjects",
            "enablePatchForce",
            "skipUpdateUnreachable",
            "deleteUnreachable",
        ):
            assert str(provider.inputs[key]).lower() == "false", (provider.name, key)


def test_agic_namespace_is_its_own_object_protected_with_its_cluster(blue: Evaluation) -> None:
    release = blue.one("kubernetes:helm.sh/v3:Release")
    assert release.inputs["createNamespace"] is False
    namespaces = {
        reg.name: reg
        for reg in blue.of_type("kubernetes:core/v1:Namespace")
        if reg.inputs["metadata"]["name"] == "agic"
    }
    assert set(namespaces) == {"agic-blue-namespace", "agic-green-namespace"}
    assert namespaces["agic-blue-namespace"].protect
    assert not namespaces["agic-green-namespace"].protect
    assert namespaces["agic-blue-namespace"].urn in release.dependencies

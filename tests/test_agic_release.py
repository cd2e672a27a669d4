"""Everything components/agic.py sets on the one AGIC release, its identity and credentials, read
from the real program evaluated under mocks; and the names it derives as the chart and AGIC do.

Chart facts: helm/ingress-azure/templates/_helpers.tpl and values.yaml @1.9.8
(shared/agic-chart-1.9.8/). AGIC facts: pkg/appgw/internaltypes.go (generateAddressPoolName,
formatPropName: 80 characters at most, longer names cut to 47 and an MD5).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from components.agic import (
    backend_pool_name,
    controller_deployment_name,
    disabled_subject,
    federated_subject,
    release_name,
    service_account_name,
)
from conftest import by_name
from plan.cloud_mocks import stable_uuid
from plan.evaluate import Evaluation, Registration

RELEASE = "kubernetes:helm.sh/v3:Release"
RG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg"
GATEWAY_ID = f"{RG}/providers/Microsoft.Network/applicationGateways/aksbg-prod-appgw"
IDENTITY_ID = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aksbg-prod-agic"


def release_of(stack: Evaluation) -> Registration:
    return stack.one(RELEASE)


# The names first: they need no evaluation, so a mutation run stops at them when they fail.
# --- names derived as the chart and AGIC derive them -----------------------------------------


def test_release_names_carry_the_color() -> None:
    assert (release_name("blue"), release_name("green")) == ("agic-blue", "agic-green")


@pytest.mark.parametrize(
    ("release", "override", "expected"),
    [
        ("agic-green", None, "agic-green-sa-ingress-azure"),
        # A release name that contains the chart name is used as it is ...
        ("my-ingress-azure", None, "my-ingress-azure"),
        ("ingress-azure", None, "ingress-azure"),
        # ... and fullnameOverride wins over both.
        ("agic-green", "custom-agic", "custom-agic"),
        ("my-ingress-azure", "custom-agic", "custom-agic"),
        ("agic-green", "", "agic-green-sa-ingress-azure"),
        # Kubernetes names stop at 63 characters, without a trailing dash.
        ("a" * 50, None, ("a" * 50 + "-sa-ingress-azure")[:63]),
        ("a" * 48, None, "a" * 48 + "-sa-ingress-azu"),
        ("a" * 59, None, "a" * 59 + "-sa"),
        ("b" * 62 + "-x", "", "b" * 62),
        ("x", "c" * 63 + "d", "c" * 63),
    ],
)
def test_service_account_names_follow_the_charts_template(
    release: str, override: str | None, expected: str
) -> None:
    assert service_account_name(release, override) == expected
    assert len(expected) <= 63


def test_the_subject_names_the_namespace_and_the_service_account() -> None:
    assert federated_subject("agic", "blue") == (
        "system:serviceaccount:agic:agic-blue-sa-ingress-azure"
    )


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("agic-green", "agic-green-ingress-azure"),
        ("team-ingress-azure", "team-ingress-azure"),
        ("d" * 60, "d" * 60 + "-in"),
        ("e" * 62 + "-ingress-azure", "e" * 62 + "-ingress-azure"),
        ("f" * 49 + "-ingress-azure-", "f" * 49 + "-ingress-azure"),
    ],
)
def test_the_controller_deployment_is_named_by_the_charts_fullname(
    release: str, expected: str
) -> None:
    assert controller_deployment_name(release) == expected[:63].rstrip("-")


def _agic_cut(name: str) -> str:
    # formatPropName: names over 80 characters become the first 47, "-", and the MD5 in hex.
    return f"{name[:47]}-{hashlib.md5(name.encode()).hexdigest()}"


def test_pool_names_up_to_80_characters_are_agics_own_format() -> None:
    assert backend_pool_name("aspnetapp", "aspnetapp", 80, 8080) == (
        "pool-aspnetapp-aspnetapp-80-bp-8080"
    )
    # "pool-" + namespace + "-" + service + "-80-bp-8080": 17 characters besides the two names.
    exactly = backend_pool_name("n" * 30, "s" * 33, 80, 8080)
    assert exactly == f"pool-{'n' * 30}-{'s' * 33}-80-bp-8080"
    assert len(exactly) == 80


def test_a_pool_name_of_81_characters_is_cut_and_hashed_to_80() -> None:
    full = f"pool-{'n' * 30}-{'s' * 34}-80-bp-8080"
    assert len(full) == 81
    cut = backend_pool_name("n" * 30, "s" * 34, 80, 8080)
    assert cut == _agic_cut(full)
    assert len(cut) == 80
    assert cut[47] == "-"


def test_pool_names_that_differ_only_past_the_cut_stay_distinct() -> None:
    one = backend_pool_name("team", "s" * 90, 80, 8080)
    other = backend_pool_name("team", "s" * 90, 80, 8081)
    assert one != other
    assert one[:47] == other[:47]
    assert len(one) == len(other) == 80


# --- the release and what it depends on, in the evaluated program ---------------------------


@pytest.mark.parametrize("active", ["blue", "green"])
def test_the_release_values_are_exactly_what_agic_needs_to_own_the_gateway_alone(
    active: str, blue: Evaluation, green: Evaluation
) -> None:
    stack = {"blue": blue, "green": green}[active]
    release = release_of(stack)
    assert release.inputs["values"] == {
        # shared: false, the chart's default, made explicit: AGIC then owns every pool, listener
        # and rule on the gateway and deletes what it did not generate (DESIGN.md); a shared
        # gateway would leave the old cluster's config in place after a flip.
        "appgw": {"applicationGatewayID": GATEWAY_ID, "shared": False},
        "armAuth": {
            "type": "workloadIdentity",
            "identityClientID": stable_uuid("client", IDENTITY_ID),
        },
        "rbac": {"enabled": True},
        "reconcilePeriodSeconds": 60,
        "kubernetes": {"ingressClassResource": {"enabled": False}},
    }


@pytest.mark.parametrize("active", ["blue", "green"])
def test_the_release_inputs_name_the_color_the_pinned_chart_and_its_namespace(
    active: str, blue: Evaluation, green: Evaluation
) -> None:
    stack = {"blue": blue, "green": green}[active]
    inputs = release_of(stack).inputs
    # `compat` is the SDK's own marker on every Release it registers, not the program's.
    assert {k: v for k, v in inputs.items() if k not in ("values", "compat")} == {
        "name": f"agic-{active}",
        # The default: Microsoft's registry (agic.chart unset in the sample).
        "chart": "oci://mcr.microsoft.com/azure-application-gateway/charts/ingress-azure",
        "version": "1.9.8",
        "namespace": "agic",
        "createNamespace": False,  # AGIC's namespace is the program's own Namespace object
        # "Time in seconds to wait for any individual kubernetes operation" (pulumi_kubernetes
        # helm/v3/Release.py): ten minutes, twice Helm's own default of five.
        "timeout": 600,
    }


@pytest.mark.parametrize("active", ["blue", "green"])
def test_a_flip_replaces_the_release_delete_first_on_the_active_clusters_provider(
    active: str, blue: Evaluation, green: Evaluation
) -> None:
    stack = {"blue": blue, "green": green}[active]
    release = release_of(stack)
    assert release.delete_before_replace
    assert release.replace_on_changes == ("name",)
    assert release.provider == by_name(stack, f"{active}-kubernetes").urn
    assert release.parent == by_name(stack, "agic").urn
    assert not release.protect
    assert stack.outputs["agicRelease"] == f"agic-{active}"
    assert stack.outputs["agicCluster"] == f"aksbg-prod-{active}"


def test_the_release_waits_for_the_gate_both_credentials_and_all_three_grants(
    blue: Evaluation,
) -> None:
    needed = {
        "blue-aspnetapp-smoke-job",
        "agic-blue-federation",
        "agic-green-federation",
        "agic-gateway-contributor",
        "agic-resource-group-reader",
        "agic-gateway-subnet-network-contributor",
    }
    deps = set(release_of(blue).dependencies)
    assert {by_name(blue, name).urn for name in needed} <= deps


def test_the_identity_lives_beside_the_gateway_under_the_component(blue: Evaluation) -> None:
    identity = by_name(blue, "agic-identity")
    assert identity.inputs == {
        "resourceGroupName": "aksbg-prod-rg",
        "resourceName": "aksbg-prod-agic",
        "location": "westeurope",
    }
    assert identity.parent == by_name(blue, "agic").urn


def test_the_grants_are_the_three_roles_each_on_its_own_resource(blue: Evaluation) -> None:
    grants = {
        name: by_name(blue, name)
        for name in (
            "agic-gateway-contributor",
            "agic-resource-group-reader",
            "agic-gateway-subnet-network-contributor",
        )
    }
    scopes = {name: grant.inputs["scope"] for name, grant in grants.items()}
    assert scopes == {
        "agic-gateway-contributor": GATEWAY_ID,
        "agic-resource-group-reader": RG,
        "agic-gateway-subnet-network-contributor": (
            f"{RG}/providers/Microsoft.Network/virtualNetworks/aksbg-prod-vnet/subnets/appgw"
        ),
    }
    principal = stable_uuid("principal", IDENTITY_ID)
    assert {g.inputs["principalId"] for g in grants.values()} == {principal}


def test_one_credential_per_cluster_chained_and_matching_the_charts_service_account(
    blue: Evaluation,
) -> None:
    first, second = by_name(blue, "agic-blue-federation"), by_name(blue, "agic-green-federation")
    for color, credential in (("blue", first), ("green", second)):
        assert credential.inputs["subject"] == (
            f"system:serviceaccount:agic:agic-{color}-sa-ingress-azure"
        )
        assert credential.inputs["federatedIdentityCredentialResourceName"] == f"agic-{color}"
        assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
        assert credential.inputs["resourceName"] == "aksbg-prod-agic"
        assert credential.inputs["resourceGroupName"] == "aksbg-prod-rg"
        assert credential.parent == by_name(blue, "agic").urn
    # Azure refuses concurrent credential writes on one identity: green waits for blue only.
    assert first.urn in second.dependencies
    assert second.urn not in first.dependencies
    assert first.inputs["issuer"] != second.inputs["issuer"]


@pytest.mark.parametrize(("active", "retired"), [("blue", "green"), ("green", "blue")])
def test_a_retired_cluster_has_no_credential_and_the_other_keeps_its_own(
    active: str, retired: str, evaluate_variant: Callable[..., Evaluation]
) -> None:
    stack = evaluate_variant(active, clusters={retired: {"enabled": False}})
    names = {r.name for r in stack.resources.values()}
    assert f"agic-{retired}-federation" not in names
    kept = by_name(stack, f"agic-{active}-federation")
    assert kept.inputs["subject"] == federated_subject("agic", active)
    assert kept.urn in release_of(stack).dependencies


def test_the_unreachable_clusters_credential_is_disabled_and_the_others_kept(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    stack = evaluate_variant("blue", active="green", breakGlass={"unreachableCluster": "blue"})
    assert by_name(stack, "agic-blue-federation").inputs["subject"] == disabled_subject("blue")
    assert by_name(stack, "agic-green-federation").inputs["subject"] == federated_subject(
        "agic", "green"
    )
    assert disabled_subject("blue") == "aks-bluegreen:break-glass:blue:no-service-account"
    assert not disabled_subject("blue").startswith("system:serviceaccount:")


def test_the_namespace_and_the_reconcile_period_come_from_the_config(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    stack = evaluate_variant("blue", agic={"namespace": "ingress", "reconcilePeriodSeconds": 30})
    release = release_of(stack)
    assert release.inputs["namespace"] == "ingress"
    assert release.inputs["values"]["reconcilePeriodSeconds"] == 30
    assert by_name(stack, "agic-green-federation").inputs["subject"] == (
        "system:serviceaccount:ingress:agic-green-sa-ingress-azure"
    )

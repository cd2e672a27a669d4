"""The CrossGuard pack, proven offline against the real program under mocks.

The sample stacks pass every policy. Each broken variant trips exactly the policy written for it
and no other mandatory one: faults config can express are made through config; the rest by
evaluating the real program and replacing fields of the recorded registrations.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_azure_native import network
from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

import config
from components import gateway as program_gateway
from plan.evaluate import Evaluation, Registration
from plan.policy_check import Violation, check
from plugin_process import plugin_channel
from policies import access, clusters, workloads
from policies import gateway as pack_gateway
from policies.pack import NAME, POLICIES

ROOT = Path(__file__).resolve().parent.parent
RELEASE = "kubernetes:helm.sh/v3:Release"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
GATEWAY = "azure-native:network:ApplicationGateway"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
K8S_PROVIDER = "pulumi:providers:kubernetes"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass"
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
# The gateway fields AGIC 1.9.8 assigns in pkg/appgw (`c.appGw.X = ...`, tests aside), by their
# azure-native property names: what both the program and the pack must keep out of Pulumi's diff.
AGIC_1_9_8_WRITES = {
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "frontendPorts",
    "httpListeners",
    "probes",
    "redirectConfigurations",
    "requestRoutingRules",
    "rewriteRuleSets",
    "sslCertificates",
    "tags",
    "urlPathMaps",
}
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
MANDATORY = {
    "agic-single-release",
    "agic-on-active-cluster",
    "agic-delete-before-replace",
    "gateway-v2-sku",
    "gateway-ignores-agic-owned",
    "ingress-agic-by-annotation",
    "aks-azure-cni",
    "aks-workload-identity",
    "aks-entra-id-only",
    "aks-minimum-version",
    "role-assignment-not-subscription-wide",
    "contributor-only-on-gateway",
    "aks-cluster-admin-only-on-a-cluster",
    "protect-gateway-and-network",
    "protect-active-cluster",
    "tls-certificate-on-gateway",
    "gateway-certificates-from-key-vault",
}
ADVISORY = {"workload-replicas-at-least-two", "container-image-pinned", "gateway-certificate-used"}


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def variant(evaluate_variant: Callable[..., Evaluation]) -> Callable[..., Evaluation]:
    """The sample stack with config overrides, each distinct variant evaluated once."""
    return evaluate_variant


@pytest.fixture(params=["blue", "green"])
def sample(request: pytest.FixtureRequest) -> Evaluation:
    return request.getfixturevalue(request.param)


def replaced(evaluation: Evaluation, reg: Registration, **changes: Any) -> Evaluation:
    """A copy of `evaluation` with one registration changed; the cached original stays intact."""
    resources = dict(evaluation.resources)
    resources[reg.urn] = dataclasses.replace(reg, **changes)
    return Evaluation(resources, evaluation.outputs, evaluation.invokes)


def with_inputs(
    evaluation: Evaluation, reg: Registration, edit: Callable[[dict[str, Any]], None]
) -> Evaluation:
    inputs = copy.deepcopy(reg.inputs)
    edit(inputs)
    return replaced(evaluation, reg, inputs=inputs)


def added(evaluation: Evaluation, reg: Registration) -> Evaluation:
    return Evaluation(
        {**evaluation.resources, reg.urn: reg}, evaluation.outputs, evaluation.invokes
    )


def removed(evaluation: Evaluation, reg: Registration) -> Evaluation:
    resources = {urn: r for urn, r in evaluation.resources.items() if urn != reg.urn}
    return Evaluation(resources, evaluation.outputs, evaluation.invokes)


def cluster(evaluation: Evaluation, color: str) -> Registration:
    return evaluation.one(MANAGED_CLUSTER, f"{color}-aks")


def role(evaluation: Evaluation, name: str) -> Registration:
    return evaluation.one(ROLE_ASSIGNMENT, name)


def assert_trips_only(violations: list[Violation], policy: str) -> list[Violation]:
    """`policy` fires, as mandatory, and no other mandatory policy does."""
    mandatory = {v.policy for v in violations if v.mandatory}
    assert mandatory == {policy}, "\n".join(map(str, violations))
    return [v for v in violations if v.policy == policy]


def assert_advises_only(violations: list[Violation], policy: str) -> list[Violation]:
    assert {v.policy for v in violations} == {policy}, "\n".join(map(str, violations))
    assert all(v.enforcement_level == "advisory" for v in violations)
    return violations


# --- the pack itself -------------------------------------------------------------------------


def test_pack_declares_each_policy_once_with_its_documented_level() -> None:
    names = [policy.name for policy in POLICIES]
    assert len(names) == len(set(names))
    levels = {policy.name: policy.enforcement_level for policy in POLICIES}
    assert {n for n, lvl in levels.items() if lvl is EnforcementLevel.MANDATORY} == MANDATORY
    assert {n for n, lvl in levels.items() if lvl is EnforcementLevel.ADVISORY} == ADVISORY


def test_entry_point_constructs_only_the_pack_with_every_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[dict[str, Any]] = []
    # The real PolicyPack serves gRPC forever; a recorder shows what __main__ would serve.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    runpy.run_path(str(ROOT / "policies"), run_name="__main__")
    assert len(built) == 1
    assert built[0]["name"] == NAME == "aks-bluegreen"
    assert [p.name for p in built[0]["policies"]] == [p.name for p in POLICIES]


def test_policy_project_file_declares_the_python_runtime() -> None:
    project = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["description"]
    requirements = (ROOT / "policies" / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements


# --- the sample stacks -----------------------------------------------------------------------


def test_sample_stacks_pass_every_policy(sample: Evaluation) -> None:
    assert check(sample) == []


def test_standby_cluster_may_stay_unprotected(blue: Evaluation, green: Evaluation) -> None:
    # The standby can be retired by config, which protect would refuse; only the active is held.
    assert not cluster(blue, "green").protect and cluster(blue, "blue").protect
    assert not cluster(green, "blue").protect and cluster(green, "green").protect
    assert check(blue) == check(green) == []


# --- AGIC ------------------------------------------------------------------------------------


def test_second_agic_release_trips_single_release(blue: Evaluation) -> None:
    release = blue.one(RELEASE)
    second = dataclasses.replace(
        release, urn=release.urn.rsplit("::", 1)[0] + "::agic-release-2", name="agic-release-2"
    )
    [violation] = assert_trips_only(check(added(blue, second)), "agic-single-release")
    assert "2 AGIC releases" in violation.message and "exactly one" in violation.message


def test_missing_agic_release_trips_single_release(blue: Evaluation) -> None:
    [violation] = assert_trips_only(check(removed(blue, blue.one(RELEASE))), "agic-single-release")
    assert "no AGIC Helm release" in violation.message


def test_release_without_outputs_in_a_first_preview_does_not_trip_single_release(
    blue: Evaluation,
) -> None:
    # What the engine previews for a release whose provider's kubeconfig is not known yet: no
    # outputs (seen under the real CLI by bin/e2e, on the first preview of a new stack).
    release = blue.one(RELEASE)
    unseen = replaced(blue, release, inputs={})
    assert not [v for v in check(unseen) if v.policy == "agic-single-release"]


@pytest.mark.parametrize(("active", "standby"), [("blue", "green"), ("green", "blue")])
def test_release_on_standby_provider_trips_on_active_cluster(
    request: pytest.FixtureRequest, active: str, standby: str
) -> None:
    evaluation: Evaluation = request.getfixturevalue(active)
    release = evaluation.one(RELEASE)
    standby_provider = evaluation.one(K8S_PROVIDER, f"{standby}-kubernetes")
    broken = replaced(evaluation, release, provider=standby_provider.urn)
    [violation] = assert_trips_only(check(broken), "agic-on-active-cluster")
    assert violation.urn == release.urn
    assert f"for the {active} cluster" in violation.message
    assert f"belongs to the {standby} cluster" in violation.message


def test_release_without_provider_trips_on_active_cluster(blue: Evaluation) -> None:
    broken = replaced(blue, blue.one(RELEASE), provider="")
    [violation] = assert_trips_only(check(broken), "agic-on-active-cluster")
    assert "set provider=" in violation.message


def test_release_not_named_for_a_color_trips_on_active_cluster(blue: Evaluation) -> None:
    broken = with_inputs(blue, blue.one(RELEASE), lambda i: i.update(name="agic"))
    [violation] = assert_trips_only(check(broken), "agic-on-active-cluster")
    assert "name it agic-<color>" in violation.message


def test_release_without_delete_before_replace_trips_delete_before_replace(
    blue: Evaluation,
) -> None:
    release = blue.one(RELEASE)
    broken = replaced(blue, release, delete_before_replace=False)
    [violation] = assert_trips_only(check(broken), "agic-delete-before-replace")
    assert violation.urn == release.urn
    assert "delete_before_replace=True" in violation.message


# --- gateway ---------------------------------------------------------------------------------


def test_v1_gateway_sku_trips_v2_sku(blue: Evaluation) -> None:
    v1 = {"name": "Standard_Medium", "tier": "Standard", "capacity": 2}
    broken = with_inputs(blue, blue.one(GATEWAY), lambda i: i.update(sku=v1))
    violations = assert_trips_only(check(broken), "gateway-v2-sku")
    assert any("Standard_v2 or WAF_v2" in v.message for v in violations)


def test_waf_v2_gateway_the_program_builds_passes(variant: Callable[..., Evaluation]) -> None:
    waf = variant("blue", gateway={"sku": "WAF_v2"})
    assert waf.one(GATEWAY).inputs["sku"]["tier"] == "WAF_v2"
    assert check(waf) == []


def test_waf_v2_gateway_without_firewall_policy_trips_v2_sku(
    variant: Callable[..., Evaluation],
) -> None:
    waf = variant("blue", gateway={"sku": "WAF_v2"})
    broken = with_inputs(waf, waf.one(GATEWAY), lambda i: i.pop("firewallPolicy"))
    [violation] = assert_trips_only(check(broken), "gateway-v2-sku")
    assert "Azure refuses a WAF_v2 gateway without a WAF policy" in violation.message


def test_firewall_policy_on_standard_v2_trips_v2_sku(blue: Evaluation) -> None:
    policy = {"id": "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/p"}
    broken = with_inputs(blue, blue.one(GATEWAY), lambda i: i.update(firewallPolicy=policy))
    [violation] = assert_trips_only(check(broken), "gateway-v2-sku")
    assert "set sku to WAF_v2 (gateway.sku in the stack config)" in violation.message


def test_gateway_without_ignore_changes_trips_ignores_agic_owned(blue: Evaluation) -> None:
    broken = replaced(blue, blue.one(GATEWAY), ignore_changes=())
    [violation] = assert_trips_only(check(broken), "gateway-ignores-agic-owned")
    assert "backendAddressPools" in violation.message and "tags" in violation.message


@pytest.mark.parametrize("collection", sorted(AGIC_1_9_8_WRITES))
def test_gateway_ignore_changes_missing_one_collection_names_it(
    blue: Evaluation, collection: str
) -> None:
    gateway = blue.one(GATEWAY)
    partial = tuple(p for p in gateway.ignore_changes if p != collection)
    [violation] = assert_trips_only(
        check(replaced(blue, gateway, ignore_changes=partial)), "gateway-ignores-agic-owned"
    )
    assert f"does not cover {collection}:" in violation.message


def test_program_and_pack_each_list_every_collection_agic_writes() -> None:
    assert set(program_gateway.AGIC_OWNED_PROPERTIES) == AGIC_1_9_8_WRITES
    assert set(pack_gateway.AGIC_OWNED_PROPERTIES) == AGIC_1_9_8_WRITES


def test_agic_owned_collections_are_properties_of_the_gateway_resource() -> None:
    # ignore_changes naming a property the resource does not have ignores nothing, silently.
    parameters = inspect.signature(network.ApplicationGatewayArgs).parameters
    for name in AGIC_1_9_8_WRITES:
        assert re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() in parameters, name


# --- ingress ---------------------------------------------------------------------------------


def app_ingress(evaluation: Evaluation, color: str) -> Registration:
    return evaluation.one(INGRESS, f"{color}-aspnetapp-ingress")


def through_class(name: str) -> Callable[[dict[str, Any]], None]:
    """The unsafe form: AGIC reaches the Ingress through an IngressClass, not the annotation."""

    def edit(inputs: dict[str, Any]) -> None:
        del inputs["metadata"]["annotations"][CLASS_ANNOTATION]
        inputs["spec"]["ingressClassName"] = name

    return edit


@pytest.mark.parametrize("color", ["blue", "green"])
def test_ingress_served_through_agic_class_trips_ingress_by_annotation(
    blue: Evaluation, color: str
) -> None:
    # The standby's Ingress counts too: it is what AGIC serves after the next cut-over.
    ingress = app_ingress(blue, color)
    broken = with_inputs(blue, ingress, through_class("azure-application-gateway"))
    [violation] = assert_trips_only(check(broken), "ingress-agic-by-annotation")
    assert violation.urn == ingress.urn
    assert "spec.ingressClassName 'azure-application-gateway'" in violation.message
    assert "empty backend pool" in violation.message
    assert (
        "remove spec.ingressClassName and set the annotation "
        "kubernetes.io/ingress.class: azure/application-gateway" in violation.message
    )


def test_ingress_with_annotation_and_class_trips_ingress_by_annotation(
    green: Evaluation,
) -> None:
    broken = with_inputs(
        green,
        app_ingress(green, "green"),
        lambda i: i["spec"].update(ingressClassName="azure-application-gateway"),
    )
    [violation] = assert_trips_only(check(broken), "ingress-agic-by-annotation")
    assert "API server refuses on create; remove spec.ingressClassName" in violation.message


def test_ingress_naming_no_controller_trips_ingress_by_annotation(blue: Evaluation) -> None:
    broken = with_inputs(
        blue,
        app_ingress(blue, "blue"),
        lambda i: i["metadata"]["annotations"].pop(CLASS_ANNOTATION),
    )
    [violation] = assert_trips_only(check(broken), "ingress-agic-by-annotation")
    assert "names no ingress controller" in violation.message
    assert "set the annotation kubernetes.io/ingress.class" in violation.message


def test_ingress_through_an_agic_class_of_any_name_trips_ingress_by_annotation(
    blue: Evaluation,
) -> None:
    ingress = app_ingress(blue, "blue")
    agic_class = dataclasses.replace(
        ingress,
        urn=ingress.urn.replace("Ingress::blue-aspnetapp-ingress", "IngressClass::agic-class"),
        type=INGRESS_CLASS,
        name="agic-class",
        inputs={
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "gateway"},
            "spec": {"controller": "azure/application-gateway"},
        },
    )
    broken = with_inputs(added(blue, agic_class), ingress, through_class("gateway"))
    [violation] = assert_trips_only(check(broken), "ingress-agic-by-annotation")
    assert "spec.ingressClassName 'gateway'" in violation.message
    # The class the chart would create under a configured name counts as AGIC's too.
    release = blue.one(RELEASE)
    renamed = with_inputs(
        blue,
        release,
        lambda i: i["values"].update(kubernetes={"ingressClassResource": {"name": "agic"}}),
    )
    broken = with_inputs(renamed, ingress, through_class("agic"))
    assert_trips_only(check(broken), "ingress-agic-by-annotation")


@pytest.mark.parametrize(
    "edit",
    [
        lambda i: i["metadata"]["annotations"].update({CLASS_ANNOTATION: "nginx"}),
        through_class("webapprouting.kubernetes.azure.com"),
    ],
    ids=["other-controller-annotation", "other-controller-class"],
)
def test_ingress_for_another_controller_passes(
    blue: Evaluation, edit: Callable[[dict[str, Any]], None]
) -> None:
    assert check(with_inputs(blue, app_ingress(blue, "blue"), edit)) == []


def test_ingress_policy_is_silent_without_an_agic_release(blue: Evaluation) -> None:
    unsafe = through_class("azure-application-gateway")
    broken = with_inputs(blue, app_ingress(blue, "blue"), unsafe)
    violations = check(removed(broken, blue.one(RELEASE)))
    assert {v.policy for v in violations if v.mandatory} == {"agic-single-release"}


# --- clusters --------------------------------------------------------------------------------


def test_overlay_network_trips_azure_cni(blue: Evaluation) -> None:
    broken = with_inputs(
        blue,
        cluster(blue, "green"),
        lambda i: i["networkProfile"].update(networkPluginMode="overlay"),
    )
    [violation] = assert_trips_only(check(broken), "aks-azure-cni")
    assert "remove network_plugin_mode" in violation.message


def test_kubenet_trips_azure_cni(green: Evaluation) -> None:
    broken = with_inputs(
        green,
        cluster(green, "green"),
        lambda i: i["networkProfile"].update(networkPlugin="kubenet"),
    )
    assert_trips_only(check(broken), "aks-azure-cni")


def test_disabled_oidc_issuer_trips_workload_identity(blue: Evaluation) -> None:
    broken = with_inputs(
        blue, cluster(blue, "blue"), lambda i: i.update(oidcIssuerProfile={"enabled": False})
    )
    [violation] = assert_trips_only(check(broken), "aks-workload-identity")
    assert "oidcIssuerProfile.enabled" in violation.message


def test_missing_workload_identity_trips_workload_identity(blue: Evaluation) -> None:
    broken = with_inputs(blue, cluster(blue, "green"), lambda i: i.pop("securityProfile"))
    [violation] = assert_trips_only(check(broken), "aks-workload-identity")
    assert "securityProfile.workloadIdentity.enabled" in violation.message


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda i: i.pop("disableLocalAccounts"), "disableLocalAccounts is not true"),
        (lambda i: i["aadProfile"].update(enableAzureRBAC=False), "aadProfile.enableAzureRBAC"),
        (lambda i: i.pop("aadProfile"), "aadProfile.managed, aadProfile.enableAzureRBAC are"),
    ],
    ids=["local accounts", "kubernetes rbac only", "no entra id"],
)
def test_cluster_with_local_accounts_or_without_azure_rbac_trips_entra_id_only(
    green: Evaluation, edit: Callable[[dict[str, Any]], None], named: str
) -> None:
    broken = with_inputs(green, cluster(green, "blue"), edit)
    [violation] = assert_trips_only(check(broken), "aks-entra-id-only")
    assert named in violation.message and "disable_local_accounts=True" in violation.message


@pytest.mark.parametrize("version", ["1.30", "1.30.9"])
def test_old_kubernetes_version_trips_minimum_version(blue: Evaluation, version: str) -> None:
    # The program refuses to create a cluster past AKS's end of life (config/support_window.py),
    # so the old version is set on the registration, as a cluster that kept running has it.
    green_cluster = cluster(blue, "green")
    broken = with_inputs(blue, green_cluster, lambda i: i.update(kubernetesVersion=version))
    [violation] = assert_trips_only(check(broken), "aks-minimum-version")
    assert violation.urn == green_cluster.urn
    assert f"kubernetesVersion {version}" in violation.message
    assert "clusters.green.kubernetesVersion to 1.35 or later" in violation.message


def test_version_that_sorts_late_as_text_trips_minimum_version(blue: Evaluation) -> None:
    # "1.9" sorts after "1.31" as text: only a numeric comparison catches it. The config refuses
    # it before any resource exists (no preStop sleep before 1.30), so it is set on the
    # registration: the pack does not rely on the program's own checks.
    green_cluster = cluster(blue, "green")
    broken = with_inputs(blue, green_cluster, lambda i: i.update(kubernetesVersion="1.9"))
    [violation] = assert_trips_only(check(broken), "aks-minimum-version")
    assert violation.urn == green_cluster.urn and "kubernetesVersion 1.9" in violation.message


def test_minimum_version_comes_from_policy_config(blue: Evaluation) -> None:
    # Blue runs 1.35 and green 1.36 in the samples.
    raised = check(blue, {"aks-minimum-version": {"minimumVersion": "1.36"}})
    [violation] = assert_trips_only(raised, "aks-minimum-version")
    assert violation.urn == cluster(blue, "blue").urn and "minimum 1.36" in violation.message
    assert check(blue, {"aks-minimum-version": {"minimumVersion": "1.35"}}) == []
    # "1.35" asks AKS for its latest 1.35 patch, which meets a patch-level minimum.
    assert check(blue, {"aks-minimum-version": {"minimumVersion": "1.35.2"}}) == []


@pytest.mark.parametrize(
    ("version", "minimum", "meets"),
    [
        ("1.31", "1.31", True),
        ("1.31.2", "1.31", True),
        ("1.31", "1.31.2", True),
        ("1.31.1", "1.31.2", False),
        ("1.9", "1.31", False),
        ("1.100", "1.31", True),
        ("2.0", "1.31", True),
    ],
)
def test_versions_compare_numerically(version: str, minimum: str, meets: bool) -> None:
    parsed, floor = clusters.parse_version(version), clusters.parse_version(minimum)
    assert parsed is not None and floor is not None
    assert clusters.meets_minimum(parsed, floor) is meets


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        SUBSCRIPTION,
        SUBSCRIPTION + "/",
        "/providers/Microsoft.Management/managementGroups/platform",
        "/",
    ],
)
def test_subscription_wide_role_assignment_trips_not_subscription_wide(
    blue: Evaluation, scope: str
) -> None:
    reader = role(blue, "agic-resource-group-reader")
    broken = with_inputs(blue, reader, lambda i: i.update(scope=scope))
    [violation] = assert_trips_only(check(broken), "role-assignment-not-subscription-wide")
    assert violation.urn == reader.urn and "scope it to the one resource" in violation.message


def test_contributor_on_resource_group_trips_contributor_only_on_gateway(
    blue: Evaluation,
) -> None:
    contributor = role(blue, "agic-gateway-contributor")
    group_scope = f"{SUBSCRIPTION}/resourceGroups/aksbg-prod-rg"
    broken = with_inputs(blue, contributor, lambda i: i.update(scope=group_scope))
    [violation] = assert_trips_only(check(broken), "contributor-only-on-gateway")
    assert violation.urn == contributor.urn and "applicationGateways/<name>" in violation.message


def test_cluster_admin_on_the_resource_group_trips_cluster_admin_only_on_a_cluster(
    blue: Evaluation,
) -> None:
    admin = role(blue, "green-access-deployer-cluster-admin")
    group_scope = f"{SUBSCRIPTION}/resourceGroups/aksbg-prod-rg"
    broken = with_inputs(blue, admin, lambda i: i.update(scope=group_scope))
    [violation] = assert_trips_only(check(broken), "aks-cluster-admin-only-on-a-cluster")
    assert violation.urn == admin.urn and "managedClusters/<name>" in violation.message


def test_contributor_granted_by_bare_role_id_is_still_recognised(blue: Evaluation) -> None:
    reader = role(blue, "agic-resource-group-reader")
    broken = with_inputs(
        blue, reader, lambda i: i.update(roleDefinitionId=access.CONTRIBUTOR_ROLE_ID.upper())
    )
    assert_trips_only(check(broken), "contributor-only-on-gateway")


# --- protection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typ", "name"),
    [
        (GATEWAY, "gateway-appgw"),
        ("azure-native:network:PublicIPAddress", "gateway-public-ip"),
        ("azure-native:network:VirtualNetwork", "network-vnet"),
    ],
)
def test_unprotected_stateful_resource_trips_protect_gateway_and_network(
    blue: Evaluation, typ: str, name: str
) -> None:
    reg = blue.one(typ, name)
    [violation] = assert_trips_only(
        check(replaced(blue, reg, protect=False)), "protect-gateway-and-network"
    )
    assert violation.urn == reg.urn and "protect=True" in violation.message


@pytest.mark.parametrize("active", ["blue", "green"])
def test_unprotected_active_cluster_trips_protect_active_cluster(
    request: pytest.FixtureRequest, active: str
) -> None:
    evaluation: Evaluation = request.getfixturevalue(active)
    active_cluster = cluster(evaluation, active)
    broken = replaced(evaluation, active_cluster, protect=False)
    [violation] = assert_trips_only(check(broken), "protect-active-cluster")
    assert violation.urn == active_cluster.urn


# --- workloads (advisory) --------------------------------------------------------------------


def _workload(**changes: Any) -> list[dict[str, Any]]:
    base = {
        "name": "aspnetapp",
        "image": config.SAMPLE_IMAGE,
        "replicas": 3,
        "containerPort": 8080,
        "path": "/",
    }
    return [{**base, **changes}]


def test_single_replica_is_advised_against_in_both_clusters(
    variant: Callable[..., Evaluation],
) -> None:
    broken = variant("blue", workloads=_workload(replicas=1))
    violations = assert_advises_only(check(broken), "workload-replicas-at-least-two")
    assert len(violations) == 2  # one Deployment per cluster
    assert all("replicas is 1" in v.message for v in violations)


# A tag alone is covered by the image_problem cases below; each case here evaluates the program.
@pytest.mark.parametrize("image", ["nginx", "nginx:latest", "registry.example:5000/team/app"])
def test_image_not_pinned_by_digest_is_advised_against(
    variant: Callable[..., Evaluation], image: str
) -> None:
    broken = variant("green", workloads=_workload(image=image))
    violations = assert_advises_only(check(broken), "container-image-pinned")
    assert len(violations) == 2 and all(image in v.message for v in violations)
    assert all("pin it by digest" in v.message for v in violations)


TAG_ONLY = "is pinned by tag only, which the registry can move"


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ("mcr.microsoft.com/dotnet/samples:aspnetapp@sha256:" + "b" * 64, None),
        ("curlimages/curl:8.11.1@sha256:" + "c" * 64, None),
        ("nginx@sha256:" + "a" * 64, None),
        ("nginx@sha256:abc", "has a malformed digest"),
        ("registry.example:5000/app:1.2", "is pinned by tag only, which the registry can move"),
        (
            "mcr.microsoft.com/dotnet/samples:aspnetapp",
            "is pinned by tag only, which the registry can move",
        ),
        ("registry.example:5000/app", "has no tag or digest, so it means :latest"),
        ("nginx:latest", "uses :latest"),
    ],
)
def test_image_references_are_read_by_their_last_segment(image: str, problem: str | None) -> None:
    assert workloads.image_problem(image) == problem


# --- policy config and enforcement levels -----------------------------------------------------


def test_enforcement_levels_follow_policy_config(blue: Evaluation) -> None:
    broken = replaced(blue, blue.one(GATEWAY), protect=False)
    policy = "protect-gateway-and-network"
    assert [v.enforcement_level for v in check(broken, {"all": "advisory"})] == ["advisory"]
    # A policy's own entry beats "all".
    both = {"all": "advisory", policy: {"enforcementLevel": "mandatory"}}
    assert [v.enforcement_level for v in check(broken, both)] == ["mandatory"]
    assert check(broken, {policy: "disabled"}) == []
    # The engine reports a violation of a remediation policy as mandatory.
    assert [v.enforcement_level for v in check(broken, {policy: "remediate"})] == ["mandatory"]


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"no-such-policy": "advisory"}, "no policy named"),
        ({"aks-minimum-version": {"minimumVersion": 1.31}}, "is not a string"),
        ({"aks-minimum-version": {"minimumVersion": "latest"}}, "does not match"),
        ({"aks-minimum-version": {"minimum": "1.31"}}, "unknown property"),
        ({"aks-azure-cni": "strict"}, "enforcement level"),
    ],
)
def test_invalid_policy_config_is_refused(
    blue: Evaluation, config: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        check(blue, config)


def test_value_unknown_in_preview_warns_instead_of_failing(blue: Evaluation) -> None:
    contributor = role(blue, "agic-gateway-contributor")
    preview = with_inputs(blue, contributor, lambda i: i.update(scope=UNKNOWN_STRING_VALUE))
    violations = check(preview)
    assert {v.policy for v in violations} == {
        "role-assignment-not-subscription-wide",
        "contributor-only-on-gateway",
    }
    assert all(v.enforcement_level == "advisory" for v in violations)
    assert all("can't run during preview" in v.message for v in violations)


# --- the pack as the CLI runs it -------------------------------------------------------------


@pytest.fixture(scope="session")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack served the way the CLI starts it: `python -m pulumi.policy <engine> <dir>`."""
    command = [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", "policies"]
    with plugin_channel(command, cwd=ROOT) as channel:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def _grpc_resource(evaluation: Evaluation, reg: Registration) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "type": reg.type,
        "properties": _struct(reg.inputs),
        "urn": reg.urn,
        "name": reg.name,
        "options": analyzer_pb2.AnalyzerResourceOptions(
            protect=reg.protect,
            ignoreChanges=list(reg.ignore_changes),
            deleteBeforeReplace=reg.delete_before_replace,
            deleteBeforeReplaceDefined=True,
            parent=reg.parent,
        ),
    }
    if reg.provider:
        provider = evaluation.resources[reg.provider]
        fields["provider"] = analyzer_pb2.AnalyzerProviderResource(
            type=provider.type,
            properties=_struct(provider.inputs),
            urn=provider.urn,
            name=provider.name,
        )
    return fields


def _served_verdicts(
    stub: analyzer_pb2_grpc.AnalyzerStub, evaluation: Evaluation
) -> set[tuple[str, str | None]]:
    verdicts: set[tuple[str, str | None]] = set()
    for reg in evaluation.resources.values():
        request = analyzer_pb2.AnalyzeRequest(**_grpc_resource(evaluation, reg))
        verdicts |= {(d.policyName, reg.urn) for d in stub.Analyze(request).diagnostics}
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                **_grpc_resource(evaluation, reg),
                parent=reg.parent,
                dependencies=list(reg.dependencies),
            )
            for reg in evaluation.resources.values()
        ]
    )
    verdicts |= {(d.policyName, d.urn or None) for d in stub.AnalyzeStack(stack).diagnostics}
    return verdicts


def test_served_pack_reports_what_the_offline_check_reports(
    analyzer: analyzer_pb2_grpc.AnalyzerStub, blue: Evaluation
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == NAME
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert _served_verdicts(analyzer, blue) == set()
    broken = replaced(
        blue,
        blue.one(RELEASE),
        provider=blue.one(K8S_PROVIDER, "green-kubernetes").urn,
        delete_before_replace=False,
    )
    broken = replaced(broken, blue.one(GATEWAY), protect=False, ignore_changes=())
    broken = with_inputs(
        broken, cluster(blue, "green"), lambda i: i.update(kubernetesVersion="1.29")
    )
    broken = with_inputs(
        broken, app_ingress(blue, "green"), through_class("azure-application-gateway")
    )
    offline = {(v.policy, v.urn) for v in check(broken)}
    assert {policy for policy, _ in offline} == {
        "agic-on-active-cluster",
        "agic-delete-before-replace",
        "protect-gateway-and-network",
        "gateway-ignores-agic-owned",
        "ingress-agic-by-annotation",
        "aks-minimum-version",
    }
    assert _served_verdicts(analyzer, broken) == offline

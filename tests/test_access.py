"""Who may use the clusters: Entra ID only, the deployer as admin, previews read-only, and no
static credential in any provider input, output or state."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
import yaml

import config
from components.access import SECRETS_READ
from components.kubeconfig import AKS_SERVER_APP_ID, KubeconfigError, entra_kubeconfig
from components.role_grant import ROLE_IDS
from conftest import by_name, sample_config
from plan.cloud_mocks import TENANT_ID, cluster_ca, kubeconfig_for, stable_uuid
from plan.evaluate import Evaluation, Registration

COLORS = ("blue", "green")
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"
GROUP = f"{SUBSCRIPTION}/resourceGroups/aksbg-prod-rg"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ADMIN_GROUP = "5b1e4d7a-0c2f-4e9b-8a61-3f2d9c7e0b14"
# What a kubeconfig holds when it carries a credential (client-go clientcmd/api/v1 AuthInfo).
CREDENTIAL_FIELDS = (
    "token",
    "tokenFile",
    "client-certificate-data",
    "client-key-data",
    "client-certificate",
    "client-key",
    "password",
    "username",
    "auth-provider",
)


def cluster_id(color: str) -> str:
    return f"{GROUP}/providers/Microsoft.ContainerService/managedClusters/aksbg-prod-{color}"


def principal(role: str) -> str:
    return sample_config("blue")["aks-bluegreen:access"][role]["objectId"]


def grants_to(stack: Evaluation, principal: str) -> list[Registration]:
    return [r for r in stack.of_type(ASSIGNMENT) if r.inputs["principalId"] == principal]


def role_of(grant: Registration) -> str:
    return grant.inputs["roleDefinitionId"].rsplit("/", 1)[-1]


def test_clusters_take_entra_id_and_azure_rbac_only(stack: Evaluation) -> None:
    for color in COLORS:
        inputs = by_name(stack, f"{color}-aks").inputs
        assert inputs["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
        assert inputs["disableLocalAccounts"] is True
        assert inputs["enableRBAC"] is True


def test_providers_sign_in_through_kubelogin_with_the_callers_azure_login(
    stack: Evaluation,
) -> None:
    for color in COLORS:
        provider = by_name(stack, f"{color}-kubernetes")
        kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
        [cluster] = kubeconfig["clusters"]
        assert cluster["cluster"] == {
            "certificate-authority-data": cluster_ca(f"aksbg-prod-{color}"),
            "server": f"https://aksbg-prod-{color}-dns.hcp.westeurope.azmk8s.io:443",
        }
        [user] = kubeconfig["users"]
        assert list(user["user"]) == ["exec"]
        exec_ = user["user"]["exec"]
        assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
        assert exec_["command"] == "kubelogin"
        assert exec_["args"] == [
            "get-token",
            "--login",
            "azurecli",
            "--server-id",
            AKS_SERVER_APP_ID,
        ]
        assert "env" not in exec_
        # Identifies the cluster for pulumi-kubernetes' DiffConfig: a CA rotation is an update.
        assert provider.inputs["clusterIdentifier"] == cluster_id(color)


def test_no_credential_reaches_any_input_output_or_state(stack: Evaluation) -> None:
    # Nothing is marked secret because nothing is: a secret would hide from a preview's diff.
    # (A dynamic resource's serialized provider is the SDK's one secret, and holds code.)
    for reg in stack.resources.values():
        if reg.type.startswith("pulumi-python:dynamic"):
            assert reg.secret_inputs <= {"__provider"}, reg.name
        else:
            assert not reg.secret_inputs, reg.name
    recorded = json.dumps(
        [r.inputs for r in stack.resources.values()] + [stack.outputs], sort_keys=True
    )
    for color in COLORS:
        token = stable_uuid("local-account-token", f"aksbg-prod-{color}").replace("-", "")
        assert token not in recorded
    for provider in stack.of_type("pulumi:providers:kubernetes"):
        text = provider.inputs["kubeconfig"]
        for field in CREDENTIAL_FIELDS:
            assert f"{field}:" not in text, field
        # Not even ARM's device-code client or tenant: kubelogin gets those from the login.
        assert TENANT_ID not in text and "devicecode" not in text


@pytest.mark.parametrize("entra_id", [True, False], ids=["entra-id", "local-accounts"])
def test_kubeconfig_keeps_arms_cluster_entry_and_drops_its_user(entra_id: bool) -> None:
    # On a cluster that still has local accounts (before its first update to Entra ID), ARM
    # answers with a static token: it must not reach the provider either.
    def ours(entra_id: bool) -> str:
        arm = kubeconfig_for("c1", "c1-dns.hcp.westeurope.azmk8s.io", entra_id)
        return entra_kubeconfig(base64.b64encode(arm.encode()).decode())

    arm = yaml.safe_load(kubeconfig_for("c1", "c1-dns.hcp.westeurope.azmk8s.io", entra_id))
    assert "token" in json.dumps(arm["users"]) or "devicecode" in json.dumps(arm["users"])
    # The same cluster entry as ARM's, so pulumi-kubernetes sees the same cluster, and the same
    # kubeconfig whatever user ARM described.
    assert yaml.safe_load(ours(entra_id))["clusters"] == arm["clusters"]
    assert ours(entra_id) == ours(not entra_id)
    [user] = yaml.safe_load(ours(entra_id))["users"]
    assert set(user["user"]) == {"exec"}


def test_kubeconfig_without_a_cluster_for_its_context_is_refused() -> None:
    broken = "apiVersion: v1\nkind: Config\ncurrent-context: x\ncontexts: []\nclusters: []\n"
    with pytest.raises(KubeconfigError, match="names no cluster"):
        entra_kubeconfig(base64.b64encode(broken.encode()).decode())


def test_a_stack_without_a_deployer_is_told_whom_to_name() -> None:
    with pytest.raises(config.ConfigError) as raised:
        config.parse({"active": "blue"})
    assert raised.value.key == "access"
    assert "az ad signed-in-user show --query id -o tsv" in str(raised.value)
    with pytest.raises(config.ConfigError, match="is the deployer's"):
        config.parse(
            {
                "active": "blue",
                "access": {
                    "deployer": {"objectId": ADMIN_GROUP},
                    "preview": {"objectId": ADMIN_GROUP},
                },
            }
        )
    with pytest.raises(config.ConfigError, match="is also in adminGroupObjectIds"):
        config.parse(
            {
                "active": "blue",
                "access": {
                    "deployer": {"objectId": principal("deployer"), "type": "Group"},
                    "preview": {"objectId": ADMIN_GROUP},
                    "adminGroupObjectIds": [ADMIN_GROUP],
                },
            }
        )


def test_deployer_is_cluster_admin_of_each_cluster_and_of_nothing_else(stack: Evaluation) -> None:
    deployer = principal("deployer")
    grants = grants_to(stack, deployer)
    assert {(g.inputs["scope"], role_of(g)) for g in grants} == {
        (cluster_id(color), ROLE_IDS["Azure Kubernetes Service RBAC Cluster Admin"])
        for color in COLORS
    }
    for color in COLORS:
        grant = by_name(stack, f"{color}-access-deployer-cluster-admin")
        assert grant.inputs["principalType"] == "ServicePrincipal"
        # The provider reaches the API only once the deployer may.
        assert grant.urn in by_name(stack, f"{color}-kubernetes").dependencies


def test_preview_reads_and_never_writes(stack: Evaluation) -> None:
    preview = principal("preview")
    grants = {(g.inputs["scope"], role_of(g)) for g in grants_to(stack, preview)}
    reader_ids = {}
    for color in COLORS:
        definition = by_name(stack, f"{color}-access-helm-release-reader")
        assert definition.inputs["permissions"] == [{"dataActions": [SECRETS_READ]}]
        assert definition.inputs["assignableScopes"] == [GROUP]
        assert definition.inputs["scope"] == GROUP
        reader_ids[color] = definition.inputs["roleDefinitionId"]
    assert grants == {
        pair
        for color in COLORS
        for pair in (
            (cluster_id(color), ROLE_IDS["Azure Kubernetes Service Cluster User Role"]),
            (cluster_id(color), ROLE_IDS["Azure Kubernetes Service RBAC Reader"]),
            # Secrets only where Helm keeps the AGIC release's records.
            (f"{cluster_id(color)}/namespaces/agic", reader_ids[color]),
        )
    }
    # Each cluster's definition is its own, and stays put when the stack is evaluated again.
    assert reader_ids["blue"] != reader_ids["green"]
    for color in COLORS:
        grant = by_name(stack, f"{color}-access-preview-helm-release-reader")
        assert by_name(stack, f"{color}-access-helm-release-reader").urn in grant.dependencies


def test_without_a_preview_principal_only_the_deployer_and_admin_groups_get_in(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    stack = evaluate_variant(
        "blue", access={"preview": None, "adminGroupObjectIds": [ADMIN_GROUP.upper()]}
    )
    assert not grants_to(stack, principal("preview"))
    assert not stack.of_type("azure-native:authorization:RoleDefinition")
    for color in COLORS:
        aad = by_name(stack, f"{color}-aks").inputs["aadProfile"]
        # One spelling of the GUID, whatever case the config used.
        assert aad["adminGroupObjectIDs"] == [ADMIN_GROUP]

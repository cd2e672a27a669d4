"""A least-privilege Azure role assignment on one resource, named so that re-runs are idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import authorization

# Built-in role definition IDs: identical in every Azure tenant. The AKS ones are from
# learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers.
ROLE_IDS: dict[str, str] = {
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    # Every Kubernetes action on the cluster (dataActions managedClusters/*), and
    # listClusterUserCredential: what `pulumi up` does through the Kubernetes provider.
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    # Read of most namespaced objects and of namespaces; no Secrets, Roles or RoleBindings.
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    # Only listClusterUserCredential/action: the kubeconfig the program reads for the provider.
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    # Read secret contents (dataActions vaults/secrets/getSecret/action, readMetadata/action):
    # what Application Gateway needs to fetch a certificate it references by keyVaultSecretId
    # (built-in-roles/security, "Key Vault Secrets User").
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
}
Role = Literal[
    "Contributor",
    "Reader",
    "Network Contributor",
    "Azure Kubernetes Service RBAC Cluster Admin",
    "Azure Kubernetes Service RBAC Reader",
    "Azure Kubernetes Service Cluster User Role",
    "Key Vault Secrets User",
]
PrincipalType = Literal["ServicePrincipal", "User", "Group"]

# Role assignment names must be GUIDs. Deriving one from (scope, role, principal) makes a repeated
# deployment find its own assignment instead of failing with RoleAssignmentExists.
_NAMESPACE = uuid.UUID("7d0b6f2e-3c59-4f0e-9a57-2b1f3f8f6c11")


@dataclass(frozen=True)
class CustomRole:
    """A role definition this program creates: its GUID, and the resource assignments wait for."""

    guid: pulumi.Input[str]
    definition: pulumi.Resource


@dataclass(frozen=True)
class RoleGrant:
    role: Role | CustomRole
    scope: pulumi.Input[str]
    # Identities this program creates are service principals; principals named in the config
    # say what they are, since ARM refuses a mismatch (UnmatchedPrincipalType).
    principal_type: PrincipalType = "ServicePrincipal"


def role_definition_id(scope: str, role_guid: str) -> str:
    # A role definition lives under the subscription that holds the scope.
    subscription = "/".join(scope.split("/")[:3])
    return f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def assignment_name(scope: str, role_guid: str, principal_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{scope.lower()}|{role_guid}|{principal_id}"))


def assign(
    name: str,
    grant: RoleGrant,
    principal_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    scope = pulumi.Output.from_input(grant.scope)
    principal = pulumi.Output.from_input(principal_id)
    if isinstance(grant.role, CustomRole):
        guid = pulumi.Output.from_input(grant.role.guid)
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(depends_on=[grant.role.definition])
        )
    else:
        guid = pulumi.Output.from_input(ROLE_IDS[grant.role])
    return authorization.RoleAssignment(
        name,
        scope=scope,
        principal_id=principal,
        # Without the type, ARM looks the principal up in Entra ID and a just-created identity
        # may not have replicated yet ("PrincipalNotFound").
        principal_type=grant.principal_type,
        role_definition_id=pulumi.Output.all(scope, guid).apply(
            lambda args: role_definition_id(args[0], args[1])
        ),
        role_assignment_name=pulumi.Output.all(scope, guid, principal).apply(
            lambda args: assignment_name(args[0], args[1], args[2])
        ),
        opts=opts,
    )

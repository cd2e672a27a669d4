"""A least-privilege Azure role assignment on one resource, named so that re-runs are idempotent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import authorization

# Built-in role definition IDs: identical in every Azure tenant.
ROLE_IDS: dict[str, str] = {
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
}
Role = Literal["Contributor", "Reader", "Network Contributor"]

# Role assignment names must be GUIDs. Deriving one from (scope, role, principal) makes a repeated
# deployment find its own assignment instead of failing with RoleAssignmentExists.
_NAMESPACE = uuid.UUID("7d0b6f2e-3c59-4f0e-9a57-2b1f3f8f6c11")


@dataclass(frozen=True)
class RoleGrant:
    role: Role
    scope: pulumi.Input[str]


def role_definition_id(scope: str, role: Role) -> str:
    # A role definition lives under the subscription that holds the scope.
    subscription = "/".join(scope.split("/")[:3])
    return f"{subscription}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_IDS[role]}"


def assignment_name(scope: str, role: Role, principal_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{scope.lower()}|{ROLE_IDS[role]}|{principal_id}"))


def assign(
    name: str,
    grant: RoleGrant,
    principal_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    scope = pulumi.Output.from_input(grant.scope)
    principal = pulumi.Output.from_input(principal_id)
    return authorization.RoleAssignment(
        name,
        scope=scope,
        principal_id=principal,
        # Without the type, ARM looks the principal up in Entra ID and a just-created identity
        # may not have replicated yet ("PrincipalNotFound").
        principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
        role_definition_id=scope.apply(lambda s: role_definition_id(s, grant.role)),
        role_assignment_name=pulumi.Output.all(scope, principal).apply(
            lambda args: assignment_name(args[0], grant.role, args[1])
        ),
        opts=opts,
    )

"""Who may use one cluster's Kubernetes API: the deployer as admin, previews read-only.

The clusters authenticate with Entra ID and authorize with Azure RBAC, local accounts disabled
(AKS local-accounts.md, entra-id-authorization.md), so these assignments are the only way in
besides the admin groups AKS binds to cluster-admin. None depends on `active`: a cut-over moves
AGIC, never a permission.

What `pulumi preview --refresh` needs in a cluster, read from pulumi-kubernetes
(provider/pkg/provider/provider.go, helm_release.go):
- refresh reads every object the stack manages (Read -> GET): read on those kinds;
- the Helm release's Read is Helm's `action.Get`, which lists the release's records in Helm's
  storage, Secrets in the release's namespace: read on Secrets there;
- a changed object is previewed by a server-side dry run, which Kubernetes authorizes as the
  write itself; when that is forbidden the provider falls back to a client-side preview
  (Create/Update: `if req.GetPreview() && apierrors.IsForbidden(...)`), so writes are not needed;
- the program lists each cluster's user credential: Microsoft.ContainerService/managedClusters/
  listClusterUserCredential/action.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from components.role_grant import CustomRole, RoleGrant, assign
from config import AccessConfig

# The one Kubernetes permission previews need beyond AKS RBAC Reader, which leaves out Secrets.
SECRETS_READ = "Microsoft.ContainerService/managedClusters/secrets/read"
_NAMESPACE = uuid.UUID("0f6d8a52-61c4-4a7b-9d0e-5b3c2e1f4a97")


@dataclass(frozen=True)
class ClusterAccessArgs:
    cluster_id: pulumi.Input[str]
    cluster_name: str
    config: AccessConfig
    # Where the AGIC release lives: Helm keeps its release records as Secrets there.
    helm_namespace: str


def resource_group_of(resource_id: str) -> str:
    return "/".join(resource_id.split("/")[:5])


class ClusterAccess(pulumi.ComponentResource):
    # What the cluster's Kubernetes provider waits for: without it nothing may touch the API.
    deployer_grant: authorization.RoleAssignment

    def __init__(
        self, name: str, args: ClusterAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:ClusterAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_id = pulumi.Output.from_input(args.cluster_id)
        deployer = args.config.deployer
        self.deployer_grant = assign(
            f"{name}-deployer-cluster-admin",
            RoleGrant("Azure Kubernetes Service RBAC Cluster Admin", cluster_id, deployer.type),
            deployer.object_id,
            child,
        )
        preview = args.config.preview
        outputs: dict[str, pulumi.Input[str]] = {"deployerGrant": self.deployer_grant.name}
        if preview is not None:
            reader = self._helm_release_reader(name, args, cluster_id)
            grants = {
                "cluster-user": RoleGrant(
                    "Azure Kubernetes Service Cluster User Role", cluster_id, preview.type
                ),
                "reader": RoleGrant(
                    "Azure Kubernetes Service RBAC Reader", cluster_id, preview.type
                ),
                # Namespace scope: Secrets elsewhere (the apps') stay out of reach.
                "helm-release-reader": RoleGrant(
                    reader,
                    cluster_id.apply(lambda cid: f"{cid}/namespaces/{args.helm_namespace}"),
                    preview.type,
                ),
            }
            for key, grant in grants.items():
                assign(f"{name}-preview-{key}", grant, preview.object_id, child)
            outputs["previewRoles"] = ",".join(grants)
        self.register_outputs(outputs)

    def _helm_release_reader(
        self, name: str, args: ClusterAccessArgs, cluster_id: pulumi.Output[str]
    ) -> CustomRole:
        group_id = cluster_id.apply(resource_group_of)
        # Derived from the cluster's resource ID, so a re-run finds its own definition while
        # stacks of the same name in other subscriptions of the tenant get their own: GUIDs and
        # names of custom roles must be unique in the tenant.
        guid = cluster_id.apply(
            lambda cid: str(uuid.uuid5(_NAMESPACE, f"{cid.lower()}|helm-release-reader"))
        )
        definition = authorization.RoleDefinition(
            f"{name}-helm-release-reader",
            role_definition_id=guid,
            scope=group_id,
            role_name=guid.apply(lambda g: f"{args.cluster_name} Helm release reader {g[:8]}"),
            role_type="CustomRole",
            description=(
                "Reads Secrets, where Helm keeps its release records, so a pull-request preview "
                "can refresh the AGIC release. Assigned only at the release's namespace."
            ),
            permissions=[authorization.PermissionArgs(data_actions=[SECRETS_READ])],
            assignable_scopes=[group_id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return CustomRole(guid=guid, definition=definition)

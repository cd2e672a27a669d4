"""The Application Gateway Ingress Controller: its identity, its access, and the one release.

Exactly one AGIC release exists, on the active cluster. Flipping `active` replaces it,
delete-before-create: two controllers at once would fight over the gateway and the old one could
write last. While neither runs, the gateway keeps the last config AGIC wrote, so traffic flows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import managedidentity

from components.cluster import Cluster
from components.role_grant import RoleGrant, assign
from config import COLORS, AgicConfig, Color
from config.catalogs import agic_chart

CHART_NAME = agic_chart.NAME
TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def release_name(color: Color) -> str:
    # The color in the name makes a flip a change of `name`, which replace_on_changes turns into
    # an explicit replacement: the engine's own provider-change semantics are not relied on.
    return f"agic-{color}"


def service_account_name(release: str, fullname_override: str | None = None) -> str:
    """The chart's ServiceAccount name: the federated credential's subject must match it exactly."""
    if fullname_override:
        name = fullname_override
    elif CHART_NAME in release:
        name = release
    else:
        name = f"{release}-sa-{CHART_NAME}"
    return name[:63].rstrip("-")


def federated_subject(namespace: str, color: Color) -> str:
    return f"system:serviceaccount:{namespace}:{service_account_name(release_name(color))}"


def controller_deployment_name(release: str) -> str:
    """The chart's Deployment: its `fullname` template (helm/ingress-azure/templates/_helpers.tpl
    @1.9.8), the release name if it contains the chart name, else `<release>-ingress-azure`."""
    name = release if CHART_NAME in release else f"{release}-{CHART_NAME}"
    return name[:63].rstrip("-")


def backend_pool_name(namespace: str, service: str, service_port: int, backend_port: int) -> str:
    """The name AGIC gives the gateway pool of one Ingress backend.

    AGIC 1.9.8 pkg/appgw/internaltypes.go generateAddressPoolName: "pool-<namespace>-<service>-
    <service port>-bp-<endpoint port>", cut to 80 characters by formatPropName with "-" and the
    MD5 of the whole name. (The chart's `appgw.subResourceNamePrefix` would prefix it; unset.)
    """
    name = f"pool-{namespace}-{service}-{service_port}-bp-{backend_port}"
    if len(name) <= 80:
        return name
    digest = hashlib.md5(name.encode()).hexdigest()  # formatPropName hashes the full name
    return f"{name[: 80 - len(digest) - 1]}-{digest}"


def disabled_subject(color: Color) -> str:
    """The subject of an unreachable cluster's credential: one no token can carry.

    Kubernetes puts `system:serviceaccount:<namespace>:<name>` in every service account token's
    `sub` (Kubernetes docs, "Managing Service Accounts"), so a subject outside that form matches
    no token the cluster can mint, and Entra ID refuses the exchange.
    """
    return f"aks-bluegreen:break-glass:{color}:no-service-account"


@dataclass(frozen=True)
class AgicArgs:
    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    location: str
    name: str
    gateway_id: pulumi.Input[str]
    gateway_subnet_id: pulumi.Input[str]
    clusters: dict[Color, Cluster]
    active: Color
    gates: Sequence[pulumi.Resource]
    config: AgicConfig
    # The cluster the break-glass declares unreachable: its AGIC may still be running.
    unreachable: Color | None = None
    # The clusters whose AGIC namespace is protected, with the clusters themselves.
    protected: frozenset[Color] = frozenset()


class Agic(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    release_name: str
    cluster_name: pulumi.Output[str]
    identity_client_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AgicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Agic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=f"{args.name}-agic",
            location=args.location,
            opts=child,
        )
        # Least privilege, each on its own resource: AGIC writes the gateway, reads the group it
        # sits in, and joins the gateway's subnet when it writes the gateway config.
        grants = {
            "gateway-contributor": RoleGrant("Contributor", args.gateway_id),
            "resource-group-reader": RoleGrant("Reader", args.resource_group_id),
            "gateway-subnet-network-contributor": RoleGrant(
                "Network Contributor", args.gateway_subnet_id
            ),
        }
        assignments = [
            assign(f"{name}-{key}", grant, identity.principal_id, child)
            for key, grant in grants.items()
        ]

        # Azure refuses concurrent writes of federated credentials on one identity
        # ("ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity"): chain them.
        credentials: dict[Color, managedidentity.FederatedIdentityCredential] = {}
        previous: list[pulumi.Resource] = []
        for color in COLORS:
            if color not in args.clusters:
                continue
            credentials[color] = managedidentity.FederatedIdentityCredential(
                f"{name}-{color}-federation",
                resource_group_name=args.resource_group_name,
                resource_name_=identity.name,
                federated_identity_credential_resource_name=f"agic-{color}",
                issuer=args.clusters[color].oidc_issuer_url,
                # An AGIC left running in an unreachable cluster would rewrite the gateway every
                # reconcile period. Updating the subject (in place: only the path parameters of
                # a credential force a replacement, pulumi-azure-native diff.go) ends its token
                # exchanges; a deletion would come only at the end of the update, after the new
                # release (pulumi/pulumi deployment_executor.go performPostSteps).
                subject=(
                    disabled_subject(color)
                    if color == args.unreachable
                    else federated_subject(args.config.namespace, color)
                ),
                audiences=[TOKEN_AUDIENCE],
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credentials[color]]

        # AGIC's namespace is a Namespace object of its own in every reachable cluster, not one
        # Helm's create_namespace makes and nobody owns: protected with its cluster, it cannot
        # be deleted by removing an app, and it stays in place when AGIC moves, so a flip
        # changes no namespace. Nothing is declared on an unreachable cluster (break glass).
        namespaces = {
            color: k8s.core.v1.Namespace(
                f"{name}-{color}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=args.config.namespace,
                    labels={"app.kubernetes.io/part-of": "aks-bluegreen"},
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=cluster.provider,
                    protect=color in args.protected,
                ),
            )
            for color, cluster in args.clusters.items()
            if color != args.unreachable
        }
        active = args.clusters[args.active]
        self.release_name = release_name(args.active)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=self.release_name,
            chart=args.config.chart,
            version=args.config.chart_version,
            namespace=args.config.namespace,
            create_namespace=False,
            values={
                "appgw": {"applicationGatewayID": args.gateway_id, "shared": False},
                "armAuth": {"type": "workloadIdentity", "identityClientID": identity.client_id},
                "rbac": {"enabled": True},
                "reconcilePeriodSeconds": args.config.reconcile_period_seconds,
                # No IngressClass in the release: the apps' Ingresses reach AGIC by annotation
                # (components/workload.py), so nothing the uninstall deletes is part of how AGIC
                # finds them. The chart then renders INGRESS_CLASS_RESOURCE_ENABLED "false"
                # (chart 1.9.8 templates/configmap.yaml, ingressclass.yaml), and AGIC matches by
                # the annotation only, against the default controller name
                # "azure/application-gateway" (pkg/environment/environment.go).
                "kubernetes": {"ingressClassResource": {"enabled": False}},
            },
            timeout=600,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=active.provider,
                delete_before_replace=True,
                replace_on_changes=["name"],
                # The gates prove the app answers inside the target cluster; the credential and
                # grants must exist before AGIC's first token exchange and first gateway write,
                # and a disabled credential must be disabled before a second AGIC exists.
                depends_on=[
                    namespaces[args.active],
                    *args.gates,
                    *credentials.values(),
                    *assignments,
                ],
            ),
        )
        self.cluster_name = active.cluster_name
        self.identity_client_id = identity.client_id
        self.register_outputs(
            {
                "releaseName": self.release_name,
                "clusterName": self.cluster_name,
                "identityClientId": self.identity_client_id,
            }
        )

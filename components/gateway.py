"""The Application Gateway v2 and its public IP, created minimal and then handed to AGIC."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity, network

from components.role_grant import RoleGrant, assign
from config import CertificateConfig, GatewayConfig

# AGIC rewrites these collections from the active cluster's Ingresses. Pulumi must never diff
# them, or every `pulumi up` would put the placeholder config back and cut traffic. They are the
# gateway fields AGIC 1.9.8 assigns in pkg/appgw (`c.appGw.X = ...`), rewrite rule sets included
# (pkg/appgw/rewrites.go writes them, empty when no rewrite resource exists). Everything else it
# PUTs back as it read it (pkg/controller/mutate_app_gateway.go: GetGateway, then
# NewConfigBuilder from that original, then UpdateGateway), so the zones, SKU, TLS policy and
# firewall policy set here survive its writes; it never touches firewallPolicy or
# webApplicationFirewallConfiguration.
AGIC_OWNED_PROPERTIES: tuple[str, ...] = (
    "backendAddressPools",
    "backendHttpSettingsCollection",
    "httpListeners",
    "requestRoutingRules",
    "probes",
    "urlPathMaps",
    "redirectConfigurations",
    "rewriteRuleSets",
    "sslCertificates",
    "frontendPorts",
    "tags",
)
# The certificates are the one collection AGIC keeps rather than rewrites: it starts its list from
# the gateway's own (pkg/appgw/certificates.go getSslCertificates, brownfield.MergeCerts of the
# GET's sslCertificates with those it makes from Ingress spec.tls Secrets, which this program's
# Ingresses never carry), so a certificate this program installs survives every AGIC write and
# every flip. With certificates configured the program therefore owns sslCertificates: were they
# ignored, a certificate added later would never reach the gateway, and AGIC drops every Ingress
# whose appgw-ssl-certificate names a certificate the gateway lacks (pkg/controller/prune.go
# pruneNoSslCertificate), listeners and all. Without certificates they stay ignored, as before.
PROGRAM_OWNED_WITH_TLS = "sslCertificates"


def ignored_properties(has_certificates: bool) -> list[str]:
    """What the gateway's Pulumi diff ignores: AGIC's collections, the certificates only while
    this program installs none."""
    if not has_certificates:
        return list(AGIC_OWNED_PROPERTIES)
    return [p for p in AGIC_OWNED_PROPERTIES if p != PROGRAM_OWNED_WITH_TLS]


def key_vault_secret_scope(resource_group_id: str, certificate: CertificateConfig) -> str:
    """The ARM ID of one certificate's secret: the grant's scope, the least the gateway needs.

    Key Vault's Azure RBAC takes role assignments on a single secret (learn.microsoft.com/azure/
    key-vault/general/rbac-guide, "Secret scope role assignment"); the vault is in the stack's
    subscription.
    """
    subscription = "/".join(resource_group_id.split("/")[:3])
    return (
        f"{subscription}/resourceGroups/{certificate.key_vault_resource_group}/providers/"
        f"Microsoft.KeyVault/vaults/{certificate.vault_name}/secrets/{certificate.secret_name}"
    )


# Microsoft's Default Rule Set, the current generation of managed rules for Application Gateway
# WAF; Microsoft recommends its highest version, 2.2, over every CRS and DRS release before it
# (learn.microsoft.com/azure/web-application-firewall/ag/upgrade-ruleset-version).
WAF_RULE_SET_TYPE = "Microsoft_DefaultRuleSet"
WAF_RULE_SET_VERSION = "2.2"

_FRONTEND_IP = "appgw-public-frontend"
_PORT = "port-80"
_LISTENER = "placeholder-listener"
_POOL = "placeholder-pool"
_SETTINGS = "placeholder-settings"


@dataclass(frozen=True)
class GatewayArgs:
    resource_group_name: pulumi.Input[str]
    resource_group_id: pulumi.Input[str]
    location: str
    name: str
    subnet_id: pulumi.Input[str]
    config: GatewayConfig


def child_id(gateway_id: str, collection: str, child: str) -> str:
    # Sub-resources of a gateway are addressed by ARM ID, built from the gateway's own ID; the
    # gateway does not exist yet when its first config is sent, so the ID is assembled.
    return f"{gateway_id}/{collection}/{child}"


class Gateway(pulumi.ComponentResource):
    gateway_id: pulumi.Output[str]
    gateway_name: pulumi.Output[str]
    public_ip_address: pulumi.Output[str]
    public_ip_id: pulumi.Output[str]
    # The gateway resource itself, whose write installs the certificates (components/
    # certificate_gate.py waits on it).
    resource: network.ApplicationGateway

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Gateway", name, None, opts)
        public_ip = network.PublicIPAddress(
            f"{name}-public-ip",
            resource_group_name=args.resource_group_name,
            public_ip_address_name=f"{args.name}-pip",
            location=args.location,
            # A v2 gateway accepts only a Standard, static public IP.
            sku=network.PublicIPAddressSkuArgs(name=network.PublicIPAddressSkuName.STANDARD),
            public_ip_allocation_method=network.IPAllocationMethod.STATIC,
            # A zone-redundant gateway needs a public IP in the same zones.
            zones=list(args.config.zones) or None,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        firewall_policy = self._firewall_policy(name, args)
        own_id = pulumi.Output.from_input(args.resource_group_id).apply(
            lambda rg: f"{rg}/providers/Microsoft.Network/applicationGateways/{args.name}"
        )

        identity, grants = self._key_vault_access(name, args)

        def ref(collection: str, child: str) -> network.SubResourceArgs:
            return network.SubResourceArgs(
                id=own_id.apply(lambda g: child_id(g, collection, child))
            )

        gateway = network.ApplicationGateway(
            f"{name}-appgw",
            resource_group_name=args.resource_group_name,
            application_gateway_name=args.name,
            location=args.location,
            sku=network.ApplicationGatewaySkuArgs(
                name=args.config.sku, tier=args.config.sku, capacity=args.config.capacity
            ),
            zones=list(args.config.zones) or None,
            ssl_policy=network.ApplicationGatewaySslPolicyArgs(
                policy_type=network.ApplicationGatewaySslPolicyType.PREDEFINED,
                policy_name=args.config.tls_policy,
            ),
            firewall_policy=(
                network.SubResourceArgs(id=firewall_policy.id) if firewall_policy else None
            ),
            # Application Gateway reads Key Vault only as a user-assigned identity
            # (learn.microsoft.com/azure/application-gateway/key-vault-certs, "Supported
            # identities").
            identity=(
                network.ManagedServiceIdentityArgs(
                    type=network.ResourceIdentityType.USER_ASSIGNED,
                    user_assigned_identities=[identity.id],
                )
                if identity
                else None
            ),
            ssl_certificates=[
                network.ApplicationGatewaySslCertificateArgs(
                    name=certificate.name, key_vault_secret_id=certificate.key_vault_secret_id
                )
                for certificate in args.config.certificates
            ]
            or None,
            gateway_ip_configurations=[
                network.ApplicationGatewayIPConfigurationArgs(
                    name="appgw-ip-config", subnet=network.SubResourceArgs(id=args.subnet_id)
                )
            ],
            frontend_ip_configurations=[
                network.ApplicationGatewayFrontendIPConfigurationArgs(
                    name=_FRONTEND_IP, public_ip_address=network.SubResourceArgs(id=public_ip.id)
                )
            ],
            # ARM refuses a gateway without at least one of each below; AGIC replaces them.
            frontend_ports=[network.ApplicationGatewayFrontendPortArgs(name=_PORT, port=80)],
            backend_address_pools=[network.ApplicationGatewayBackendAddressPoolArgs(name=_POOL)],
            backend_http_settings_collection=[
                network.ApplicationGatewayBackendHttpSettingsArgs(
                    name=_SETTINGS,
                    port=80,
                    protocol=network.ApplicationGatewayProtocol.HTTP,
                    cookie_based_affinity=network.ApplicationGatewayCookieBasedAffinity.DISABLED,
                    request_timeout=30,
                )
            ],
            http_listeners=[
                network.ApplicationGatewayHttpListenerArgs(
                    name=_LISTENER,
                    frontend_ip_configuration=ref("frontendIPConfigurations", _FRONTEND_IP),
                    frontend_port=ref("frontendPorts", _PORT),
                    protocol=network.ApplicationGatewayProtocol.HTTP,
                )
            ],
            request_routing_rules=[
                network.ApplicationGatewayRequestRoutingRuleArgs(
                    name="placeholder-rule",
                    rule_type=network.ApplicationGatewayRequestRoutingRuleType.BASIC,
                    # API versions since 2021-08-01 require a priority on every rule.
                    priority=19500,
                    http_listener=ref("httpListeners", _LISTENER),
                    backend_address_pool=ref("backendAddressPools", _POOL),
                    backend_http_settings=ref("backendHttpSettingsCollection", _SETTINGS),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                ignore_changes=ignored_properties(bool(args.config.certificates)),
                # The gateway fetches each certificate from Key Vault when it is written, and one
                # it cannot fetch disables the listeners using it (learn.microsoft.com/azure/
                # application-gateway/application-gateway-key-vault-common-errors), so every
                # grant comes first; the certificate gate then confirms the result.
                depends_on=grants,
            ),
        )
        self.gateway_id = gateway.id
        self.gateway_name = gateway.name
        self.public_ip_address = public_ip.ip_address.apply(lambda ip: ip or "")
        self.public_ip_id = public_ip.id
        self.resource = gateway
        self.register_outputs(
            {
                "gatewayId": self.gateway_id,
                "gatewayName": self.gateway_name,
                "publicIpAddress": self.public_ip_address,
                "publicIpId": self.public_ip_id,
            }
        )

    def _key_vault_access(
        self, name: str, args: GatewayArgs
    ) -> tuple[managedidentity.UserAssignedIdentity | None, list[pulumi.Resource]]:
        """The gateway's identity and its read grant on each certificate's secret; none without
        certificates, so a gateway serving plain HTTP has no identity at all."""
        if not args.config.certificates:
            return None, []
        child = pulumi.ResourceOptions(parent=self)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=args.resource_group_name,
            resource_name_=f"{args.name}-identity",
            location=args.location,
            opts=child,
        )
        grants: list[pulumi.Resource] = []
        for certificate in args.config.certificates:
            scope = pulumi.Output.from_input(args.resource_group_id).apply(
                functools.partial(key_vault_secret_scope, certificate=certificate)
            )
            grants.append(
                assign(
                    f"{name}-{certificate.name}-secrets-user",
                    RoleGrant("Key Vault Secrets User", scope),
                    identity.principal_id,
                    child,
                )
            )
        return identity, grants

    def _firewall_policy(
        self, name: str, args: GatewayArgs
    ) -> network.WebApplicationFirewallPolicy | None:
        """The WAF_v2 gateway's firewall policy; a Standard_v2 gateway has none."""
        mode = args.config.firewall_mode
        if mode is None:
            return None
        return network.WebApplicationFirewallPolicy(
            f"{name}-waf-policy",
            resource_group_name=args.resource_group_name,
            policy_name=f"{args.name}-waf",
            location=args.location,
            managed_rules=network.ManagedRulesDefinitionArgs(
                managed_rule_sets=[
                    network.ManagedRuleSetArgs(
                        rule_set_type=WAF_RULE_SET_TYPE, rule_set_version=WAF_RULE_SET_VERSION
                    )
                ]
            ),
            policy_settings=network.PolicySettingsArgs(
                state=network.WebApplicationFirewallEnabledState.ENABLED,
                mode=mode,
                request_body_check=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

"""The VNet and its subnets: one for the gateway, one per cluster color."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from config import COLORS, Color, NetworkConfig


@dataclass(frozen=True)
class NetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    name: str
    config: NetworkConfig
    cluster_subnets: dict[Color, str]


class Network(pulumi.ComponentResource):
    vnet_id: pulumi.Output[str]
    gateway_subnet_id: pulumi.Output[str]
    cluster_subnet_ids: dict[Color, pulumi.Output[str]]

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:Network", name, None, opts)
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=args.resource_group_name,
            virtual_network_name=args.name,
            location=args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[str(args.config.vnet_cidr)]),
            # Subnets are separate resources below. The VNet declares none inline: ARM and
            # azure-native then leave existing subnets alone on a VNet update instead of
            # deleting the ones a running cluster sits in.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )

        # ARM serialises writes to one VNet's subnets; chaining them avoids
        # AnotherOperationInProgress.
        subnets: dict[str, network.Subnet] = {}
        previous: list[pulumi.Resource] = []
        layout = [("gateway", "appgw", str(args.config.gateway_subnet_cidr))]
        layout += [(color, f"aks-{color}", args.cluster_subnets[color]) for color in COLORS]
        for key, subnet_name, cidr in layout:
            subnets[key] = network.Subnet(
                f"{name}-{key}-subnet",
                resource_group_name=args.resource_group_name,
                virtual_network_name=vnet.name,
                subnet_name=subnet_name,
                address_prefix=cidr,
                opts=pulumi.ResourceOptions(parent=vnet, depends_on=previous),
            )
            previous = [subnets[key]]

        self.vnet_id = vnet.id
        self.gateway_subnet_id = subnets["gateway"].id
        self.cluster_subnet_ids = {color: subnets[color].id for color in COLORS}
        self.register_outputs(
            {
                "vnetId": self.vnet_id,
                "gatewaySubnetId": self.gateway_subnet_id,
                **{f"{c}SubnetId": self.cluster_subnet_ids[c] for c in COLORS},
            }
        )

"""Address ranges a VNet, subnet or Kubernetes range must not use, with who reserves them.

Two lists, as their sources give them: what Azure CNI clusters may not use, and what a virtual
network may not contain. config/rules.py refuses the overlaps (issue 13); the data lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from ipaddress import IPv4Network

TAKEN = date(2026, 12, 2)
AZURE_CNI_SOURCE = "learn.microsoft.com/azure/aks/azure-cni-overview (address ranges)"
VNET_SOURCE = (
    "learn.microsoft.com/azure/virtual-network/virtual-networks-faq "
    "(What address ranges can I use in my virtual networks?)"
)
SOURCE = f"{AZURE_CNI_SOURCE}; {VNET_SOURCE}"


@dataclass(frozen=True)
class ReservedRange:
    network: IPv4Network
    reason: str
    source: str


# azure-cni-overview: the cluster's ranges "shouldn't" use these: link-local, the ranges AKS
# keeps for its own components, and the documentation range.
AZURE_CNI: tuple[ReservedRange, ...] = tuple(
    ReservedRange(IPv4Network(network), reason, AZURE_CNI_SOURCE)
    for network, reason in (
        ("169.254.0.0/16", "link-local"),
        ("172.30.0.0/16", "reserved by AKS"),
        ("172.31.0.0/16", "reserved by AKS"),
        ("192.0.2.0/24", "documentation range (TEST-NET-1)"),
    )
)
# virtual-networks-faq: a VNet cannot contain these; 168.63.129.16 is the platform's virtual
# public IP (DNS, health probes, DHCP), a single address.
VNET: tuple[ReservedRange, ...] = tuple(
    ReservedRange(IPv4Network(network), reason, VNET_SOURCE)
    for network, reason in (
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("168.63.129.16/32", "Azure's virtual public IP (DNS, DHCP, health probes)"),
    )
)

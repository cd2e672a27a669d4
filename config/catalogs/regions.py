"""Azure's public-cloud regions: the name ARM takes, the display name, and whether the region
has availability zones.

Zones are offered per subscription, and a size may be restricted in a zone; the preflight asks
for both live. What this catalog knows is only whether the region has zones at all: asking a
zone in a region without them fails the cluster's or the gateway's creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

TAKEN = date(2026, 12, 2)
# `az account list-locations` answers the same names for a subscription.
SOURCE = "learn.microsoft.com/azure/reliability/regions-list"


@dataclass(frozen=True)
class Region:
    name: str
    display_name: str
    has_zones: bool


REGIONS: tuple[Region, ...] = (
    # Americas
    Region("eastus", "East US", True),
    Region("eastus2", "East US 2", True),
    Region("centralus", "Central US", True),
    Region("southcentralus", "South Central US", True),
    Region("northcentralus", "North Central US", False),
    Region("westus", "West US", False),
    Region("westus2", "West US 2", True),
    Region("westus3", "West US 3", True),
    Region("westcentralus", "West Central US", False),
    Region("canadacentral", "Canada Central", True),
    Region("canadaeast", "Canada East", False),
    Region("brazilsouth", "Brazil South", True),
    Region("brazilsoutheast", "Brazil Southeast", False),
    Region("mexicocentral", "Mexico Central", True),
    Region("chilecentral", "Chile Central", True),
    # Europe
    Region("westeurope", "West Europe", True),
    Region("northeurope", "North Europe", True),
    Region("uksouth", "UK South", True),
    Region("ukwest", "UK West", False),
    Region("francecentral", "France Central", True),
    Region("francesouth", "France South", False),
    Region("germanywestcentral", "Germany West Central", True),
    Region("germanynorth", "Germany North", False),
    Region("swedencentral", "Sweden Central", True),
    Region("swedensouth", "Sweden South", False),
    Region("norwayeast", "Norway East", True),
    Region("norwaywest", "Norway West", False),
    Region("switzerlandnorth", "Switzerland North", True),
    Region("switzerlandwest", "Switzerland West", False),
    Region("polandcentral", "Poland Central", True),
    Region("italynorth", "Italy North", True),
    Region("spaincentral", "Spain Central", True),
    # Middle East and Africa
    Region("uaenorth", "UAE North", True),
    Region("uaecentral", "UAE Central", False),
    Region("qatarcentral", "Qatar Central", True),
    Region("israelcentral", "Israel Central", True),
    Region("southafricanorth", "South Africa North", True),
    Region("southafricawest", "South Africa West", False),
    # Asia Pacific
    Region("eastasia", "East Asia", True),
    Region("southeastasia", "Southeast Asia", True),
    Region("japaneast", "Japan East", True),
    # Japan West: listed without zones here; the preflight reads the subscription's answer.
    Region("japanwest", "Japan West", False),
    Region("koreacentral", "Korea Central", True),
    Region("koreasouth", "Korea South", False),
    Region("centralindia", "Central India", True),
    Region("southindia", "South India", False),
    Region("westindia", "West India", False),
    Region("jioindiawest", "Jio India West", False),
    Region("jioindiacentral", "Jio India Central", False),
    Region("australiaeast", "Australia East", True),
    Region("australiasoutheast", "Australia Southeast", False),
    Region("australiacentral", "Australia Central", False),
    Region("australiacentral2", "Australia Central 2", False),
    Region("newzealandnorth", "New Zealand North", True),
    Region("indonesiacentral", "Indonesia Central", True),
    Region("malaysiawest", "Malaysia West", True),
)

BY_NAME: dict[str, Region] = {region.name: region for region in REGIONS}

"""The stack's configuration: one pydantic model, read from `pulumi.Config`, validated up front.

Every invalid value stops the program with one `pulumi.RunError` that names the key and the fix,
before any resource exists. Where each part lives:

- values.py: the value types (ranges, addresses, versions, names, images) and the errors;
- limits.py: the Azure and AKS facts the config enforces, with their sources;
- model.py: the models, each field with its default and single-value checks;
- rules.py: the checks across keys;
- reading.py: reading the config as the CLI hands it over, and the wording of errors;
- naming.py: the resource prefix and the Azure names derived from it;
- transition.py: what a deployed stack may become;
- stack_file.py: reading a stack file as the CLI does (the offline plan and the probe).
"""

from config.limits import (
    AKS_MAX_PODS,
    AKS_NAMING,
    AKS_QUOTAS,
    AKS_SYSTEM_POOLS,
    APPGW_SCALING,
    NODE_RESOURCE_GROUP_MAX,
)
from config.model import (
    SAMPLE_IMAGE,
    SMOKE_IMAGE,
    AccessConfig,
    AgicConfig,
    BreakGlassConfig,
    CertificateConfig,
    ClusterConfig,
    CutoverConfig,
    DnsConfig,
    GatewayConfig,
    MaintenanceConfig,
    MaintenanceWindow,
    MonitoringConfig,
    NetworkConfig,
    Principal,
    SmokeConfig,
    StackConfig,
    TlsConfig,
    WorkloadConfig,
    gateway_skus,
)
from config.naming import load_prefix, node_resource_group, resource_prefix
from config.reading import CONFIG_KEYS, load, own_keys, parse, parse_qualified
from config.values import (
    COLORS,
    PROJECT,
    Color,
    ConfigError,
    StackNameError,
    printable_key,
    version_key,
)

__all__ = [
    "AKS_MAX_PODS",
    "AKS_NAMING",
    "AKS_QUOTAS",
    "AKS_SYSTEM_POOLS",
    "APPGW_SCALING",
    "COLORS",
    "CONFIG_KEYS",
    "NODE_RESOURCE_GROUP_MAX",
    "PROJECT",
    "SAMPLE_IMAGE",
    "SMOKE_IMAGE",
    "AccessConfig",
    "AgicConfig",
    "BreakGlassConfig",
    "CertificateConfig",
    "ClusterConfig",
    "Color",
    "ConfigError",
    "CutoverConfig",
    "DnsConfig",
    "GatewayConfig",
    "MaintenanceConfig",
    "MaintenanceWindow",
    "MonitoringConfig",
    "NetworkConfig",
    "Principal",
    "SmokeConfig",
    "StackConfig",
    "StackNameError",
    "TlsConfig",
    "WorkloadConfig",
    "gateway_skus",
    "load",
    "load_prefix",
    "node_resource_group",
    "own_keys",
    "parse",
    "parse_qualified",
    "printable_key",
    "resource_prefix",
    "version_key",
]

"""What may change between what this stack last deployed and what its config now declares.

Some changes are valid configs but must not be applied to a running stack: AKS refuses them
mid-deployment, or azure-native would replace the cluster that is serving traffic, or the
resource group, VNet and gateway. The rules compare two sets of facts: the ones the stack
exported on its last deployment (the `deployedConfig` output, read back through a reference to
the stack itself) and the ones of the config being deployed. `pulumi preview` and `pulumi up`
apply them in the program; the offline plan applies the same function to a pull request's base
and head. A stack that has never been deployed has no facts, and every valid config passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from config import COLORS, Color, ConfigError, StackConfig, version_key

OUTPUT = "deployedConfig"
# Config key -> ClusterConfig attribute of every system pool setting AKS fixes at creation.
NODE_POOL_FIELDS: dict[str, str] = {
    "vmSize": "vm_size",
    "osDiskType": "os_disk_type",
    "availabilityZones": "availability_zones",
    "maxPods": "max_pods",
    "encryptionAtHost": "encryption_at_host",
}
# Bumped only if a fact changes meaning; readers ignore what they do not know and skip any rule
# whose facts an older output lacks, so older stacks keep deploying. Schema 2 adds the color the
# gateway was verified serving and the whole config deployed, which the program's judge
# evaluates against its own (plan/judge.py).
SCHEMA = 2


@dataclass(frozen=True)
class ClusterFacts:
    enabled: bool | None = None
    kubernetes_version: str | None = None
    subnet_cidr: str | None = None
    service_cidr: str | None = None
    dns_service_ip: str | None = None
    # The system pool's settings AKS fixes at creation (components/cluster.py
    # CREATE_ONLY_POOL_FIELDS), by their config key; a key an older output lacks is not judged.
    node_pool: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class DeployedFacts:
    active: Color | None = None
    location: str | None = None
    resource_prefix: str | None = None
    vnet_cidr: str | None = None
    gateway_subnet_cidr: str | None = None
    service_cidr: str | None = None
    dns_service_ip: str | None = None
    clusters: tuple[tuple[Color, ClusterFacts], ...] = ()
    unreachable: Color | None = None
    # The color the gateway was last verified serving: None when no deployment recorded one
    # (never verified, or a schema 1 output, which recorded `active` whether verified or not).
    serving: Color | None = None
    # The config that deployment declared, as stack-file values by key; None before schema 2.
    config: dict[str, Any] | None = None
    # The clusters that deployment left protected in the state (protected_colors).
    protected: tuple[Color, ...] = ()

    def cluster(self, color: Color) -> ClusterFacts:
        return dict(self.clusters).get(color, ClusterFacts())

    def to_output(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "active": self.active,
            "location": self.location,
            "resourcePrefix": self.resource_prefix,
            "network": {
                "vnetCidr": self.vnet_cidr,
                "gatewaySubnetCidr": self.gateway_subnet_cidr,
                "serviceCidr": self.service_cidr,
                "dnsServiceIp": self.dns_service_ip,
            },
            "clusters": {
                color: {
                    "enabled": facts.enabled,
                    "kubernetesVersion": facts.kubernetes_version,
                    "subnetCidr": facts.subnet_cidr,
                    "serviceCidr": facts.service_cidr,
                    "dnsServiceIp": facts.dns_service_ip,
                    "nodePool": dict(facts.node_pool),
                }
                for color, facts in self.clusters
            },
            "breakGlass": ({"unreachableCluster": self.unreachable} if self.unreachable else None),
            "servingColor": self.serving,
        }


def facts_of(cfg: StackConfig, resource_prefix: str) -> DeployedFacts:
    """The facts a deployment of `cfg` leaves behind in its `deployedConfig` output."""
    clusters = []
    for color in COLORS:
        cluster, own = cfg.clusters[color], cfg.cluster_network(color)
        clusters.append(
            (
                color,
                ClusterFacts(
                    enabled=cluster.enabled,
                    kubernetes_version=cluster.kubernetes_version,
                    subnet_cidr=str(cluster.subnet_cidr),
                    service_cidr=str(own.service_cidr),
                    dns_service_ip=str(own.dns_service_ip),
                    node_pool=tuple(
                        (key, _fact(getattr(cluster, attribute)))
                        for key, attribute in NODE_POOL_FIELDS.items()
                    ),
                ),
            )
        )
    return DeployedFacts(
        active=cfg.active,
        location=cfg.location,
        resource_prefix=resource_prefix,
        vnet_cidr=str(cfg.network.vnet_cidr),
        gateway_subnet_cidr=str(cfg.network.gateway_subnet_cidr),
        service_cidr=str(cfg.network.service_cidr),
        dns_service_ip=str(cfg.network.dns_service_ip),
        clusters=tuple(clusters),
        unreachable=cfg.unreachable,
    )


def facts_from_output(value: Any) -> DeployedFacts | None:
    """Reads a `deployedConfig` output back; None if the stack has none (never deployed).

    Tolerant by design: a missing or malformed field becomes None, and the rules that need it
    are skipped rather than failing a deployment of an older stack.
    """
    if not isinstance(value, dict):
        return None
    network = _mapping(value.get("network"))
    clusters = _mapping(value.get("clusters"))
    return DeployedFacts(
        active=_color(value.get("active")),
        location=_text(value.get("location")),
        resource_prefix=_text(value.get("resourcePrefix")),
        vnet_cidr=_text(network.get("vnetCidr")),
        gateway_subnet_cidr=_text(network.get("gatewaySubnetCidr")),
        service_cidr=_text(network.get("serviceCidr")),
        dns_service_ip=_text(network.get("dnsServiceIp")),
        clusters=tuple(
            (color, _cluster_facts(_mapping(clusters.get(color))))
            for color in COLORS
            if color in clusters
        ),
        unreachable=_color(_mapping(value.get("breakGlass")).get("unreachableCluster")),
        serving=_color(value.get("servingColor")),
        config=value.get("config") if isinstance(value.get("config"), dict) else None,
        protected=tuple(
            c
            for c in COLORS
            if isinstance(value.get("protectedColors"), list) and c in value["protectedColors"]
        ),
    )


def _cluster_facts(raw: dict[str, Any]) -> ClusterFacts:
    enabled = raw.get("enabled")
    return ClusterFacts(
        enabled=enabled if isinstance(enabled, bool) else None,
        kubernetes_version=_text(raw.get("kubernetesVersion")),
        subnet_cidr=_text(raw.get("subnetCidr")),
        service_cidr=_text(raw.get("serviceCidr")),
        dns_service_ip=_text(raw.get("dnsServiceIp")),
        node_pool=tuple(
            (key, _number(pool[key]))
            for key in NODE_POOL_FIELDS
            if (pool := _mapping(raw.get("nodePool"))).get(key) is not None
        ),
    )


def _fact(value: Any) -> Any:
    # Outputs are JSON: zones travel as a list.
    return list(value) if isinstance(value, tuple) else value


def _number(value: Any) -> Any:
    # Stack outputs carry numbers as JSON numbers: 110 comes back as 110.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _color(value: Any) -> Color | None:
    return value if value in COLORS else None


# --- the rules -------------------------------------------------------------------------------


def refusals(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    """Every reason the change from `previous` to `head` must not be applied, in config order."""
    found: list[ConfigError] = []
    found += _stack_identity(previous, head)
    found += _network(previous, head)
    for color in COLORS:
        found += _versions(color, previous, head)
        found += _cluster_changes(color, previous, head)
    found += _retiring(previous, head)
    found += _still_protected(previous, head)
    found += _break_glass(previous, head)
    return found


def _stack_identity(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    # azure-native replaces a resource when a path parameter (its name or its group's) or a
    # force-new property changes; `location` is force-new on the resource group, VNet, public IP
    # and clusters (plan/diff.py cites both). All of them are the stack itself.
    consequence = (
        "it would replace the resource group, VNet, gateway, public IP and both clusters; "
        "deploy a new stack with the new value (pulumi stack init), move traffic to its "
        "gateway, then destroy this one"
    )
    found = []
    if _changed(previous.location, head.location):
        found.append(
            ConfigError("location", f"{previous.location} -> {head.location}: {consequence}")
        )
    if _changed(previous.resource_prefix, head.resource_prefix):
        found.append(
            ConfigError(
                "namePrefix",
                f"names would change from {previous.resource_prefix}-* to "
                f"{head.resource_prefix}-* (namePrefix or the stack name): {consequence}",
            )
        )
    return found


def _network(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    # "If no resources are deployed within the subnet, you can change the address range"
    # (Microsoft Learn, virtual-network-manage-subnet, "Change subnet settings"); azure-native
    # sends it as an in-place update (Subnet has no force-new), which Azure then refuses.
    found = []
    if _changed(previous.gateway_subnet_cidr, head.gateway_subnet_cidr):
        found.append(
            ConfigError(
                "network.gatewaySubnetCidr",
                f"{previous.gateway_subnet_cidr} -> {head.gateway_subnet_cidr}: the Application "
                "Gateway is running in that subnet and Azure refuses to change the address "
                "range of a subnet in use; keep it, or deploy a new stack",
            )
        )
    return found


def _versions(color: Color, previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    before, after = previous.cluster(color), head.cluster(color)
    if not (before.enabled and after.enabled):
        return []
    if before.kubernetes_version is None or after.kubernetes_version is None:
        return []
    old, new = version_key(before.kubernetes_version), version_key(after.kubernetes_version)
    key = f"clusters.{color}.kubernetesVersion"
    change = f"{before.kubernetes_version} -> {after.kubernetes_version}"
    if new[:2] < old[:2] or (len(old) == len(new) == 3 and new < old):
        return [
            ConfigError(
                key,
                f"{change} is a downgrade, which AKS refuses; to go back, retire this cluster "
                "and build it again at the old version",
            )
        ]
    if new[1] - old[1] > 1:
        return [
            ConfigError(
                key,
                f"{change} skips a minor version, which AKS refuses; upgrade to "
                f"1.{old[1] + 1} first",
            )
        ]
    if new[:2] > old[:2] and color == previous.active:
        other = _other(color)
        return [
            ConfigError(
                key,
                f"{change} upgrades {color} in place while it is serving; upgrade {other} "
                f"instead, cut over to it, then upgrade {color} while it is the standby "
                "(patch upgrades in place are fine)",
            )
        ]
    return []


def _cluster_changes(
    color: Color, previous: DeployedFacts, head: DeployedFacts
) -> list[ConfigError]:
    """Changes azure-native replaces a cluster for, or Azure refuses on a cluster that runs."""
    before, after = previous.cluster(color), head.cluster(color)
    if not before.enabled:
        return []  # no cluster yet: anything may change before it is built
    found = []
    other = _other(color)
    serving = color == previous.active
    if _changed(before.subnet_cidr, after.subnet_cidr):
        if serving:
            fix = (
                f"cut over to {other} first, retire {color} in a later change, then change its "
                "subnet and enable it again"
            )
        else:
            fix = (
                f"retire {color} first (clusters.{color}.enabled: false), then change its "
                "subnet in a later change and enable it again"
            )
        found.append(
            ConfigError(
                f"clusters.{color}.subnetCidr",
                f"{before.subnet_cidr} -> {after.subnet_cidr}: {color}'s nodes and pods have "
                f"addresses in that subnet and Azure refuses to change the range of a subnet "
                f"in use; {fix}",
            )
        )
    if not (serving and after.enabled):
        return found  # a standby's replacement is its own business: the plan shows it
    rebuild = (
        f"make the change on {other} (the standby, which is rebuilt), cut over to it, then "
        f"make it on {color}"
    )
    for name, old, new in (
        ("serviceCidr", before.service_cidr, after.service_cidr),
        ("dnsServiceIp", before.dns_service_ip, after.dns_service_ip),
    ):
        if _changed(old, new):
            shared = (
                getattr(previous, _SNAKE[name]) != getattr(head, _SNAKE[name])
                and getattr(head, _SNAKE[name]) == new
            )
            key = f"network.{name}" if shared else f"clusters.{color}.{name}"
            how = (
                f"set clusters.{other}.{name} to {new} first, cut over to {other}, then set "
                f"it on {color} (or in network once both use it)"
                if shared
                else rebuild
            )
            found.append(
                ConfigError(
                    key,
                    f"{old} -> {new} would replace {color}, which is serving (AKS cannot "
                    f"change a cluster's service range; azure-native replaces it); {how}",
                )
            )
    pool_before, pool_after = dict(before.node_pool), dict(after.node_pool)
    for key in NODE_POOL_FIELDS:
        old, new = pool_before.get(key), pool_after.get(key)
        if old is not None and new is not None and old != new:
            found.append(
                ConfigError(
                    f"clusters.{color}.{key}",
                    f"{_shown(old)} -> {_shown(new)} would rebuild {color}, which is serving "
                    f"(AKS fixes a node pool's {key} when it creates the pool); {rebuild}",
                )
            )
    return found


_SNAKE = {"serviceCidr": "service_cidr", "dnsServiceIp": "dns_service_ip"}


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) or "none" if isinstance(value, list) else str(value)


def _retiring(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    serving = previous.active
    if serving is None or head.active is None or serving == head.active:
        return []
    if head.cluster(serving).enabled is False:
        return [
            ConfigError(
                f"clusters.{serving}.enabled",
                f"{serving} is serving until this change lands; cut over to {head.active} "
                f"first and retire {serving} in a later change, so a rollback stays one revert "
                "away",
            )
        ]
    return []


def _still_protected(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    # The engine refuses to delete a resource its state holds protected (pulumi/pulumi
    # pkg/resource/deploy/step_generator.go), and a retired cluster is not declared, so its
    # protection cannot be lifted in the change that retires it.
    return [
        ConfigError(
            f"clusters.{color}.enabled",
            f"{color} is still protected by the deployment that flipped away from it (a flip "
            f"keeps both clusters protected until it is verified); run `pulumi up` once more "
            f"with {color} still enabled, which lifts its protection now that "
            f"{head.active} serves, then retire {color}",
        )
        for color in previous.protected
        if color != head.active and head.cluster(color).enabled is False
    ]


def _break_glass(previous: DeployedFacts, head: DeployedFacts) -> list[ConfigError]:
    found = []
    lifted = previous.unreachable
    if lifted and head.unreachable != lifted and head.cluster(lifted).enabled is not False:
        found.append(
            ConfigError(
                "breakGlass",
                f"{lifted}'s objects left the state while it was unreachable, and an AGIC may "
                f"still run in it, kept off the gateway only by its disabled federated "
                f"credential; retire {lifted} (clusters.{lifted}.enabled: false, which deletes "
                f"the cluster and all in it through Azure) in the same change, then enable it "
                "again later to rebuild it",
            )
        )
    declared = head.unreachable
    if declared and declared != lifted and previous.cluster(declared).enabled is False:
        found.append(
            ConfigError(
                "breakGlass.unreachableCluster",
                f"{declared} was not deployed, so there is nothing of it to drop; remove "
                "breakGlass",
            )
        )
    return found


def _changed(old: str | None, new: str | None) -> bool:
    return old is not None and new is not None and old != new


def _other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


# --- in the program --------------------------------------------------------------------------


def self_reference_name() -> str:
    """This stack's own fully qualified name, as a StackReference takes it.

    The DIY backend always calls the organization "organization" (pulumi/pulumi
    pkg/backend/diy/backend.go); Pulumi Cloud uses the stack's organization. Both answer an
    empty set of outputs for a stack that has never been deployed.
    """
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


async def last_deployment() -> DeployedFacts | None:
    """The facts this stack's last deployment exported; None if it was never deployed.

    `StackReference.get_output_details` is a coroutine (pulumi 3.272 stack_reference.py), so
    the program awaits it from its `pulumi.run` entrypoint, which runs before any resource is
    registered.
    """
    reference = pulumi.StackReference("previous-deployment", self_reference_name())
    details = await reference.get_output_details(OUTPUT)
    return facts_from_output(details.value)


def refuse_unsafe_change(previous: DeployedFacts | None, head: DeployedFacts) -> None:
    """Raises a RunError naming every rule the change breaks, before any resource is declared.

    A RunError there ends the program with its message and no traceback
    (pulumi-language-python-exec logs `str(e)` for RunError).
    """
    if previous is None:
        return None
    problems = refusals(previous, head)
    if problems:
        raise pulumi.RunError("\n".join(str(problem) for problem in problems))


def protected_colors(
    active: Color, enabled: list[Color], previous: DeployedFacts | None
) -> frozenset[Color]:
    """The clusters that carry `protect`: the active one, and the one last verified serving.

    The engine lets `protect` be lifted and a resource replaced in the same update (pulumi/pulumi
    pkg/resource/deploy/step_generator.go checks the new goal's protect on a replace), so the
    cluster a flip leaves stays protected until a deployment after the verified flip. With a
    previous deployment that verified nothing, either may be serving: both are protected.
    """
    colors = {active}
    if previous is not None:
        colors |= {previous.serving} if previous.serving else set(COLORS)
    return frozenset(c for c in COLORS if c in colors and c in enabled)

"""Blue/green AKS behind one Application Gateway: the runbook, declared.

`active` decides which cluster's AGIC owns the gateway; changing it is the cut-over, reverting
it the rollback. Read docs/runbook.md before a first `pulumi up`.
"""

from datetime import UTC, datetime
from pathlib import Path

import pulumi
from pulumi_azure_native import resources

import config
from components.agic import Agic, AgicArgs
from components.certificate_gate import CertificateGate, CertificateGateArgs
from components.cutover_verification import CutoverVerification, CutoverVerificationArgs
from components.dns import DnsRecords, DnsRecordsArgs
from components.gateway import Gateway, GatewayArgs
from components.monitoring import (
    ContainerInsights,
    ContainerInsightsArgs,
    Monitoring,
    MonitoringArgs,
)
from components.network import Network, NetworkArgs
from components.preflight import Preflight, PreflightArgs
from components.retire_guard import RetireGuard, RetireGuardArgs
from components.slot import Slot, SlotArgs
from config import rules, support_window, transition
from plan.judge import judge_in_child, stack_config_values

# 1. Load and validate the whole config: a bad value stops here, before anything is created.
cfg = config.load()
prefix = config.load_prefix(cfg, pulumi.get_stack())
deployed = transition.facts_of(cfg, prefix)


async def deploy() -> None:
    # 1b. Refuse what the live stack must not become, judged against what its last deployment
    # exported, before any resource is declared: in preview and up alike. First what Azure and
    # AKS refuse mid-deployment (transition.py), then the safety invariants on the evaluated
    # diff from the config it recorded (plan/judge.py, the offline plan's own judge).
    previous = await transition.last_deployment()
    transition.refuse_unsafe_change(previous, deployed)
    # 1c. A cluster this deployment creates must be on a minor AKS still supports; one that keeps
    # running on a minor past (or near) its end of life is warned about.
    window = support_window.judge(cfg, previous, datetime.now(UTC).date())
    if window.refusals:
        raise pulumi.RunError("\n".join(str(problem) for problem in window.refusals))
    for warning in window.warnings:
        pulumi.log.warn(warning)
    lost: tuple[str, ...] = ()
    if previous is not None and previous.config is not None:
        recorded = {key: value for key, value in previous.to_output().items() if key != "config"}
        answer = judge_in_child(
            previous.config,
            stack_config_values(cfg),
            pulumi.get_stack(),
            str(Path(__file__).resolve().parent),
            recorded,
        )
        if answer["refusals"]:
            raise pulumi.RunError("\n".join(answer["refusals"]))
        if answer.get("unjudged"):
            pulumi.log.warn(
                "the last deployment's recorded config no longer passes this version's rules, "
                f"so only the transition rules judged this change: {answer['unjudged']}"
            )
        lost = tuple(answer["clustersLost"])
    declare(previous, lost)


def declare(previous: transition.DeployedFacts | None, clusters_lost: tuple[str, ...]) -> None:
    protected = transition.protected_colors(cfg.active, cfg.enabled_colors(), previous)
    # A cluster this change replaces goes only once the live gateway sends it nothing, as a
    # retired one does (components/retire_guard.py): its guard is checked before the cluster is
    # registered, so before the engine deletes it.
    subnets = {color: str(cfg.clusters[color].subnet_cidr) for color in config.COLORS}
    # 1d. What only the subscription knows, asked live before anything changes: everything
    # depends on the resource group, and the resource group on the preflight's check.
    preflight = Preflight("preflight", PreflightArgs(config=cfg, previous=previous))
    group = resources.ResourceGroup(
        "resource-group",
        resource_group_name=f"{prefix}-rg",
        location=cfg.location,
        opts=pulumi.ResourceOptions(protect=True, depends_on=[preflight]),
    )

    # 2. One VNet: a gateway subnet and one subnet per color.
    network = Network(
        "network",
        NetworkArgs(
            resource_group_name=group.name,
            location=cfg.location,
            name=f"{prefix}-vnet",
            config=cfg.network,
            cluster_subnets=subnets,
        ),
    )

    # 3. One Application Gateway v2, created minimal, then owned by AGIC.
    gateway = Gateway(
        "gateway",
        GatewayArgs(
            resource_group_name=group.name,
            resource_group_id=group.id,
            location=cfg.location,
            name=f"{prefix}-appgw",
            subnet_id=network.gateway_subnet_id,
            config=cfg.gateway,
        ),
    )
    for note in rules.unused_certificates(cfg):
        pulumi.log.warn(note, resource=gateway)
    # 3a. No app names a certificate before the live gateway reports it installed.
    certificates = (
        CertificateGate(
            "certificates",
            CertificateGateArgs(
                gateway_id=gateway.gateway_id,
                gateway=gateway.resource,
                certificates=cfg.gateway.certificates,
                timeout_seconds=cfg.cutover.timeout_seconds,
            ),
        )
        if cfg.gateway.certificates
        else None
    )
    # 3b. The apps' names in the user's DNS zone, aliased to the gateway's public IP.
    if cfg.dns is not None:
        DnsRecords(
            "dns",
            DnsRecordsArgs(
                config=cfg.dns, workloads=cfg.workloads, public_ip_id=gateway.public_ip_id
            ),
        )

    # 3c. One Log Analytics workspace: the gateway's access log and both clusters' containers.
    monitoring = Monitoring(
        "monitoring",
        MonitoringArgs(
            resource_group_name=group.name,
            location=cfg.location,
            name=f"{prefix}-logs",
            gateway_id=gateway.gateway_id,
            gateway_sku=cfg.gateway.sku,
            config=cfg.monitoring,
        ),
    )

    replace_guards = {
        color: RetireGuard(
            f"replace-guard-{color}",
            RetireGuardArgs(
                gateway_id=gateway.gateway_id,
                color=color,
                subnet_cidr=subnets[color],
                change="replace",
            ),
        )
        for color in config.COLORS
        if color in clusters_lost and cfg.clusters[color].enabled
    }

    # 4. Both slots (a retired standby is left out): the cluster, the apps, each app's smoke gate.
    # A cluster the break-glass declares unreachable keeps its Azure resources only.
    slots = {
        color: Slot(
            f"{color}-slot",
            SlotArgs(
                color=color,
                resource_group_name=group.name,
                location=cfg.location,
                cluster_name=f"{prefix}-{color}",
                subnet_id=network.cluster_subnet_ids[color],
                cluster=cfg.clusters[color],
                network=cfg.cluster_network(color),
                workloads=cfg.workloads,
                smoke=cfg.smoke,
                active=color == cfg.active,
                access=cfg.access,
                protect=color in protected,
                after=[replace_guards[color]] if color in replace_guards else [],
                agic_namespace=cfg.agic.namespace,
                unreachable=color == cfg.unreachable,
                log_analytics_workspace_id=monitoring.workspace_id,
                certificates_ready=certificates.ready if certificates else None,
            ),
        )
        for color in cfg.enabled_colors()
    }

    # 4b. Container Insights collects from each cluster once it exists.
    ContainerInsights(
        "container-insights",
        ContainerInsightsArgs(
            rule_id=monitoring.container_insights_rule_id,
            clusters={color: slot.cluster.cluster_id for color, slot in slots.items()},
        ),
    )

    # 5. AGIC on the active cluster only, after that cluster's gates pass, and after the
    #    credential of an unreachable cluster's AGIC is disabled.
    agic = Agic(
        "agic",
        AgicArgs(
            resource_group_name=group.name,
            resource_group_id=group.id,
            location=cfg.location,
            name=prefix,
            gateway_id=gateway.gateway_id,
            gateway_subnet_id=network.gateway_subnet_id,
            clusters={color: slot.cluster for color, slot in slots.items()},
            active=cfg.active,
            unreachable=cfg.unreachable,
            gates=slots[cfg.active].gates,
            config=cfg.agic,
            protected=protected,
        ),
    )

    # 6. Done only when the live gateway serves the active cluster: `up` waits for it, bounded, and
    #    otherwise fails saying what it saw. AGIC's Ready proves nothing about its gateway write.
    verification = CutoverVerification(
        "cutover",
        CutoverVerificationArgs(
            gateway_id=gateway.gateway_id,
            active=cfg.active,
            subnets=subnets,
            workloads=cfg.workloads,
            release=agic.release,
            release_name=agic.release_name,
            agic=cfg.agic,
            timeout_seconds=cfg.cutover.timeout_seconds,
            certificates=cfg.gateway.certificates,
        ),
    )

    # 7. A retired cluster goes only once the live gateway sends it nothing (checked by preview
    #    and up, before the engine deletes anything at the end of the update).
    for color in config.COLORS:
        if not cfg.clusters[color].enabled:
            RetireGuard(
                f"retire-guard-{color}",
                RetireGuardArgs(
                    gateway_id=gateway.gateway_id, color=color, subnet_cidr=subnets[color]
                ),
            )

    # 8. What operators read after `pulumi up`; kubeconfigs are deliberately not exported.
    #    `deployedConfig` is what the next deployment's transition rules judge against.
    pulumi.export("activeColor", cfg.active)
    pulumi.export("gatewayPublicIp", gateway.public_ip_address)
    pulumi.export("agicCluster", agic.cluster_name)
    pulumi.export("agicRelease", agic.release_name)
    pulumi.export("logAnalyticsWorkspaceId", monitoring.workspace_customer_id)
    pulumi.export(
        "clusters",
        {
            color: {
                "name": slot.cluster.cluster_name,
                "kubernetesVersion": slot.cluster.kubernetes_version,
            }
            for color, slot in slots.items()
        },
    )
    # What is recorded is what was verified: the serving color moves to the active one only
    # once the live gateway was seen serving it; a failed verification leaves the old one.
    last_serving = previous.serving if previous is not None else None
    pulumi.export(
        transition.OUTPUT,
        {
            **deployed.to_output(),
            "servingColor": verification.serving.apply(
                lambda serving: cfg.active if serving else last_serving
            ),
            "config": stack_config_values(cfg),
            "protectedColors": sorted(protected),
        },
    )


pulumi.run(deploy)

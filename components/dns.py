"""The apps' names in an existing Azure DNS zone, pointed at the gateway's public IP.

The zone is the user's: the program adds one A record set per app host and never touches the zone
itself. Nothing here depends on `active`: a flip moves AGIC, and the gateway's address stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import dns

from config import DnsConfig, WorkloadConfig

# Seconds resolvers may cache an answer. The address is the gateway's static public IP, which a
# flip never changes; five minutes keeps a first deployment's mistakes short-lived.
RECORD_TTL_SECONDS = 300


@dataclass(frozen=True)
class DnsRecordsArgs:
    config: DnsConfig
    workloads: Sequence[WorkloadConfig]
    public_ip_id: pulumi.Input[str]


def hosts_in_zone(config: DnsConfig, workloads: Sequence[WorkloadConfig]) -> dict[str, str]:
    """Record set name -> host, each host once (two apps may share a host on different paths)."""
    names: dict[str, str] = {}
    for workload in workloads:
        if workload.host is None:
            continue
        record = config.record_name(workload.host)
        if record is not None:
            names.setdefault(record, workload.host.rstrip(".").lower())
    return names


class DnsRecords(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-bluegreen:index:DnsRecords", name, None, opts)
        records = hosts_in_zone(args.config, args.workloads)
        for record, host in sorted(records.items()):
            dns.RecordSet(
                f"{name}-{host}",
                resource_group_name=args.config.resource_group,
                zone_name=args.config.zone,
                relative_record_set_name=record,
                record_type="A",
                ttl=RECORD_TTL_SECONDS,
                # An alias record set follows the public IP resource rather than copying its
                # address, so the name can never point at an address Azure has handed to
                # someone else (learn.microsoft.com/azure/dns/dns-alias, "Prevent dangling DNS
                # records").
                target_resource=dns.SubResourceArgs(id=args.public_ip_id),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"records": dict(sorted(records.items()))})

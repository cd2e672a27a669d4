"""Whether each cluster's Kubernetes minor is inside AKS's support window on a given day.

AKS creates clusters only on supported minors (supported-kubernetes-versions.md, platform
support table: "Cluster creation: Not supported" past end of life), so a cluster that will be
created on a minor past its end of life is refused. A cluster that keeps running is not
stopped by it: it is warned about, with the days left or past and what LTS would need. Which
clusters will be created comes from the last deployment's facts: none (a stack never
deployed), or a cluster they record as absent or retired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from config.catalogs import kubernetes_versions
from config.values import PROJECT, ConfigError

if TYPE_CHECKING:
    from config.model import StackConfig
    from config.transition import DeployedFacts

# Warn this many days ahead of an end of life: a blue/green upgrade is a change, a cut-over and
# a retirement, each reviewed, so a month and a half is little.
WARN_DAYS_AHEAD = 45


@dataclass(frozen=True)
class Judgement:
    refusals: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def judge(cfg: StackConfig, previous: DeployedFacts | None, today: date) -> Judgement:
    judgement = Judgement()
    supported = kubernetes_versions.supported_on(today)
    for color in cfg.enabled_colors():
        version = cfg.clusters[color].kubernetes_version
        key = f"clusters.{color}.kubernetesVersion"
        created = previous is None or not previous.cluster(color).enabled
        release = kubernetes_versions.BY_MINOR.get(kubernetes_versions.minor_of(version))
        end = release.end_of_life if release else kubernetes_versions.MINORS[0].end_of_life
        days = (end - today).days
        if days >= 0 and days > WARN_DAYS_AHEAD:
            continue
        when = (
            f"reached AKS end of life on {end} ({-days} days ago)"
            if days < 0
            else f"reaches AKS end of life on {end} ({days} days left)"
        )
        if release is None:
            when = f"was out of AKS support before {end}"
        source = (
            f"catalog of {kubernetes_versions.TAKEN}: {kubernetes_versions.SOURCE}; "
            f"docs/catalogs.md says how to refresh it"
        )
        newest = kubernetes_versions.recommended_on(today)
        if created and days < 0:
            judgement.refusals.append(
                ConfigError(
                    key,
                    f"{version} {when}, and AKS creates no cluster on it; create {color} on a "
                    f"supported minor ({', '.join(supported)} on {today}), e.g. {newest!r} "
                    f"({source})",
                )
            )
            continue
        lts = ""
        if release and release.lts_end_of_life and release.lts_end_of_life >= today:
            lts = (
                f"; LTS would keep {release.minor} patched until {release.lts_end_of_life}, "
                f"but needs {kubernetes_versions.LTS_NEEDS} ({kubernetes_versions.LTS_SOURCE}), "
                "which this program does not set"
            )
        judgement.warnings.append(
            f"{PROJECT}:{key}: {version} {when}; upgrade {color} a minor at a time towards "
            f"{newest!r} while it is the standby, then cut over{lts} ({source})"
        )
    return judgement

"""The Kubernetes minors AKS has released: when each went GA, its end of life, its LTS end of
life, and the patch versions known of it.

AKS's calendar gives months; its note says an end of life written as a month is that month's
last day ("Mar 2026" is March 31, 2026), and GA is recorded as the month's first day. Patches:
`aks_patches` are those AKS's release notes announce as available; `newest_patch_seen` is the
newest patch upstream Kubernetes had published by TAKEN. Upstream publishes about one patch a
month (plus the odd out-of-band one) until its own end of life, which bounds the patches that
can still appear (`patch_ceiling`); which of them a region offers is asked live (preflight).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

TAKEN = date(2026, 12, 2)
# The calendar and LTS tables of MicrosoftDocs/azure-aks-docs articles/aks/supported-kubernetes-
# versions.md; AKS release 2026-09-04 (patches 1.36.3, 1.35.7 and 1.34.10 available, 1.37 in
# preview); kubernetes.io/releases/<minor> for upstream patches and end of life.
SOURCE = (
    "learn.microsoft.com/azure/aks/supported-kubernetes-versions, github.com/Azure/AKS/releases, "
    "kubernetes.io/releases"
)
LTS_SOURCE = "learn.microsoft.com/azure/aks/long-term-support"
# LTS on AKS is a property of the cluster: the Premium tier and supportPlan AKSLongTermSupport
# (long-term-support.md, "Enable long-term support"); this program sets neither.
LTS_NEEDS = "the Premium tier with supportPlan AKSLongTermSupport"
# Upstream patch releases come monthly; out-of-band ones (1.35.2, 1.34.5: Go CVEs) have made
# two in a month. A patch beyond two a month until upstream's end of life cannot exist.
PATCHES_PER_MONTH_AT_MOST = 2


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class MinorRelease:
    minor: str
    ga: date
    end_of_life: date
    lts_end_of_life: date | None
    upstream_end_of_life: date
    newest_patch_seen: int | None = None
    newest_patch_seen_on: date | None = None
    aks_patches: tuple[int, ...] = ()
    # False while GA is only the calendar's plan: never offered as the version to use.
    ga_confirmed: bool = True
    # What could not be confirmed from the sources, said rather than guessed.
    unconfirmed: str = ""

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.minor.split(".")
        return int(major), int(minor)

    def patch_ceiling(self) -> int | None:
        """The highest patch number that can exist, from upstream's cadence and end of life;
        None where no patch of this minor was recorded."""
        if self.newest_patch_seen is None or self.newest_patch_seen_on is None:
            return None
        months = (self.upstream_end_of_life.year - self.newest_patch_seen_on.year) * 12 + (
            self.upstream_end_of_life.month - self.newest_patch_seen_on.month
        )
        return self.newest_patch_seen + PATCHES_PER_MONTH_AT_MOST * max(months, 0) + 1


MINORS: tuple[MinorRelease, ...] = (
    MinorRelease(
        "1.29",
        ga=date(2024, 3, 1),
        end_of_life=_month_end(2025, 3),
        lts_end_of_life=_month_end(2026, 4),
        upstream_end_of_life=date(2025, 2, 28),
        unconfirmed="patches not recorded: past end of life before this catalog was taken",
    ),
    MinorRelease(
        "1.30",
        ga=date(2024, 7, 1),
        end_of_life=date(2025, 8, 22),
        lts_end_of_life=_month_end(2026, 7),
        upstream_end_of_life=date(2025, 6, 28),
        unconfirmed="patches not recorded: past end of life before this catalog was taken",
    ),
    MinorRelease(
        "1.31",
        ga=date(2024, 11, 1),
        end_of_life=date(2025, 11, 1),
        lts_end_of_life=_month_end(2026, 11),
        upstream_end_of_life=date(2025, 10, 28),
        unconfirmed="patches not recorded: past end of life before this catalog was taken",
    ),
    MinorRelease(
        "1.32",
        ga=date(2025, 4, 1),
        end_of_life=_month_end(2026, 3),
        lts_end_of_life=_month_end(2027, 3),
        upstream_end_of_life=date(2026, 2, 28),
        unconfirmed="patches not recorded: past end of life before this catalog was taken",
    ),
    MinorRelease(
        "1.33",
        ga=date(2025, 6, 1),
        end_of_life=_month_end(2026, 7),
        lts_end_of_life=_month_end(2027, 7),
        upstream_end_of_life=date(2026, 6, 28),
        newest_patch_seen=10,
        newest_patch_seen_on=date(2026, 3, 19),
        unconfirmed="upstream patches after 1.33.10 (2026-03-19) not seen; AKS's list not seen",
    ),
    MinorRelease(
        "1.34",
        ga=date(2025, 11, 1),
        end_of_life=_month_end(2026, 11),
        lts_end_of_life=_month_end(2027, 11),
        upstream_end_of_life=date(2026, 10, 27),
        newest_patch_seen=10,
        newest_patch_seen_on=date(2026, 9, 4),
        aks_patches=(10,),
        unconfirmed="AKS patches before 1.34.10 and any after it not seen",
    ),
    MinorRelease(
        "1.35",
        ga=date(2026, 3, 1),
        end_of_life=_month_end(2027, 3),
        lts_end_of_life=_month_end(2028, 3),
        upstream_end_of_life=date(2027, 2, 28),
        newest_patch_seen=7,
        newest_patch_seen_on=date(2026, 9, 4),
        aks_patches=(7,),
        unconfirmed="AKS patches other than 1.35.7 not seen",
    ),
    MinorRelease(
        "1.36",
        ga=date(2026, 6, 1),
        end_of_life=_month_end(2027, 6),
        lts_end_of_life=_month_end(2028, 6),
        upstream_end_of_life=date(2027, 6, 28),
        newest_patch_seen=4,
        newest_patch_seen_on=date(2026, 8, 11),
        aks_patches=(3,),
        unconfirmed="AKS patches other than 1.36.3 not seen",
    ),
    MinorRelease(
        "1.37",
        ga=date(2026, 10, 1),
        end_of_life=_month_end(2027, 10),
        lts_end_of_life=_month_end(2028, 10),
        upstream_end_of_life=date(2027, 10, 28),
        newest_patch_seen=1,
        newest_patch_seen_on=date(2026, 9, 15),
        ga_confirmed=False,
        unconfirmed=(
            "GA is the calendar's plan (Oct 2026); the release notes seen (2026-09-04) announce "
            "only its preview"
        ),
    ),
)

BY_MINOR: dict[str, MinorRelease] = {release.minor: release for release in MINORS}


def minor_of(version: str) -> str:
    """ "1.35.7" -> "1.35"."""
    return ".".join(version.split(".")[:2])


def supported_on(day: date) -> list[str]:
    """The minors AKS supports on `day` (GA reached, end of life not yet passed)."""
    return [r.minor for r in MINORS if r.ga <= day <= r.end_of_life]


def recommended_on(day: date) -> str:
    """The newest supported minor whose GA the sources confirm: the one to create clusters on."""
    confirmed = [r.minor for r in MINORS if r.ga_confirmed and r.ga <= day <= r.end_of_life]
    return confirmed[-1] if confirmed else MINORS[-1].minor

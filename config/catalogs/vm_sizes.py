"""VM sizes AKS takes for a Linux node pool, with vCPUs, memory and temp (local) disk.

Only whole series are listed, so a size missing from a listed series cannot exist
(Standard_D5ds_v5): the config refuses it. A size of a series not listed may exist: the config
lets it through with a note and the preflight asks the region's SKU list. Sizes AKS refuses for
a system pool (B-series, fewer than 4 vCPUs) are listed too: config/values.py refuses them with
their own reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

TAKEN = date(2026, 12, 2)
# Each series' page under learn.microsoft.com/azure/virtual-machines/sizes (general-purpose/
# <series>-series, compute-optimized/fsv2-series, memory-optimized/<series>-series): vCPUs,
# Memory GiB, Temp storage (SSD) GiB; "No local storage" is 0 here.
SOURCE = "learn.microsoft.com/azure/virtual-machines/sizes"


@dataclass(frozen=True)
class VmSize:
    name: str
    vcpus: int
    memory_gib: int
    temp_disk_gib: int


def _series(template: str, rows: tuple[tuple[int, int, int], ...]) -> dict[str, VmSize]:
    return {
        template.format(cpus): VmSize(template.format(cpus), cpus, memory, temp)
        for cpus, memory, temp in rows
    }


_D_V5_CPUS = (2, 4, 8, 16, 32, 48, 64, 96)
_D_V5_TEMP = (75, 150, 300, 600, 1200, 1800, 2400, 3600)
_D_V4_CPUS = (2, 4, 8, 16, 32, 48, 64)
_D_V4_TEMP = (75, 150, 300, 600, 1200, 1800, 2400)
_E_V5_CPUS = (2, 4, 8, 16, 20, 32, 48, 64, 96)
_E_V5_MEMORY = (16, 32, 64, 128, 160, 256, 384, 512, 672)
_E_V5_TEMP = (75, 150, 300, 600, 750, 1200, 1800, 2400, 3600)


def _general(
    template: str, cpus: tuple[int, ...], temps: tuple[int, ...] | None
) -> dict[str, VmSize]:
    # The D series give 4 GiB of memory per vCPU.
    return _series(
        template, tuple((c, 4 * c, temps[i] if temps else 0) for i, c in enumerate(cpus))
    )


SIZES: dict[str, VmSize] = {
    **_general("Standard_D{}s_v5", _D_V5_CPUS, None),
    **_general("Standard_D{}_v5", _D_V5_CPUS, None),
    **_general("Standard_D{}ds_v5", _D_V5_CPUS, _D_V5_TEMP),
    **_general("Standard_D{}d_v5", _D_V5_CPUS, _D_V5_TEMP),
    **_general("Standard_D{}as_v5", _D_V5_CPUS, None),
    **_general("Standard_D{}ads_v5", _D_V5_CPUS, _D_V5_TEMP),
    **_general("Standard_D{}s_v4", _D_V4_CPUS, None),
    **_general("Standard_D{}_v4", _D_V4_CPUS, None),
    **_general("Standard_D{}ds_v4", _D_V4_CPUS, _D_V4_TEMP),
    **_general("Standard_D{}d_v4", _D_V4_CPUS, _D_V4_TEMP),
    **_general("Standard_D{}s_v3", _D_V4_CPUS, (16, 32, 64, 128, 256, 384, 512)),
    **_general("Standard_D{}_v3", _D_V4_CPUS, (50, 100, 200, 400, 800, 1200, 1600)),
    **_series("Standard_E{}s_v5", tuple(zip(_E_V5_CPUS, _E_V5_MEMORY, (0,) * 9, strict=True))),
    **_series("Standard_E{}ds_v5", tuple(zip(_E_V5_CPUS, _E_V5_MEMORY, _E_V5_TEMP, strict=True))),
    **_series(
        "Standard_F{}s_v2",
        tuple(
            (c, 2 * c, 8 * c) for c in (2, 4, 8, 16, 32, 48, 64, 72)
        ),  # Fsv2: 2 GiB and 8 GiB of temp disk per vCPU
    ),
    # B-series: listed so a typo finds its neighbours; values.py refuses them for system pools.
    **_series(
        "Standard_B{}ms",
        ((2, 8, 16), (4, 16, 32), (8, 32, 64), (12, 48, 96), (16, 64, 128), (20, 80, 160)),
    ),
}

# "Standard_D4ds_v5" -> "Standard_D{}ds_v5": the series a size belongs to.
_NUMBER = re.compile(r"^(Standard_[A-Z]+)(\d+)(.*)$")


def series_of(name: str) -> str | None:
    match = _NUMBER.match(name)
    return f"{match[1]}{{}}{match[3]}" if match else None


def _by_series() -> dict[str, tuple[int, ...]]:
    found: dict[str, tuple[int, ...]] = {}
    for size in SIZES.values():
        template = series_of(size.name) or size.name
        found[template] = (*found.get(template, ()), size.vcpus)
    return found


# Each listed series and the vCPU counts it comes in.
SERIES: dict[str, tuple[int, ...]] = _by_series()

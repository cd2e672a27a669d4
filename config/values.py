"""The value types of the stack config: what one value must look like, and the errors.

Each type refuses a malformed value with the shape it should have; checks that need more than one
value live in rules.py, and the Azure and AKS limits these types enforce in limits.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator

from config.catalogs import agic_chart
from config.limits import (
    AKS_QUOTAS,
    AKS_SYSTEM_POOLS,
    SYSTEM_POOL_MIN_VCPUS,
    TOO_SMALL_FOR_AKS,
)

PROJECT = "aks-bluegreen"
Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")

# AKS accepts "1.33" (latest patch) or "1.33.2"; anything else is refused by ARM mid-deployment,
# long after the gateway and network exist, so it is refused here instead.
VERSION = re.compile(r"^1\.(0|[1-9]\d*)(\.(0|[1-9]\d*))?\Z")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\Z")
# An image reference as the container runtimes parse it (distribution/reference's grammar):
# [registry[:port]/]path[:tag][@sha256:<64 hex>]. Only sha256 digests are accepted: it is the
# one algorithm every registry and kubelet handles.
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
_IMAGE = re.compile(
    rf"^(?:{_HOST}(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?\Z"
)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")
# A chart in an OCI registry as Helm names it: oci://registry[:port]/repository, no tag (the
# version is agic.chartVersion).
_CHART = re.compile(rf"^oci://({_HOST})(?::([0-9]{{1,5}}))?/({_PATH_PART}(?:/{_PATH_PART})*)\Z")


def show(value: Any) -> str:
    """A user's value in a message: one line, quoted when it is text, never a page long."""
    shown = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return shown if len(shown) <= 60 else shown[:57] + "..."


@dataclass(frozen=True)
class Within:
    """An inclusive integer range and where it comes from; the configuration reference reads it.

    `refusal`, when given, words the refusal instead: a format string of value, low and high.
    """

    low: int
    high: int
    source: str
    refusal: str = ""

    def __call__(self, value: int) -> int:
        if self.low <= value <= self.high:
            return value
        if self.refusal:
            raise ValueError(self.refusal.format(value=value, low=self.low, high=self.high))
        if value < self.low:
            problem = f"{value} is below the minimum of {self.low}"
        else:
            problem = f"{value} is above the maximum of {self.high}"
        raise ValueError(problem + (f" ({self.source})" if self.source else ""))


def within(low: int, high: int, source: str, refusal: str = "") -> AfterValidator:
    """An inclusive integer range, refused with the limit and where it comes from."""
    return AfterValidator(Within(low, high, source, refusal))


def cidr(value: Any) -> IPv4Network:
    # pydantic's own IPv4Network takes integers and says only "not a valid IPv4 network"; a
    # range with host bits set deserves the range the user probably meant.
    if isinstance(value, IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} must be text like 10.240.0.0/16")
    try:
        return IPv4Network(value)
    except ValueError as err:
        if "has host bits set" in str(err):
            network = IPv4Network(value, strict=False)
            raise ValueError(
                f"{value!r} has host bits set: a range starts at its network address; "
                f"write {network}"
            ) from None
        problem = f"{show(value)} is not an IPv4 range; write it like 10.240.0.0/16"
        raise ValueError(problem) from None


def address(value: Any) -> IPv4Address:
    if isinstance(value, IPv4Address):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{show(value)} must be text like 10.0.0.10")
    try:
        return IPv4Address(value)
    except (AddressValueError, NetmaskValueError, ValueError):
        problem = f"{show(value)} is not an IPv4 address; write it like 10.0.0.10"
        raise ValueError(problem) from None


Cidr = Annotated[IPv4Network, BeforeValidator(cidr)]
Address = Annotated[IPv4Address, BeforeValidator(address)]

# Azure VM size names: [Family][Sub-family][vCPUs][-constrained vCPUs][features][_accelerator][_vN]
# (learn.microsoft.com/azure/virtual-machines/vm-naming-conventions).
_VM_SIZE = re.compile(
    r"^Standard_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?:-(?P<constrained>\d+))?[a-z]*"
    r"(?:_[A-Z][A-Za-z0-9]*)??(?:_v(?P<version>\d+))?(?:_Promo)?\Z"
)
# Sizes older than that convention, where the number is a size index, not vCPUs (D3_v2 has 4
# vCPUs, D11_v2 and A5 have 2): their vCPUs cannot be read from the name, so AKS checks them.
_LEGACY_SIZE_NUMBERING = re.compile(r"^Standard_(DS?\d+(_v2)?|A\d+|GS?\d+)(_Promo)?\Z")


def system_pool_vm_size(value: str) -> str:
    if not re.match(r"^Standard_[A-Za-z0-9_-]+\Z", value):
        raise ValueError(f"{show(value)} is not an Azure VM size; write it like Standard_D4ds_v5")
    if value in TOO_SMALL_FOR_AKS:
        raise ValueError(f"{value} is too small for an AKS system node pool ({AKS_QUOTAS})")
    match = _VM_SIZE.match(value)
    if match and match["family"] == "B":
        raise ValueError(
            f"{value} is a B-series size, which AKS does not support for system node pools "
            f"({AKS_SYSTEM_POOLS}); pick e.g. Standard_D4ds_v5"
        )
    if match and not _LEGACY_SIZE_NUMBERING.match(value):
        vcpus = int(match["constrained"] or match["vcpus"])
        if vcpus < SYSTEM_POOL_MIN_VCPUS:
            raise ValueError(
                f"{value} has {vcpus} vCPUs; an AKS system node pool needs at least "
                f"{SYSTEM_POOL_MIN_VCPUS} vCPUs and 4 GB of memory ({AKS_SYSTEM_POOLS}); "
                "pick e.g. Standard_D4ds_v5"
            )
    return value


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)
MINUTES_PER_WEEK = 7 * 24 * 60


def quoted_clock(value: Any) -> Any:
    # YAML 1.1 (PyYAML, which the offline plan reads stack files with) turns an unquoted 22:00
    # into the sexagesimal number 1320; the Pulumi CLI's YAML 1.2 keeps it text. Quoting keeps
    # both readers on the same value.
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('must be quoted in YAML, e.g. "22:00" (unquoted, it reads as a number)')
    return value


def zone_names(value: Any) -> Any:
    # `availabilityZones: [1, 2, 3]` is the natural YAML; ARM takes the zone names as text (as
    # for the gateway's zones).
    if isinstance(value, list | tuple):
        return [
            str(zone) if isinstance(zone, int) and not isinstance(zone, bool) else zone
            for zone in value
        ]
    return value


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.I)
FIND_OBJECT_ID = (
    "find it with `az ad signed-in-user show --query id -o tsv` (yourself), "
    "`az ad sp show --id <appId> --query id -o tsv` (a service principal) or "
    "`az ad group show --group <name> --query id -o tsv` (a group)"
)


def entra_object_id(value: Any) -> Any:
    if not isinstance(value, str) or not _GUID.match(value):
        raise ValueError(f"{value!r} is not an Entra object ID (a GUID); {FIND_OBJECT_ID}")
    if value.strip("0-") == "":
        raise ValueError(f"{value!r} is the nil GUID, not a principal; {FIND_OBJECT_ID}")
    # Role assignment names derive from it: one spelling, whatever case the config uses.
    return value.lower()


ObjectId = Annotated[str, BeforeValidator(entra_object_id)]


class ConfigError(ValueError):
    """A problem with a named key; `key` is relative to the project namespace."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{PROJECT}:{printable_key(key)}: {problem}")
        self.key = key


class StackNameError(ValueError):
    """A stack name Azure cannot use in the names built from it; says the rule, not a key."""


def printable_key(key: str) -> str:
    """A key as a message shows it: as written, or JSON-quoted when it holds odd characters."""
    return key if key.isprintable() and key.strip() == key and key else json.dumps(key)


def dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{show(value)} is not a Kubernetes name; use lower-case letters, digits and '-', "
            "starting with a letter, at most 63 characters"
        )
    return value


def chart_reference(value: str) -> str:
    """The AGIC chart's OCI reference: Microsoft's registry or a mirror of it."""
    example = f"oci://myregistry.azurecr.io/charts/{agic_chart.NAME}"
    if not value.startswith("oci://"):
        # Only OCI registries: the preflight asks the registry's tags list (the OCI
        # distribution API) before anything changes, which a classic chart repository lacks.
        raise ValueError(f"{show(value)} is not an OCI chart reference; write it like {example}")
    found = _CHART.match(value)
    if found is None or (found.group(2) and not 0 < int(found.group(2)) < 65536):
        raise ValueError(
            f"{show(value)} is not an OCI chart reference (oci://REGISTRY[:PORT]/REPOSITORY with "
            f"a lower-case repository, no tag or digest: the version is agic.chartVersion); write "
            f"it like {example}"
        )
    # `helm push` puts a chart at <remote>/<the chart's own name> (helm pkg/pusher/ocipusher.go
    # push), so a mirror of the AGIC chart ends in its name; the program's object names come
    # from that name too (components/agic.py).
    if found.group(3).rsplit("/", 1)[-1] != agic_chart.NAME:
        raise ValueError(
            f"{show(value)} does not end in /{agic_chart.NAME}, the chart's name, where "
            f"`helm push` puts it; write it like {example}"
        )
    return value


def image_reference(value: str) -> str:
    if _IMAGE.match(value):
        return value
    if "@" in value and not _DIGEST.match(value.rsplit("@", 1)[1]):
        raise ValueError(
            f"'{value}' has a malformed digest; write IMAGE@sha256:<64 lower-case hex digits> "
            "or IMAGE:TAG@sha256:<64 lower-case hex digits>"
        )
    raise ValueError(
        f"'{value}' is not an image reference; write REGISTRY/NAME:TAG, "
        "optionally followed by @sha256:<64 lower-case hex digits>"
    )


def version_key(version: str) -> tuple[int, ...]:
    """A validated Kubernetes version as numbers, for ordering: "1.33.2" -> (1, 33, 2)."""
    return tuple(int(part) for part in version.split("."))

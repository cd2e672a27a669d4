"""The start of every Azure name, and the names AKS derives from it."""

from __future__ import annotations

import re

import pulumi

from config.limits import AKS_NAMING, NODE_RESOURCE_GROUP_MAX
from config.model import StackConfig
from config.values import COLORS, PROJECT, ConfigError, StackNameError, show

_NAME_PART = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def node_resource_group(prefix: str, color: str, location: str) -> str:
    """The name AKS gives the node resource group of the cluster `<prefix>-<color>`."""
    return f"MC_{prefix}-rg_{prefix}-{color}_{location}"


def resource_prefix(cfg: StackConfig, stack: str) -> str:
    """`<namePrefix>-<stack>`, the start of every Azure name; a StackNameError if Azure can't.

    Pulumi allows stack names AKS does not allow in a cluster name or DNS prefix (dots,
    underscores, capitals), and lengths its node resource group name cannot hold; ARM would
    refuse them only after the network and gateway exist.
    """
    if not _NAME_PART.match(stack):
        raise StackNameError(
            f"stack name {show(stack)} cannot be part of Azure resource names: use lower-case "
            "letters, digits and '-', starting and ending with a letter or digit (the AKS DNS "
            f"prefix built from it takes no '.' or '_', {AKS_NAMING})"
        )
    prefix = f"{cfg.name_prefix}-{stack}"
    longest = max((node_resource_group(prefix, color, cfg.location) for color in COLORS), key=len)
    excess = len(longest) - NODE_RESOURCE_GROUP_MAX
    if excess > 0:
        # The stack name appears twice in it: each character cut saves two.
        room = len(stack) - (excess + 1) // 2
        if room < 1:
            raise ConfigError(
                "namePrefix",
                f"{cfg.name_prefix!r} with location {cfg.location!r} leaves no room for a stack "
                f"name in {longest!r}, the node resource group AKS names (at most "
                f"{NODE_RESOURCE_GROUP_MAX} characters, {AKS_NAMING}); use a shorter namePrefix",
            )
        raise StackNameError(
            f"stack name {stack!r} is too long: AKS would name a node resource group "
            f"{longest!r}, {len(longest)} characters, and allows {NODE_RESOURCE_GROUP_MAX} "
            f"({AKS_NAMING}); use a stack name of at most {room} characters with namePrefix "
            f"{cfg.name_prefix!r} and location {cfg.location!r}, or a shorter "
            f"{PROJECT}:namePrefix"
        )
    return prefix


def load_prefix(cfg: StackConfig, stack: str) -> str:
    """The resource name prefix for this stack; a bad stack name stops the program."""
    try:
        return resource_prefix(cfg, stack)
    except (ConfigError, StackNameError) as err:
        raise pulumi.RunError(str(err)) from None

"""Reads a Pulumi stack file (`Pulumi.<stack>.yaml`) into the config map the CLI would pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from config import PROJECT


class StackFileError(Exception):
    pass


def read_config(path: Path, project: str = PROJECT) -> dict[str, Any]:
    """Fully qualified keys (`project:key`), values as in the file.

    A key without a namespace belongs to the project, as the CLI reads it. Encrypted values
    cannot be read without the stack's secrets provider, so they are refused by name.
    """
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such stack file") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: a stack file is a mapping with a 'config:' key")
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(f"{path}: 'config:' must be a mapping of keys to values")
    config: dict[str, Any] = {}
    for key, value in raw.items():
        qualified = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            raise StackFileError(
                f"{path}: {qualified} is encrypted; the offline plan cannot read secrets, "
                "and this program takes none"
            )
        config[qualified] = value
    return config

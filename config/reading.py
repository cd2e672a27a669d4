"""Reading the stack config as the Pulumi CLI hands it over, and the wording of its errors.

The CLI passes structured values as JSON text; pydantic's own messages name its classes and
patterns, so each is reworded to name the key and the fix. `load()` turns any problem into one
`pulumi.RunError`, which the language host prints without a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import UnionType
from typing import Any, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from config.model import StackConfig
from config.values import FIND_OBJECT_ID, PROJECT, ConfigError, show


def _is_structured(annotation: Any) -> bool:
    """An object or a list (optional or not): what Pulumi hands over as JSON text."""
    if get_origin(annotation) in (Union, UnionType):
        return any(_is_structured(a) for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) in (dict, list, tuple):
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_STRUCTURED = {
    to_camel(name) for name, f in StackConfig.model_fields.items() if _is_structured(f.annotation)
}
# The shape a structured key holds, for a message about one given as a string.
_SHAPES = {
    "workloads": "a list of apps, each a mapping (name, image, replicas, ...)",
    "clusters": "a mapping of blue and green to each cluster's settings",
    "breakGlass": "a mapping with unreachableCluster",
    "access": "a mapping with deployer.objectId",
}
CONFIG_KEYS: tuple[str, ...] = tuple(to_camel(k) for k in StackConfig.model_fields)
_KNOWN = set(StackConfig.model_fields) | set(CONFIG_KEYS)


def parse(raw: dict[str, Any]) -> StackConfig:
    """Validates raw config values (keys without the project prefix), or raises ConfigError."""
    unknown = sorted((key for key in raw if key not in _KNOWN), key=str)
    if unknown:
        known = ", ".join(sorted(CONFIG_KEYS))
        raise ConfigError(
            str(unknown[0]), f"unknown key; remove it or fix its spelling (known: {known})"
        )
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _STRUCTURED and isinstance(value, str):
            value = _structured(key, value)
        values[key] = value
    try:
        return StackConfig.model_validate(values)
    except ValidationError as err:
        raise _first_problem(err) from None


def _structured(key: str, text: str) -> Any:
    if not text.strip():
        # A key left empty in the stack file: the CLI passes it as an empty string.
        raise ConfigError(key, "has no value; give it one, or remove the line to use the defaults")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        # The decoder's wording ("Extra data", "Expecting value") describes JSON, which the
        # user never wrote: say what the key holds instead.
        raise ConfigError(
            key,
            f"is text, but it holds {_SHAPES.get(key, 'a mapping of keys to values')}; write it "
            f"as YAML under {key}: (see Pulumi.blue.yaml), not as a quoted string",
        ) from None
    except RecursionError:
        raise ConfigError(key, "nests too deep to be config") from None


# pydantic's own wording names its classes, patterns and types; users get these instead.
_TYPE_PROBLEMS = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_parsing_size": "must be a whole number",
    "int_from_float": "must be a whole number",
    "finite_number": "must be a whole number",
    "string_too_short": "must not be empty",
}


# Required keys whose absence deserves more than "add it".
_MISSING = {
    "access": "is required; add access.deployer.objectId, the Entra principal that runs "
    f"`pulumi up` (it becomes cluster admin; local accounts are disabled); {FIND_OBJECT_ID}",
    "access.deployer": "is required; add deployer.objectId, the Entra principal that runs "
    f"`pulumi up`; {FIND_OBJECT_ID}",
}


def _first_problem(err: ValidationError) -> ConfigError:
    problem = err.errors()[0]
    kind = problem["type"]
    key = _key_of(problem["loc"], raw_last=kind == "extra_forbidden")
    ctx = problem.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, ConfigError):
        return error
    value = problem.get("input")
    shown = show(value)
    if kind == "missing":
        message = _MISSING.get(key, "is required; add it")
    elif kind == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif value is None:
        message = "has no value; give it one, or remove the line to use the default"
    elif kind in {"value_error", "assertion_error"}:
        message = str(ctx.get("error") or problem["msg"]).removeprefix("Value error, ")
    elif kind == "string_type":
        message = f'{shown} must be text; quote it in YAML ("1.30" stays 1.30, not 1.3)'
    elif kind in _TYPE_PROBLEMS:
        message = f"{shown} {_TYPE_PROBLEMS[kind]}"
    elif kind == "too_short":
        message = f"must have at least {ctx.get('min_length', 1)} entry"
    elif kind == "literal_error":
        message = f"{shown} is not allowed; use {ctx.get('expected', 'a documented value')}"
    elif kind in {"greater_than_equal", "greater_than"}:
        message = f"{shown} is below the minimum of {ctx.get('ge', ctx.get('gt'))}"
    elif kind in {"less_than_equal", "less_than"}:
        message = f"{shown} is above the maximum of {ctx.get('le', ctx.get('lt'))}"
    else:
        message = f"{shown} is not a valid value here; see Pulumi.yaml for what it takes"
    return ConfigError(key, message)


def _key_of(loc: tuple[int | str, ...], raw_last: bool = False) -> str:
    """The config key of a pydantic location; an unknown key is shown as the user wrote it."""
    key = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            key += f"[{part}]"
            continue
        name = str(part) if raw_last and index == len(loc) - 1 else to_camel(str(part))
        key += ("." if key else "") + name
    return key


def own_keys(qualified: Mapping[str, Any]) -> dict[str, Any]:
    """The project's own values of fully qualified config (`aks-bluegreen:<key>`), keyed without
    the prefix; other namespaces belong to their provider or project."""
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): v for key, v in qualified.items() if key.startswith(prefix)}


def parse_qualified(qualified: Mapping[str, Any]) -> StackConfig:
    """Validates fully qualified config, as a stack file or the CLI keys it."""
    return parse(own_keys(qualified))


def _raw_project_config() -> dict[str, Any]:
    """Every value set under the project's namespace, whether the CLI passed it or a test did."""
    merged = dict(pulumi.runtime.get_config_env())
    merged.update(pulumi.runtime.config.CONFIG.get())
    return own_keys(merged)


def load() -> StackConfig:
    """Reads and validates the stack config; any problem stops the program with one message."""
    try:
        return parse(_raw_project_config())
    except ConfigError as err:
        raise pulumi.RunError(str(err)) from None

"""The configuration reference, generated from the config model as terraform-docs does.

    .venv/bin/python -m scripts.config_reference           # rewrite both files
    .venv/bin/python -m scripts.config_reference --check   # exit 1 when either is out of date

Writes docs/configuration.md (every key with its type, default, limits and description) and the
`config:` section of Pulumi.yaml (each top-level key's description and its sub-keys' defaults).
Both come from config/model.py, where each field's docstring is its description, so a default is
written once; tests/test_config_reference.py fails when either file differs from what this makes.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Le, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.model import StackConfig
from config.values import PROJECT, Within, entra_object_id

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "configuration.md"
PROJECT_FILE = ROOT / "Pulumi.yaml"
COMMAND = "python -m scripts.config_reference"


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    limits: str
    description: str
    depth: int


def rows() -> list[Row]:
    """Every key of the stack config, depth first, in the model's order."""
    return list(_walk(StackConfig, "", None, 0))


def _walk(
    model: type[BaseModel], prefix: str, instances: Mapping[str, Any] | None, depth: int
) -> Iterator[Row]:
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        if not info.description:
            raise SystemExit(f"{model.__name__}.{name} has no docstring: describe it in config/")
        found = {label: getattr(i, name) for label, i in (instances or {}).items()}
        found = {label: value for label, value in found.items() if value is not None}
        default = _default(info, found, prefix.rstrip(".") if instances is not None else None)
        yield Row(
            key,
            _type(info.annotation, info.metadata),
            default,
            _limits(info.metadata),
            " ".join(info.description.split()),
            depth,
        )
        inner, shape = _nested(info.annotation)
        if inner is None:
            continue
        if shape == "map":
            labels = get_args(get_args(_unoptional(info.annotation))[0])
            values = found.get("") if "" in found else info.get_default(call_default_factory=True)
            children = {str(label): values[label] for label in labels} if values else None
            yield from _walk(inner, f"{key}.<{'|'.join(labels)}>.", children, depth + 1)
        elif shape == "list":
            yield from _walk(inner, f"{key}[].", None, depth + 1)
        else:
            own = info.get_default(call_default_factory=True) if not info.is_required() else None
            children = found or ({"": own} if own is not None else None)
            yield from _walk(inner, f"{key}.", children, depth + 1)


def _default(info: FieldInfo, found: Mapping[str, Any], parent: str | None) -> str:
    """The default as a stack file would write it; `parent` is the key of a defaulted parent."""
    inner, shape = _nested(info.annotation)
    if inner is not None and shape != "list":
        if found or not info.is_required():
            return "unset" if info.default is None and not found else ""
        return "required"
    if parent is not None and found:
        shown = {label: _show(value) for label, value in found.items()}
        text = (
            next(iter(shown.values()))
            if len(set(shown.values())) == 1
            else ", ".join(f"{label}: {value}" for label, value in shown.items())
        )
        return f"{text}; required if `{parent}` is written" if info.is_required() else text
    if info.is_required():
        return "required"
    return _show(info.get_default(call_default_factory=True))


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, tuple | list):
        items = [
            v.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            if isinstance(v, BaseModel)
            else v
            for v in value
        ]
        return f"`{json.dumps(items)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _unoptional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        [inner] = [a for a in get_args(annotation) if a is not type(None)]
        return inner
    return annotation


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, str]:
    """The model a field holds, and how: one (`object`), per label (`map`) or a list."""
    annotation = _unoptional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "object"
    args = get_args(annotation)
    if get_origin(annotation) is dict and _is_model(args[1]):
        return args[1], "map"
    if get_origin(annotation) is tuple and args and _is_model(args[0]):
        return args[0], "list"
    return None, ""


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_SCALARS = {
    bool: "boolean",
    int: "integer",
    str: "text",
    IPv4Network: "IPv4 range",
    IPv4Address: "IPv4 address",
}


def _type(annotation: Any, metadata: list[Any]) -> str:
    if any(getattr(m, "func", None) is entra_object_id for m in metadata):
        return "Entra object ID (a GUID)"
    annotation = _unoptional(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type(args[0], list(args[1:]))
    if origin is Literal:
        choices = [f"`{a}`" for a in args]
        return " or ".join(choices) if len(choices) <= 3 else "one of " + ", ".join(choices)
    if origin is tuple:
        return f"list of {_type(args[0], [])}"
    if origin is dict:
        return "object: " + " and ".join(f"`{label}`" for label in get_args(args[0]))
    if _is_model(annotation):
        return "object"
    return _SCALARS[annotation]


def _limits(metadata: list[Any]) -> str:
    found = []
    low = next((m.ge for m in metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        found.append(f"{low} to {high}")
    for m in metadata:
        check = getattr(m, "func", None)
        if isinstance(check, Within):
            source = f" ({check.source})" if check.source else ""
            found.append(f"{check.low} to {check.high}{source}")
        elif isinstance(m, MinLen):
            found.append(f"at least {m.min_length} item")
        elif getattr(m, "pattern", None):
            found.append(f"matches `{m.pattern}`")
    return "; ".join(found)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference() -> str:
    """docs/configuration.md."""
    out = [
        "# Configuration reference",
        "",
        f"<!-- Generated by `{COMMAND}` from config/model.py; edit the field docstrings there. -->",
        "",
        f"Every key of the `{PROJECT}` namespace, as the stack file spells it "
        f"(`{PROJECT}:gateway:` with `sku: WAF_v2` under it). Defaults reproduce the runbook; "
        "a key marked required has no default, within the object that holds it. `<blue|green>` "
        "stands for each cluster, `[]` for each item of a list. What the config refuses across "
        "keys is in [validation](validation.md), the clusters' settings and why in "
        "[the clusters](clusters.md).",
    ]
    for row in rows():
        if row.depth == 0:
            out += ["", f"## `{row.key}`", ""]
            out += ["| key | type | default | limits | description |", "|---|---|---|---|---|"]
        cells = (f"`{row.key}`", row.type, row.default, row.limits, row.description)
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


def _summary(top: Row, children: list[Row]) -> str:
    direct = [c for c in children if c.depth == top.depth + 1]
    parts = []
    for child in direct:
        name = child.key.rsplit(".", 1)[-1].removeprefix("[]")
        name = child.key.split("[].", 1)[1] if "[]." in child.key else name
        default = child.default.replace("`", "").split("; required")[0]
        parts.append(f"{name} ({default})" if default else name)
    return f" Keys: {', '.join(parts)}." if parts else ""


def project_config() -> str:
    """The `config:` section of Pulumi.yaml: what `pulumi config` shows for each key."""
    all_rows = rows()
    out = ["config:"]
    optional: list[str] = []
    for i, top in enumerate(all_rows):
        if top.depth:
            continue
        children = []
        for row in all_rows[i + 1 :]:
            if row.depth == 0:
                break
            children.append(row)
        info = StackConfig.model_fields[_field_name(top.key)]
        declared = _project_type(info.annotation)
        text = f"{top.description}{_summary(top, children)}"
        if top.default == "required":
            text += " Required."
        elif not children:
            text += f" Default: {top.default.replace('`', '')}."
        text += f" (docs/configuration.md#{top.key.lower()})"
        if top.default != "required":
            optional.append(f"#   {top.key}: {text}")
            continue
        out.append(f"  {top.key}:")
        if declared:
            out.append(f"    type: {declared}")
        out.append(f"    description: {json.dumps(text, ensure_ascii=False)}")
    # The Pulumi CLI requires every key the project declares without a default (pkg/v3/workspace/
    # config.go ValidateStackConfigAndApplyProjectConfig: "Stack ... is missing configuration
    # values"), and a default there would be applied by the CLI but not by the offline plan; so
    # only the required keys are declared and the optional ones are described here.
    out.append("# Optional keys (each defaults in config/model.py):")
    out += optional
    return "\n".join(out) + "\n"


def _field_name(alias: str) -> str:
    [name] = [n for n, f in StackConfig.model_fields.items() if (f.alias or n) == alias]
    return name


def _project_type(annotation: Any) -> str | None:
    """The types the Pulumi CLI declares; objects and lists stay untyped (they arrive as JSON)."""
    annotation = _unoptional(annotation)
    if get_origin(annotation) is Literal:
        return "string"
    return {str: "string", int: "integer", bool: "boolean"}.get(annotation)


def project_file(current: str) -> str:
    """Pulumi.yaml with its `config:` section regenerated; the rest as written."""
    head, found, _ = current.partition("\nconfig:\n")
    if not found:
        raise SystemExit("Pulumi.yaml has no top-level `config:` section to regenerate")
    return head + "\n" + project_config()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    check = parser.parse_args(argv).check
    wanted = {
        REFERENCE: reference(),
        PROJECT_FILE: project_file(PROJECT_FILE.read_text(encoding="utf-8")),
    }
    stale = [p for p, text in wanted.items() if p.read_text(encoding="utf-8") != text]
    if check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date: run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path], encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

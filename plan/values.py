"""The old and new value of each property a step changes, as a reviewer reads them.

Values are shown short: a long one (an image digest, a JSON document) keeps the part around
where old and new first differ. A value the program marked secret is never shown: the
evaluation records the path of every secret input (plan/evaluate.py), and a path at, above or
below one is masked.
"""

from __future__ import annotations

import json
from typing import Any

from plan.evaluate import Registration

MASK = "[secret]"
ABSENT = "(none)"
_WIDTH = 44
# A reference without a digest (a chart, a host, a resource path) is read whole where it fits a
# line: which registry or path it moved to is the change. JSON, quoted text and digests are cut
# around where they differ.
_REFERENCE_WIDTH = 100
_MISSING = object()


def value_at(inputs: Any, path: str) -> Any:
    """The value at a dotted path as plan.diff.changed_paths writes it (`a.b[0].c`); keys that
    hold dots themselves (`kubernetes.io/ingress.class`) are matched whole, longest first."""
    node, rest = inputs, path
    while rest:
        if rest.startswith("["):
            index, _, rest = rest[1:].partition("]")
            rest = rest.removeprefix(".")
            if not isinstance(node, list) or not index.isdigit() or int(index) >= len(node):
                return _MISSING
            node = node[int(index)]
            continue
        if not isinstance(node, dict):
            return _MISSING
        keys = [
            key
            for key in node
            if isinstance(key, str) and (rest == key or rest.startswith((f"{key}.", f"{key}[")))
        ]
        if not keys:
            return _MISSING
        key = max(keys, key=len)
        node, rest = node[key], rest[len(key) :].removeprefix(".")
    return node


def _secret(path: str, secrets: frozenset[str]) -> bool:
    return any(
        path == secret
        or path.startswith((f"{secret}.", f"{secret}["))
        or secret.startswith((f"{path}.", f"{path}["))
        for secret in secrets
    )


def _text(value: Any) -> str:
    if value is _MISSING or value is None:
        return ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # Quoted when it is empty or holds spaces, so where a value ends stays clear.
        return value if value and not any(c.isspace() for c in value) else json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        # The wire carries every number as a double: 3 arrives as 3.0.
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def shorten_pair(old: str, new: str, width: int = _WIDTH) -> tuple[str, str]:
    """Both texts cut to about `width` characters around where they first differ."""
    if len(old) <= width and len(new) <= width:
        return old, new
    common = 0
    while common < min(len(old), len(new)) and old[common] == new[common]:
        common += 1
    start = max(0, common - width // 2)
    return _window(old, start, width), _window(new, start, width)


def _window(text: str, start: int, width: int) -> str:
    if len(text) <= width:
        return text
    # The same start on both sides, so old and new line up where they differ.
    cut = text[start : start + width]
    return ("..." if start else "") + cut + ("..." if start + width < len(text) else "")


def changes(before: Registration, after: Registration, paths: tuple[str, ...]) -> list[str]:
    """`path old -> new` for each changed path, secrets masked."""
    secrets = before.secret_inputs | after.secret_inputs
    lines = []
    for path in paths:
        if _secret(path, secrets):
            lines.append(f"{path} {MASK} -> {MASK}")
            continue
        old, new = _text(value_at(before.inputs, path)), _text(value_at(after.inputs, path))
        whole = not any(t.startswith(("{", "[", '"')) or "@sha256:" in t for t in (old, new))
        old, new = shorten_pair(old, new, _REFERENCE_WIDTH if whole else _WIDTH)
        lines.append(f"{path} {old} -> {new}")
    return lines

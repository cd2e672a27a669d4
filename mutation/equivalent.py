"""Mutants that cannot change what the program does, and why.

Two kinds. Mutants inside type annotations are equivalent by construction: every target module
starts with `from __future__ import annotations`, so annotations are strings Python never
evaluates (PEP 563), and `str | None` turned into `str + None` changes nothing at run time. They
are not run at all. The others were run, survived, and were read one by one: each is listed here
with the reason it is equivalent, matched by module, operator, and the exact source line before
and after the mutation, so an edit of that line makes the mutant count as a survivor again until
it is read anew.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Equivalent:
    module: str
    operator: str
    line: str
    mutated: str
    why: str


_ABOVE_EVERY_ADDRESS = (
    "any number above the largest IPv6 address (2**128 - 1) sorts names after every address"
)

_LITERAL_IDENTITY = (
    "both sides are values of a Literal field, and pydantic-core's Literal validation returns "
    "the literal's own string, the very object the code compares with: identity and equality "
    "agree for every value the model admits"
)

# Operator names are cosmic-ray's (`cosmic-ray operators`), without the "core/" prefix.
EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_Is",
        "if color == cfg.active:",
        "if color is cfg.active:",
        _LITERAL_IDENTITY,
    ),
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_Is",
        'if cluster.os_disk_type == "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        'if cluster.os_disk_type is "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        _LITERAL_IDENTITY,
    ),
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_LtE",
        'if cluster.os_disk_type == "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        'if cluster.os_disk_type <= "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        "osDiskType is Literal['Ephemeral', 'Managed'] and 'Managed' sorts after 'Ephemeral': "
        "<= holds for 'Ephemeral' only, as == does",
    ),
    Equivalent(
        "config/rules.py",
        "NumberReplacer",
        "if version_key(version)[:2] < SLEEP_ACTION_SINCE:",
        "if version_key(version)[: 3] < SLEEP_ACTION_SINCE:",
        "a version has at most three parts, and a three-part key sorts below (1, 30) exactly "
        "when its first two do (a longer tuple with an equal start sorts after it): the patch "
        "never moves a version across the floor",
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        'return resource_id.rstrip("/").rsplit("/", 1)[-1]',
        'return resource_id.rstrip("/").rsplit("/", 2)[-1]',
        "the last piece of a right split is the text after the last '/' for any maxsplit of 1 "
        "or more",
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        "return (1 << 128, address)",
        "return ( 2 << 128, address)",
        _ABOVE_EVERY_ADDRESS,
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        "return (1 << 128, address)",
        "return (1 << 129, address)",
        _ABOVE_EVERY_ADDRESS,
    ),
    Equivalent(
        "components/agic.py",
        "ReplaceComparisonOperator_Eq_Is",
        "if color == args.unreachable",
        "if color is args.unreachable",
        "the unreachable color comes from the config model, whose Literal validation returns the "
        "literal's own string (pydantic-core), the very object COLORS holds: identity and "
        "equality agree for every value the program can pass",
    ),
    Equivalent(
        "components/agic.py",
        "ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        "harmless: the arguments are built once in __main__.py and never assigned to; frozen "
        "only keeps later code from doing so",
    ),
)


def reason(module: str, operator: str, source_line: str, mutated_line: str) -> str | None:
    """Why the mutant `operator` turning `source_line` of `module` into `mutated_line` is
    equivalent, if it was read so."""
    name = operator.removeprefix("core/")
    found = (module, name, source_line.strip(), mutated_line.strip())
    for known in EQUIVALENTS:
        if (known.module, known.operator, known.line, known.mutated) == found:
            return known.why
    return None


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, as (line, column), of every annotation in the module at `path`."""
    tree = ast.parse(path.read_text(), str(path))
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not postponed:  # evaluated annotations are code like any other
        return []
    annotations: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
    return [
        ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
        for a in annotations
    ]


def in_annotation(
    spans: list[tuple[tuple[int, int], tuple[int, int]]],
    start: tuple[int, int],
    end: tuple[int, int],
) -> bool:
    return any(first <= tuple(start) and tuple(end) <= last for first, last in spans)

"""The mutation run's own tables: every target and test file exists and the tests exercise the
module they judge; mutants in annotations are recognised as never run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT
from mutation.equivalent import EQUIVALENTS, annotation_spans, in_annotation, reason
from mutation.targets import TARGETS, chosen


@pytest.mark.parametrize("target", TARGETS, ids=[t.module for t in TARGETS])
def test_each_target_is_judged_by_test_files_that_import_it(target) -> None:
    module = target.module.removesuffix(".py").replace("/", ".")
    # The module itself, or the package whose entry point runs it (`import config`).
    accepted = {module, module.rsplit(".", 1)[0]}
    assert (ROOT / target.module).is_file()
    for test in target.tests:
        tree = ast.parse((ROOT / test).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert accepted & imported, f"{test} does not import {module}"


def test_targets_are_chosen_by_path_or_file_name_and_unknown_ones_refused() -> None:
    assert chosen([]) == list(TARGETS)
    assert [t.module for t in chosen(["serving.py", "live_gateway/serving.py"])] == [
        "live_gateway/serving.py"
    ]
    with pytest.raises(
        SystemExit, match=re.escape("'render.py' is not a mutation target; the targets: ")
    ):
        chosen(["render.py"])


def test_every_listed_equivalent_mutant_names_a_line_that_exists() -> None:
    for known in EQUIVALENTS:
        lines = {line.strip() for line in (ROOT / known.module).read_text().splitlines()}
        assert known.line in lines, known
        assert known.mutated != known.line
        found = reason(known.module, f"core/{known.operator}", f"    {known.line}", known.mutated)
        assert found == known.why
        assert reason(known.module, f"core/{known.operator}", known.line, known.line) is None


def test_annotations_are_found_only_where_python_never_evaluates_them(tmp_path: Path) -> None:
    source = (
        "from __future__ import annotations\n"
        "def f(a: int | None, b=1 | 2) -> str | None:\n"
        "    x: list[int] | None = [1 | 2]\n"
        "    return None\n"
    )
    module = tmp_path / "m.py"
    module.write_text(source)
    spans = annotation_spans(module)
    assert in_annotation(spans, (2, 9), (2, 19))  # int | None
    assert in_annotation(spans, (2, 33), (2, 43))  # -> str | None
    assert in_annotation(spans, (3, 7), (3, 22))  # list[int] | None
    assert not in_annotation(spans, (2, 23), (2, 28))  # the default 1 | 2 runs
    assert not in_annotation(spans, (3, 26), (3, 31))  # so does the value
    module.write_text(source.replace("from __future__ import annotations\n", "\n"))
    assert annotation_spans(module) == []  # evaluated annotations are code like any other

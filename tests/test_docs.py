"""The README and docs/ link to each other by file and heading; every link lands somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but `-` dropped, spaces as `-`."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    headings = re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _local_links(page: Path) -> list[str]:
    prose = re.sub(r"```.*?```|`[^`\n]*`", "", page.read_text(), flags=re.DOTALL)
    return [t for t in _LINK.findall(prose) if not re.match(r"[a-z]+://", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_local_link_names_an_existing_page_and_heading(page: Path) -> None:
    for target in _local_links(page):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.is_file(), f"{page.name}: {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: {target}: no such heading"


def test_readme_lists_every_page_of_docs() -> None:
    listed = {Path(t).name for t in _local_links(ROOT / "README.md") if t.startswith("docs/")}
    assert {p.name for p in (ROOT / "docs").glob("*.md")} <= listed

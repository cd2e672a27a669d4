"""Offline catalogs of what Azure, AKS and the AGIC chart offer: one fact per module.

Each module carries `TAKEN` (the day its values were read) and `SOURCE` (where from), and says
where a value could not be confirmed. The config refuses what a catalog says cannot exist;
what only a subscription knows (region versions, restricted sizes, feature registrations) is
asked live during `pulumi preview` and `up` (live_gateway/preflight.py). `scripts/
refresh_catalogs.py` rewrites them from their public sources; docs/catalogs.md says how.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(value: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """The valid values closest to a mistyped one, best first ("northeurop" -> northeurope)."""
    options = list(choices)
    by_case = {option.lower(): option for option in options}
    found = difflib.get_close_matches(value.lower(), list(by_case), n=count, cutoff=0.6)
    return [by_case[match] for match in found]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """`did you mean X or Y?` for a message, or nothing when no valid value is close."""
    close = nearest(value, choices)
    return f"did you mean {' or '.join(close)}? " if close else ""

"""Entry point of `pulumi preview --policy-pack policies`: serves the pack to the engine.

The CLI runs this directory as a script, so `policies` is not importable as a package yet; its
parent directory is put on the path so the modules import the same way the offline plan and the
tests import them.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from pulumi_policy import PolicyPack  # noqa: E402

from policies.pack import DESCRIPTION, ENFORCEMENT_LEVEL, NAME, POLICIES  # noqa: E402

PolicyPack(
    name=NAME,
    policies=list(POLICIES),
    enforcement_level=ENFORCEMENT_LEVEL,
    description=DESCRIPTION,
)

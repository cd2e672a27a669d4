"""Whether the revert of a change would be accepted: the plan's own checks, run head -> base.

Every accepted change must be revertible (DESIGN.md, "Safety invariants", 3): reverting the pull
request makes the base the config and the head the last deployment, so the transition rules run
with the two swapped, and the mandatory policies run on the base.
"""

from __future__ import annotations

from config import transition
from plan.policy_check import Violation, mandatory


def revert_refusals(
    base_facts: transition.DeployedFacts,
    head_facts: transition.DeployedFacts,
    base_violations: list[Violation] | None,
) -> list[str]:
    """Why the revert would be refused; empty when it is accepted. `base_violations` are the
    pack's on the base's evaluation, None when the pack did not run."""
    found = [str(err) for err in transition.refusals(head_facts, base_facts)]
    found += [f"{v.policy}: {v.message}" for v in mandatory(base_violations or [])]
    return found

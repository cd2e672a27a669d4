"""What is mutated, and which tests judge each module's mutants.

Each mutant runs only the test files that exercise its module: the whole suite per mutant would
take hours on two cores, and a test file that never imports the module cannot kill its mutants.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    module: str
    tests: tuple[str, ...]


TARGETS: tuple[Target, ...] = (
    # The live judge: whether `pulumi up` may say the gateway serves the new cluster.
    Target("live_gateway/serving.py", ("tests/test_serving.py",)),
    # The bounded wait around the judge, and the retries of the retire guard's read.
    Target("live_gateway/waiting.py", ("tests/test_waiting.py",)),
    # The one AGIC release: its chart values, options, and the names it derives.
    Target("components/agic.py", ("tests/test_agic_release.py",)),
    # The config's cross-key rules, by the tests that parse configs without evaluating the program.
    Target("config/rules.py", ("tests/test_config_boundaries.py", "tests/test_aks_limits.py")),
    # What a deployed stack may become, by the rules called on the facts of parsed configs.
    Target("config/transition.py", ("tests/test_transition_rules.py",)),
    # What the engine would do between two evaluations, on hand-built registrations.
    Target("plan/diff.py", ("tests/test_plan_diff.py",)),
    # The safety invariants judged on that diff, on hand-built evaluations of parsed configs.
    Target("plan/verdict.py", ("tests/test_plan_verdict.py",)),
)


def chosen(names: list[str]) -> list[Target]:
    """The targets named on the command line (a module path or its file name), or all of them."""
    if not names:
        return list(TARGETS)
    picked: list[Target] = []
    for name in names:
        match = [t for t in TARGETS if name in (t.module, t.module.rsplit("/", 1)[-1])]
        if not match:
            known = ", ".join(t.module for t in TARGETS)
            raise SystemExit(f"bin/mutate: '{name}' is not a mutation target; the targets: {known}")
        picked.extend(t for t in match if t not in picked)
    return picked

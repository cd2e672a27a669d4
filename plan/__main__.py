"""`python -m plan [BASE] [HEAD]`: what changing a stack's config from BASE to HEAD would do.

Both configs run through the real program under Pulumi's mocks; no cloud, no credentials and no
Pulumi CLI are needed, so it also serves pull requests from forks. Exit status: 0 the change is
acceptable, 1 a mandatory policy or a transition rule refuses it, 2 a config is invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import config
import transition
from plan.diff import diff
from plan.evaluate import PROGRAM_DIR, ProgramError, evaluate_both
from plan.policy_check import check, mandatory
from plan.render import PlanReport, render
from plan.stack_file import StackFileError, read_config

EXIT_REFUSED = 1
EXIT_INVALID = 2


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return "plan"


def _parse(path: Path, raw: dict[str, object]) -> config.StackConfig:
    prefix = f"{config.PROJECT}:"
    own = {k.removeprefix(prefix): v for k, v in raw.items() if k.startswith(prefix)}
    try:
        return config.parse(own)
    except config.ConfigError as err:
        raise ProgramError(f"{path}: {err}") from None


def _prefix(path: Path, cfg: config.StackConfig, stack: str) -> str:
    try:
        return config.resource_prefix(cfg, stack)
    except config.ConfigError as err:
        raise ProgramError(f"{path}: {err}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", type=Path, default=PROGRAM_DIR / "Pulumi.blue.yaml")
    parser.add_argument("head", nargs="?", type=Path, default=PROGRAM_DIR / "Pulumi.green.yaml")
    parser.add_argument(
        "--stack", help="stack name both configs are evaluated as (default: HEAD's)"
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="JSON policy config, as `pulumi preview --policy-pack-config` takes it",
    )
    args = parser.parse_args(argv)
    stack = args.stack or _stack_name(args.head)

    try:
        raw_base, raw_head = read_config(args.base), read_config(args.head)
        base_cfg, head_cfg = _parse(args.base, raw_base), _parse(args.head, raw_head)
        base_facts = transition.facts_of(base_cfg, _prefix(args.base, base_cfg, stack))
        head_facts = transition.facts_of(head_cfg, _prefix(args.head, head_cfg, stack))
        # The rules the program applies through its reference to its own stack, applied here to
        # the base as the last deployment. A refused head is still evaluated, as a first
        # deployment would be, so the plan shows what it would have done.
        refusals = [f"refused: {err}" for err in transition.refusals(base_facts, head_facts)]
        previous = None if refusals else {transition.OUTPUT: base_facts.to_output()}
        base, head = evaluate_both(raw_base, raw_head, stack, head_previous=previous)
    except (StackFileError, ProgramError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID

    policy_lines: list[str] = []
    refused_by_policy = 0
    if not args.no_policies:
        try:
            policy_config = (
                json.loads(args.policy_config.read_text()) if args.policy_config else None
            )
            violations = check(head, policy_config)
        except (OSError, ValueError) as err:
            print(f"error: --policy-config {args.policy_config}: {err}", file=sys.stderr)
            return EXIT_INVALID
        for violation in violations:
            policy_lines.append(
                f"{violation.enforcement_level}: {violation.policy}: {violation.message}"
                + (f" ({violation.urn.rsplit('::', 1)[-1]})" if violation.urn else "")
            )
        refused_by_policy = len(mandatory(violations))

    plan = diff(base, head)
    report = PlanReport(
        base_label=os.path.relpath(args.base),
        head_label=os.path.relpath(args.head),
        stack=stack,
        base_active=base_cfg.active,
        head_active=head_cfg.active,
        plan=plan,
        policy_lines=tuple(policy_lines),
        policies_ran=not args.no_policies,
        arm_targets=tuple(head.engine_urn(urn) for urn in plan.arming),
    )
    sys.stdout.write(render(report, args.format))
    for refusal in refusals:
        print(refusal, file=sys.stderr)
    if refused_by_policy:
        print(
            f"refused: {refused_by_policy} mandatory policy violation(s), listed above",
            file=sys.stderr,
        )
    return EXIT_REFUSED if refusals or refused_by_policy else 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m plan [BASE] [HEAD]`: what changing a stack's config from BASE to HEAD would do.

Both configs run through the real program under Pulumi's mocks; no cloud, no credentials and no
Pulumi CLI are needed, so it also serves pull requests from forks. Exit status: 0 the change is
acceptable, 1 a mandatory policy or a transition rule refuses it, 2 a stack file, its config or
the stack name is invalid, 3 the plan itself failed (a bug: the traceback says where).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

import config
from config import support_window, transition
from config.stack_file import StackFile, StackFileError, read_stack_file
from plan.diff import diff
from plan.evaluate import PROGRAM_DIR, ProgramError, as_config_text, evaluate_both
from plan.policy_check import check, mandatory
from plan.render import PlanReport, render

EXIT_REFUSED = 1
EXIT_INVALID = 2
EXIT_FAILED = 3


def _stack_name(path: Path) -> str:
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return "plan"


def _parse(stack_file: StackFile) -> config.StackConfig:
    """The config the program would see: every value as the text the CLI passes."""
    own = {key: as_config_text(value) for key, value in config.own_keys(stack_file.config).items()}
    try:
        return config.parse(own)
    except config.ConfigError as err:
        raise ProgramError(f"{stack_file.path}: {err}") from None


def _prefixes(label: str, stack: str, configs: dict[Path, config.StackConfig]) -> dict[Path, str]:
    """Each config's resource name prefix; the names built from the stack name are checked
    before anything is evaluated, and a bad stack name is reported against `label`."""
    prefixes: dict[Path, str] = {}
    for path, cfg in configs.items():
        try:
            prefixes[path] = config.resource_prefix(cfg, stack)
        except config.StackNameError as err:
            raise ProgramError(f"{label}: {err}") from None
        except config.ConfigError as err:
            raise ProgramError(f"{path}: {err}") from None
    return prefixes


def _note_foreign_keys(stack_file: StackFile) -> None:
    if stack_file.foreign_keys:
        keys = ", ".join(config.printable_key(key) for key in stack_file.foreign_keys)
        print(
            f"note: {stack_file.path}: ignored {keys}: this program reads only "
            f"{config.PROJECT}:<key> (the Pulumi CLI hands other namespaces to their own "
            "provider or project)",
            file=sys.stderr,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plan", description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", type=Path)
    parser.add_argument("head", nargs="?", type=Path)
    parser.add_argument(
        "--stack", help="stack name both configs are evaluated as (default: HEAD's)"
    )
    parser.add_argument(
        "--new-stack",
        action="store_true",
        help="judge the one stack file given as a new stack's first deployment",
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy pack")
    parser.add_argument(
        "--policy-config",
        type=Path,
        help="JSON policy config, as `pulumi preview --policy-pack-config` takes it",
    )
    args = parser.parse_args(argv)
    if args.new_stack:
        # One file: the stack that does not exist yet is judged against nothing.
        args.head = args.head or args.base or PROGRAM_DIR / "Pulumi.blue.yaml"
        args.base = args.head
    args.base = args.base or PROGRAM_DIR / "Pulumi.blue.yaml"
    args.head = args.head or PROGRAM_DIR / "Pulumi.green.yaml"
    stack = args.stack or _stack_name(args.head)

    # Without --stack the stack is named after the head file, so that file is what to rename.
    stack_label = (
        f"--stack {config.printable_key(stack)}"
        if args.stack
        else f"{args.head} (its name gives the stack name; --stack sets another)"
    )
    try:
        base_file, head_file = read_stack_file(args.base), read_stack_file(args.head)
        for stack_file in {f.path: f for f in (base_file, head_file)}.values():
            _note_foreign_keys(stack_file)
        base_cfg, head_cfg = _parse(base_file), _parse(head_file)
        prefixes = _prefixes(stack_label, stack, {args.base: base_cfg, args.head: head_cfg})
        base_facts = transition.facts_of(base_cfg, prefixes[args.base])
        head_facts = transition.facts_of(head_cfg, prefixes[args.head])
        # The rules the program applies through its reference to its own stack, applied here to
        # the base as the last deployment. A refused head is still evaluated, as a first
        # deployment would be, so the plan shows what it would have done.
        deployed = None if args.new_stack else base_facts
        refusals = [
            f"refused: {err}"
            for err in (transition.refusals(deployed, head_facts) if deployed else [])
        ]
        # Whether each cluster's minor is inside AKS's support window today, judged as the
        # program judges it: a cluster the base does not run is created.
        window = support_window.judge(head_cfg, deployed, datetime.now(UTC).date())
        refusals += [f"refused: {err}" for err in window.refusals]
        # The program refuses the same things itself; the plan has judged them, so it evaluates
        # a refused head as already deployed, and the base as the deployment it is.
        previous = head_facts if refusals or deployed is None else base_facts
        base, head = evaluate_both(
            base_file.config,
            head_file.config,
            stack,
            head_previous={transition.OUTPUT: previous.to_output()},
            base_previous={transition.OUTPUT: base_facts.to_output()},
        )
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
    for warning in window.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for refusal in refusals:
        print(refusal, file=sys.stderr)
    if refused_by_policy:
        print(
            f"refused: {refused_by_policy} mandatory policy violation(s), listed above",
            file=sys.stderr,
        )
    return EXIT_REFUSED if refusals or refused_by_policy else 0


def run(argv: list[str] | None = None) -> int:
    """`main`, with a failure of the plan itself kept apart from a refusal (exit 1)."""
    try:
        return main(argv)
    except Exception:
        traceback.print_exc()
        print(
            "error: the offline plan failed (a bug in the plan, not a verdict on the change); "
            "the traceback above says where",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(run())

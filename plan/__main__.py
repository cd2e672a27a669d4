"""`python -m plan [BASE] HEAD`: what changing a stack's config from BASE to HEAD would do.

Both configs run through the real program under Pulumi's mocks; no cloud, no credentials and no
Pulumi CLI are needed, so it also serves pull requests from forks. With HEAD alone it plans a new
stack (everything it would create); `--base-ref REF` takes BASE from git instead.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import NoReturn

import config
from config import support_window, transition
from config.stack_file import StackFile, StackFileError, read_stack_file
from plan.diff import diff
from plan.evaluate import (
    PROGRAM_DIR,
    Evaluation,
    ProgramError,
    as_config_text,
    evaluate,
    evaluate_both_then,
)
from plan.git_base import GitBaseError, read_at
from plan.headline import describe
from plan.notes import Notes
from plan.policy_check import Violation, check, mandatory, weakened
from plan.render import PlanReport, render
from plan.revert import revert_refusals
from plan.shortcuts import paused_cycle_collection
from plan.verdict import judge

EXIT_REFUSED = 1
EXIT_INVALID = 2
EXIT_FAILED = 3
# The pack's violations for an evaluation; None where the pack did not run (--no-policies).
Checked = list[Violation] | None


DEFAULT_BASE = PROGRAM_DIR / "Pulumi.blue.yaml"
DEFAULT_HEAD = PROGRAM_DIR / "Pulumi.green.yaml"

_EPILOG = f"""\
stack files:
  none         the sample flip: {DEFAULT_BASE.name} -> {DEFAULT_HEAD.name}
  HEAD         a new stack: everything HEAD would create, its checks and policies;
               with --base-ref REF, BASE is HEAD as it is at REF (a new stack if absent there)
  BASE HEAD    the change from BASE to HEAD
The stack is named after HEAD, which must be called Pulumi.<stack>.yaml, unless --stack names it.

exit status:
  0  the change is acceptable
  1  refused: a mandatory policy, or a change the last deployment must not take ("refused:" lines)
  2  invalid input: a stack file, its config, the stack name, --base-ref or --policy-config
     (one "error:" line naming the file and the key)
  3  the plan itself failed (a bug in the plan: the traceback says where)
"""


class UsageError(Exception):
    """Arguments that do not name a plan: one line, exit 2."""


def stack_name_of(path: Path) -> str | None:
    """The stack a file is for, as the CLI names its stack files (Pulumi.<stack>.yaml), or None."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        stack = name.removeprefix("Pulumi.").rsplit(".", 1)[0]
        return stack or None
    return None


def _parse(stack_file: StackFile) -> config.StackConfig:
    """The config the program would see: every value as the text the CLI passes."""
    prefix = f"{config.PROJECT}:"
    own = {
        key.removeprefix(prefix): as_config_text(value)
        for key, value in stack_file.config.items()
        if key.startswith(prefix)
    }
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plan",
        description=__doc__.splitlines()[0],
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="STACK_FILE",
        help="[BASE] HEAD, see below (default: the sample flip)",
    )
    parser.add_argument(
        "--base-ref",
        metavar="REF",
        help="take BASE from git: HEAD as it is at REF (a branch, tag or commit), e.g. main",
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="stack name both configs are evaluated as (default: from HEAD's Pulumi.<stack>.yaml)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text for a terminal (default), markdown for a job summary, json for a comparison "
        "with the engine's preview",
    )
    parser.add_argument(
        "--no-policies", action="store_true", help="skip the policy pack (default: run it)"
    )
    parser.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="JSON policy config, as `pulumi preview --policy-pack-config` takes it "
        "(default: the pack's own levels)",
    )
    return parser


def _stack_files(
    args: argparse.Namespace, notes: Notes
) -> tuple[StackFile | None, StackFile, str | None, str]:
    """(base, head, base label, head label); no base for a new stack."""
    files: list[Path] = args.files
    if len(files) > 2:
        raise UsageError(f"at most two stack files, BASE and HEAD; got {len(files)}")
    if args.base_ref is not None and len(files) != 1:
        raise UsageError("--base-ref takes the head stack file alone: plan --base-ref REF HEAD")
    if not files:
        files = [DEFAULT_BASE, DEFAULT_HEAD]
    # Notes and errors name a file as it was given, as the reader's own errors do; the report's
    # title names it relative to here.
    head_path = files[-1]
    head_label = os.path.relpath(head_path)
    head = read_stack_file(head_path)
    notes.about(head, str(head_path))
    if len(files) == 2:
        base_label = os.path.relpath(files[0])
        base = read_stack_file(files[0])
        notes.about(base, str(files[0]))
    elif args.base_ref is not None:
        base_label = f"{args.base_ref}:{head_label}"
        data = read_at(args.base_ref, head_path)
        if data is None:
            notes.add("note", str(head_path), f"not in {args.base_ref}: planned as a new stack")
            return None, head, None, head_label
        base = read_stack_file(Path(f"{args.base_ref}:{head_path}"), data=data)
        notes.about(base, str(base.path))
    else:
        return None, head, None, head_label
    return base, head, base_label, head_label


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    notes = Notes()
    try:
        try:
            base_file, head_file, base_label, head_label = _stack_files(args, notes)
        finally:
            for line in notes.lines:
                print(line, file=sys.stderr)
            printed = set(notes.lines)
        stack = args.stack or stack_name_of(head_file.path)
        if stack is None:
            raise UsageError(
                f"{head_file.path}: no stack name in this file's name; call it Pulumi.<stack>.yaml "
                "as the Pulumi CLI does, or pass --stack NAME"
            )
        # Without --stack the stack is named after the head file, so that file is what to rename.
        stack_label = (
            f"--stack {config.printable_key(stack)}"
            if args.stack
            else f"{head_file.path} (its name gives the stack name; --stack sets another)"
        )
        head_cfg = _parse(head_file)
        base_cfg = _parse(base_file) if base_file else None
        configs = {head_file.path: head_cfg} | ({base_file.path: base_cfg} if base_file else {})
        prefixes = _prefixes(stack_label, stack, configs)  # type: ignore[arg-type]
        head_facts = transition.facts_of(head_cfg, prefixes[head_file.path])
        base_facts = (
            transition.facts_of(base_cfg, prefixes[base_file.path])
            if base_file and base_cfg
            else None
        )
        # The rules the program applies through its reference to its own stack, applied here to
        # the base as the last deployment. A refused head is still evaluated, as a first
        # deployment would be, so the plan shows what it would have done.
        # What Azure and AKS refuse mid-deployment; plan/verdict.py words them with the rest.
        refused = transition.refusals(base_facts, head_facts) if base_facts else []
        refusals: list[str] = []
        # Whether each cluster's minor is inside AKS's support window today, judged as the
        # program judges it: a cluster the base does not run is created.
        window = support_window.judge(head_cfg, base_facts, datetime.now(UTC).date())
        refusals += [f"refused: {err}" for err in window.refusals]
        for warning in window.warnings:
            notes.add("warning", str(head_file.path), warning)
        # The program refuses the same things itself; the plan has judged them, so it evaluates
        # a refused head or a new stack as already deployed. The base is taken as deployed and
        # verified serving its active color, as the program records it after a converged `up`.
        # Read and validated before the evaluations: each is checked by the pack in the process
        # that made it (plan/evaluate.py evaluate_both_then), the base's beside the head's.
        policies, weakened_policies = _policies(args)
        base_violations: Checked
        head_violations: Checked
        if base_file is None or base_facts is None or base_cfg is None:
            base, base_violations = Evaluation(), None
            head = evaluate(
                head_file.config,
                stack,
                previous_outputs={transition.OUTPUT: head_facts.to_output()},
            )
            head_violations = policies(head)
        else:
            deployed = {**base_facts.to_output(), "servingColor": base_cfg.active}
            head_previous = head_facts.to_output() if refused or refusals else deployed
            (base, base_violations), (head, head_violations) = evaluate_both_then(
                policies,
                base_file.config,
                head_file.config,
                stack,
                head_previous={transition.OUTPUT: head_previous},
                # The base converged: the deployment before it served its active color too.
                base_previous={transition.OUTPUT: deployed},
            )
            # The safety invariants on the evaluated diff, both ways (plan/verdict.py); the
            # program applies the same judge against its last deployment (plan/judge.py).
            verdict = judge(
                base, head, base_cfg, head_cfg, prefixes[head_file.path], serving=base_cfg.active
            )
            refusals += list(verdict.refusals)
    except (StackFileError, ProgramError, GitBaseError, UsageError, PolicyConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_INVALID

    policy_lines: list[str] = []
    refused_by_policy = 0
    if head_violations is not None:
        for violation in head_violations:
            policy_lines.append(
                f"{violation.enforcement_level}: {violation.policy}: {violation.message}"
                + (f" ({violation.urn.rsplit('::', 1)[-1]})" if violation.urn else "")
            )
        refused_by_policy = len(mandatory(head_violations))

    plan = diff(base, head)
    created = sum(1 for c in plan.changes.values() if c.action == "create")
    report = PlanReport(
        base_label=base_label,
        head_label=head_label,
        stack=stack,
        base_active=base_cfg.active if base_cfg else None,
        head_active=head_cfg.active,
        plan=plan,
        policy_lines=tuple(policy_lines),
        policies_ran=not args.no_policies,
        arm_targets=tuple(head.engine_urn(urn) for urn in plan.arming),
        weakened_policies=tuple(weakened_policies),
        safety_refusals=tuple(refusals),
        headline=describe(base_cfg, head_cfg, plan, created),
        revert=_revert(base_facts, head_facts, base_violations),
        notes=tuple(notes.lines),
        engine_urns={
            **{urn: base.engine_urn(urn) for urn in base.resources},
            **{urn: head.engine_urn(urn) for urn in head.resources},
        },
        head_resources=tuple(
            sorted(head.engine_urn(urn) for urn, reg in head.resources.items() if reg.custom)
        ),
    )
    sys.stdout.write(render(report, args.format))
    for line in notes.lines:
        if line.startswith("warning: ") and line not in printed:
            print(line, file=sys.stderr)
    for refusal in refusals:
        print(refusal, file=sys.stderr)
    if refused_by_policy:
        print(
            f"refused: {refused_by_policy} mandatory policy violation(s), listed above",
            file=sys.stderr,
        )
    return EXIT_REFUSED if refusals or refused_by_policy else 0


class PolicyConfigError(Exception):
    """--policy-config names a file that cannot be read, or one the CLI would refuse."""


def _policies(args: argparse.Namespace) -> tuple[Callable[[Evaluation], Checked], list[str]]:
    """The pack's check as `--no-policies` and `--policy-config` set it, and the policies the
    config weakens; None for an evaluation when the pack does not run."""
    if args.no_policies:
        return _unchecked, []
    try:
        policy_config = json.loads(args.policy_config.read_text()) if args.policy_config else None
        # The same resolution `check` makes: a file the CLI would refuse is refused here.
        weakened_policies = weakened(policy_config)
    except (OSError, ValueError) as err:
        raise PolicyConfigError(f"--policy-config {args.policy_config}: {err}") from None
    return partial(check, config=policy_config), weakened_policies


def _unchecked(_evaluation: Evaluation) -> None:
    return None


def _revert(
    base_facts: transition.DeployedFacts | None,
    head_facts: transition.DeployedFacts,
    base_violations: list[Violation] | None,
) -> str:
    """The revert verdict, as the report's first line says it."""
    if base_facts is None:
        return "a new stack: nothing to revert to"
    found = revert_refusals(base_facts, head_facts, base_violations)
    return "its revert is accepted" if not found else f"its revert is refused: {found[0]}"


def run(argv: list[str] | None = None) -> int:
    """`main`, with a failure of the plan itself kept apart from a refusal (exit 1).

    The cycle collector stays paused while the plan runs (plan/shortcuts.py): a process of a few
    seconds, whose passes over the SDKs' modules and the two evaluations' heaps were a fifth of
    its CPU time at 50 apps, and whose cycles are freed when it exits or the collector resumes.
    """
    try:
        with paused_cycle_collection():
            return main(argv)
    except Exception:
        traceback.print_exc()
        print(
            "error: the offline plan failed (a bug in the plan, not a verdict on the change); "
            "the traceback above says where",
            file=sys.stderr,
        )
        return EXIT_FAILED


def exit_with(code: int) -> NoReturn:
    """Ends the plan's process with `code` once what it printed is written, skipping teardown.

    Python's own exit tears down every module and, the collector having been paused, walks the
    whole heap of both evaluations once more for cycles (CPython 3.11 pylifecycle.c
    Py_FinalizeEx, finalize_modules): about a second at 50 apps, with nothing left to write or
    release that the kernel does not release with the process. Only what is buffered in the
    standard streams would be lost, so they are flushed first; a plan that could not be written
    out is not an accepted one. multiprocessing's own forked children end the same way
    (popen_fork.py `os._exit`); the plan's child was joined already.
    """
    try:
        sys.stdout.flush()
    except (OSError, ValueError) as err:  # a full disk, a reader that went away
        print(f"error: the plan could not be written out: {err}", file=sys.stderr)
        code = code or EXIT_FAILED
    with contextlib.suppress(OSError, ValueError):  # nothing more can reach it
        sys.stderr.flush()
    os._exit(code)


def cli() -> NoReturn:
    """The plan as a command (bin/plan, `python -m plan`): `run`, then the process ends.

    The collector is paused for the process's whole life, not only for `run`: resumed, its
    first pass would walk every object the two evaluations left, once, just before the process
    ends and the kernel frees them all (a third of a second at 50 apps).
    """
    gc.disable()
    exit_with(run())


if __name__ == "__main__":
    cli()

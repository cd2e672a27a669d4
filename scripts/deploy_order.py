"""Refuses a deploy that would carry a merged change nobody deployed before it.

Usage: python3 scripts/deploy_order.py STACK HISTORY.json HEAD

GitHub keeps one pending run per concurrency group: a newer push to main cancels a deploy still
waiting for its reviewer (GitHub docs, "Control the concurrency of workflows and jobs"). That
change's commit then never gets an `up` of its own, and the next `up` applies two merged pull
requests at once, a combination no preview showed and no reviewer approved as one. So each
deploy records its commit (`--message "Deploy <sha>"`), and before the next one this checks that
every commit on main since the last recorded deploy that changed this stack (its stack file, or
the program: scripts/changed_stacks.py) is HEAD itself. If one is not, the deploy stops and says
which to deploy first: re-run its cancelled run, oldest first, then this one. A re-run of a
commit older than the last deploy is refused too: it would roll main's newer config back.

HISTORY.json is `pulumi stack history --json` (newest first); a stack with no history yet, or none
recorded by this workflow, has nothing to be out of order with. An `up` that ran and failed counts
as deployed: what it applied was reviewed, and the fix comes as a new commit.

Exit status: 0 in order; 1 refused (the commits are printed); 2 bad input or a git error.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changed_stacks import GitError, changed_stacks, git

DEPLOY_MESSAGE = re.compile(r"^Deploy (?P<sha>[0-9a-f]{40})\b")


def last_deployed(history: Any) -> str | None:
    """The commit of the newest `up` this workflow recorded, whatever its result."""
    if not isinstance(history, list):
        raise ValueError("not a JSON array: is this `pulumi stack history --json` output?")
    for update in history:
        if not isinstance(update, dict) or update.get("kind") != "update":
            continue
        found = DEPLOY_MESSAGE.match(str(update.get("message") or ""))
        if found:
            return found["sha"]
    return None


def undeployed(stack: str, deployed: str, head: str) -> list[str]:
    """Commits on the first-parent line after `deployed` up to HEAD that changed `stack`."""
    line = git("rev-list", "--first-parent", "--reverse", f"{deployed}..{head}").split()
    missing = []
    for commit in line:
        if commit == head:
            continue
        if stack in changed_stacks(f"{commit}^", commit, all_on_program_change=True):
            missing.append(commit)
    return missing


def is_ancestor(older: str, newer: str) -> bool:
    try:
        git("merge-base", "--is-ancestor", older, newer)
    except GitError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    stack, history_file, head = args
    try:
        deployed = last_deployed(json.loads(Path(history_file).read_text(encoding="utf-8")))
        if deployed is None:
            print(f"{stack}: no deploy recorded by this workflow yet; nothing to be out of order.")
            return 0
        head_sha = git("rev-parse", head).strip()
        if head_sha != deployed and is_ancestor(head_sha, deployed):
            print(
                f"{stack}: refusing to deploy {head_sha[:12]}: it is older than the last deploy "
                f"({deployed[:12]}), which already carries it; deploying it would roll the "
                "stack back to an older main. Revert on main instead.",
                file=sys.stderr,
            )
            return 1
        missing = undeployed(stack, deployed, head_sha)
    except (OSError, ValueError) as err:
        print(f"deploy_order: {history_file}: {err}", file=sys.stderr)
        return 2
    except GitError as err:
        print(f"deploy_order: {err}", file=sys.stderr)
        return 2
    if not missing:
        print(f"{stack}: last deployed {deployed[:12]}; {head_sha[:12]} is the next change.")
        return 0
    print(
        f"{stack}: refusing to deploy {head_sha[:12]}: {len(missing)} merged change(s) to this "
        f"stack since the last deploy ({deployed[:12]}) were never deployed, so this `up` would "
        "apply them together with this one, unreviewed as a whole. Re-run the cancelled deploy "
        "of each, oldest first, then this one:",
        file=sys.stderr,
    )
    for commit in missing:
        subject = git("log", "-1", "--format=%s", commit).strip()
        print(f"  {commit[:12]} {subject}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

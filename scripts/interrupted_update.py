"""Says whether a stack's last `pulumi up` was cut short, and what to do before the next one.

Usage: python3 scripts/interrupted_update.py STATE.json [--stack NAME]

STATE.json is `pulumi stack export` output. An update killed mid-way (a cancelled workflow, a
runner lost, a timeout) leaves the engine's `pending_operations` in the checkpoint: the operations
it had started and not seen finish (pulumi sdk/go/common/apitype/core.go PendingOperationV2: the
resource and its type creating, updating, deleting, reading or importing). The next `up` only
warns about them and goes on; during a flip that can mean an AGIC release half-installed by Helm
on the new cluster while the state records none. docs/recovery.md is the procedure; this prints
the steps for what the state holds.

Exit status: 0 nothing pending; 1 an interrupted update (the steps are printed); 2 the file is
not a stack export. Standard library only: it runs on a bare runner.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The chart's resource type in pulumi-kubernetes (helm.sh/v3 Release), the one a flip replaces.
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


class NotAnExportError(Exception):
    """The input is not `pulumi stack export` output."""


@dataclass(frozen=True)
class Pending:
    operation: str
    urn: str
    type: str
    id: str
    name: str
    namespace: str


def pending_operations(export: Any) -> list[Pending]:
    if not isinstance(export, dict) or not isinstance(export.get("deployment"), dict):
        raise NotAnExportError("no `deployment` object: is this `pulumi stack export` output?")
    found: list[Pending] = []
    for i, entry in enumerate(export["deployment"].get("pending_operations") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("urn"), str):
            raise NotAnExportError(f"pending_operations[{i}] has no resource URN")
        given = resource.get("inputs")
        inputs: dict[str, Any] = given if isinstance(given, dict) else {}
        found.append(
            Pending(
                operation=str(entry.get("type", "")),
                urn=resource["urn"],
                type=str(resource.get("type", "")),
                id=str(resource.get("id") or ""),
                name=str(inputs.get("name") or ""),
                namespace=str(inputs.get("namespace") or ""),
            )
        )
    return found


def steps(pending: Sequence[Pending], stack: str) -> list[str]:
    """What to do, in order, for what the interrupted update left."""
    s = f" --stack {stack}" if stack else ""
    lines: list[str] = []
    creates = [p for p in pending if p.operation == "creating"]
    for p in pending:
        if p.type == HELM_RELEASE:
            where = f"-n {p.namespace or '<namespace>'} {p.name or '<release>'}"
            if p.operation == "creating":
                lines.append(
                    f"The AGIC release {p.name or p.urn} was being installed: on the cluster it "
                    f"was going to, run `helm status {where}`. If Helm shows it (pending-install "
                    f"or failed), `helm uninstall {where}`: the gateway keeps serving what the "
                    "last AGIC wrote (AGIC leaves the gateway configured when it goes), so no "
                    "request is lost while no AGIC runs."
                )
            elif p.operation == "deleting":
                lines.append(
                    f"The AGIC release {p.name or p.urn} was being uninstalled: run `helm status "
                    f"{where}` on its cluster. Still there: it still writes the gateway, and the "
                    "next `pulumi up` uninstalls it again before installing the other. Gone: "
                    "the refresh below records that."
                )
            else:
                lines.append(f"The AGIC release {p.name or p.urn} was {p.operation}.")
        else:
            lines.append(f"{p.urn} was {p.operation}.")
    if creates:
        lines.append(
            f"Then `pulumi refresh{s} --clear-pending-creates` drops the unfinished creates from "
            f"the state (or `pulumi refresh{s} --import-pending-creates <urn> <id>` for one that "
            "exists in Azure and must be kept)."
        )
    else:
        lines.append(f"Then `pulumi refresh{s}` records what the interrupted operations did.")
    lines.append(
        "If `pulumi` says the stack is locked by an update in progress, no workflow is running "
        f"and none is waiting: `pulumi cancel{s}` (Pulumi Cloud; on a DIY backend remove the lock "
        "file it names). Then re-run the deploy of the same commit (docs/recovery.md)."
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Detect an interrupted `pulumi up`.")
    parser.add_argument("export", help="`pulumi stack export` output")
    parser.add_argument("--stack", default="", help="the stack name, for the printed commands")
    args = parser.parse_args(argv)
    try:
        export = json.loads(Path(args.export).read_text(encoding="utf-8"))
        pending = pending_operations(export)
    except (OSError, ValueError, NotAnExportError) as err:
        print(f"interrupted_update: {args.export}: {err}", file=sys.stderr)
        return 2
    if not pending:
        print("No interrupted update: the state has no pending operations.")
        return 0
    print(
        f"The last update of {args.stack or 'this stack'} was interrupted: "
        f"{len(pending)} operation(s) never finished. Do this before any `pulumi up`:"
    )
    for number, line in enumerate(steps(pending, args.stack), start=1):
        print(f"{number}. {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

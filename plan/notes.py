"""What the plan tells a reviewer about its inputs besides the plan: `note:` and `warning:` lines.

Each names the file it is about and is said once, whichever side (base or head) it came from;
the same lines go to stderr and into the Markdown job summary, since the workflow keeps stderr
only when the plan fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import config
from config.stack_file import StackFile


@dataclass
class Notes:
    lines: list[str] = field(default_factory=list)

    def add(self, kind: str, label: str, text: str) -> None:
        line = f"{kind}: {label}: {text}"
        if line not in self.lines:
            self.lines.append(line)

    def about(self, stack_file: StackFile, label: str) -> None:
        """What the plan leaves out of a stack file, or cannot see in it."""
        if stack_file.foreign_keys:
            keys = ", ".join(config.printable_key(key) for key in stack_file.foreign_keys)
            self.add(
                "note",
                label,
                f"ignored {keys}: this program reads only {config.PROJECT}:<key> (the Pulumi "
                "CLI hands other namespaces to their own provider or project)",
            )
        if stack_file.foreign_secrets:
            keys = ", ".join(config.printable_key(key) for key in stack_file.foreign_secrets)
            self.add(
                "note",
                label,
                f"ignored the encrypted {keys}: only the stack's secrets provider can read it, "
                f"and this program reads only {config.PROJECT}:<key>",
            )
        if stack_file.environments:
            names = ", ".join(stack_file.environments)
            self.add(
                "warning",
                label,
                f"imports the ESC environment {names}: the offline plan cannot read it, so any "
                "config it supplies is missing here (`pulumi preview` sees it)",
            )
        if not stack_file.has_config and not stack_file.environments:
            self.add(
                "warning",
                label,
                "has no 'config:' section, so every key takes the program's default "
                f"(and {config.PROJECT}:active, which has none, is missing)",
            )

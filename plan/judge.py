"""The program's verdict on its own change: the plan's judge, against the last deployment.

`pulumi preview` and `pulumi up` judge the change from the config the last deployment recorded
(`deployedConfig.config`) to the config being deployed the way the offline plan judges a pull
request: both are evaluated under mocks and plan/verdict.py judges the diff. So a key nobody
listed cannot slip past the program either, and its refusal is word for word the plan's.

Why evaluate both configs rather than record what the last deployment declared and compare:
the refusal must come before the first resource is registered, because the engine acts on each
registration as it arrives (pulumi/pulumi pkg/resource/deploy/step_generator.go: a
delete-before-replace deletes at once), so the program cannot learn what it declares by
declaring it; and a record of the serving set's inputs would have to be compared by a second
copy of the diff's rules. Evaluating the recorded config needs nothing of the cloud, so both
sides are the same function of a config, as in the plan.

It runs as a child process (`python -m plan.judge`): an evaluation replaces the Pulumi
runtime's process-wide settings with mocks (pulumi.runtime.set_mocks), which must never happen
inside the program the engine is running, and forking a process whose gRPC threads are running
can hang the child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from config import PROJECT, Color, StackConfig, parse, transition

# The program's own config keys as the CLI passes them: values as text, objects as JSON.
TIMEOUT_SECONDS = 300


def stack_config_values(cfg: StackConfig) -> dict[str, Any]:
    """The config as a stack file holds it, under the program's keys, defaults written out."""
    dumped = cfg.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _qualified(values: dict[str, Any]) -> dict[str, Any]:
    return {f"{PROJECT}:{key}": value for key, value in values.items()}


def parse_values(values: dict[str, Any]) -> StackConfig:
    return parse({k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()})


def judge_in_child(
    base_values: dict[str, Any],
    head_values: dict[str, Any],
    stack: str,
    project_dir: str,
    previous: dict[str, Any],
) -> dict[str, Any]:
    """Runs the judge in a child process; returns its answer ({"refusals", "clustersLost"})."""
    # The child must reach no engine: it gets none of the engine's variables (PULUMI_*), so the
    # SDK in it can only talk to the mocks.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    request = {
        "base": base_values,
        "head": head_values,
        "stack": stack,
        "previous": previous,
    }
    done = subprocess.run(
        [sys.executable, "-m", "plan.judge"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=project_dir,
        env=env,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        # Fail closed: a change nobody could judge is not deployed. A RunError is reported as
        # its message alone (pulumi-language-python-exec).
        import pulumi

        raise pulumi.RunError(
            f"{PROJECT}: the change could not be judged (python -m plan.judge exited "
            f"{done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def judge_values(
    base_values: dict[str, Any], head_values: dict[str, Any], stack: str, previous: dict[str, Any]
) -> dict[str, Any]:
    """The verdict on base -> head, both given as stack-file values; `previous` is the
    `deployedConfig` the head is evaluated against (what the last deployment recorded, less
    its config, so the head's evaluation does not judge again)."""
    from config import ConfigError, resource_prefix
    from plan.evaluate import ProgramError, evaluate_both
    from plan.verdict import judge

    head_cfg = parse_values(head_values)
    try:
        base_cfg = parse_values(base_values)
        base, head = evaluate_both(
            _qualified(base_values),
            _qualified(head_values),
            stack,
            head_previous={transition.OUTPUT: previous},
        )
    except (ConfigError, ProgramError) as err:
        # A config deployed before a rule existed that now refuses it: there is no base to
        # judge against. The transition rules have run; this deployment records a valid one.
        return {"refusals": [], "clustersLost": [], "unjudged": str(err)}
    facts = transition.facts_from_output(previous)
    serving: Color | None = facts.serving if facts is not None else None
    verdict = judge(base, head, base_cfg, head_cfg, resource_prefix(head_cfg, stack), serving)
    return {"refusals": list(verdict.refusals), "clustersLost": list(verdict.clusters_lost)}


def main() -> int:
    request = json.loads(sys.stdin.read())
    answer = judge_values(request["base"], request["head"], request["stack"], request["previous"])
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())

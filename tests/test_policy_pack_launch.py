"""The policy pack starts as `pulumi preview --policy-pack policies` in the workflows starts it.

The Python language host runs a local pack as `<virtualenv>/bin/python -u -m pulumi.policy
<engine> <pack dir>` in the pack's directory, with the virtualenv named in PulumiPolicy.yaml
resolved against that directory and activated (pulumi sdk/python/cmd/pulumi-language-python
RunPlugin; sdk/python/toolchain/pip.go resolveVirtualEnvironmentPath, Command,
toolchain.go ActivateVirtualEnv). It creates no virtualenv for a local pack, so the workflow's
install step must have built exactly that one, with the pack's requirements in it.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from plugin_process import plugin_channel
from policies.pack import NAME, POLICIES

ROOT = Path(__file__).resolve().parent.parent
DEPLOYING_WORKFLOWS = ("preview.yml", "deploy.yml")


@dataclass(frozen=True)
class PackLaunch:
    """Where a workflow's CLI finds the pack, and the virtualenv its install step builds."""

    workflow: str
    pack_dir: Path
    virtualenv: Path
    built_virtualenvs: tuple[Path, ...]
    installed_requirements: tuple[Path, ...]


def _steps(workflow: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    [job] = [job for job in document["jobs"].values() if _pulumi_step(job["steps"])]
    return job["steps"]


def _pulumi_step(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The pulumi/actions step that runs the policy pack (others read outputs)."""
    found = [
        step
        for step in steps
        if str(step.get("uses", "")).startswith("pulumi/actions@")
        and "policyPacks" in (step.get("with") or {})
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


def resolve(workflow: str) -> PackLaunch:
    steps = _steps(workflow)
    pulumi = _pulumi_step(steps)
    assert pulumi is not None
    # pulumi/actions runs the CLI in `work-dir` (default ./), which resolves the pack path.
    work_dir = ROOT / pulumi["with"].get("work-dir", ".")
    pack_dir = (work_dir / pulumi["with"]["policyPacks"]).resolve()
    runtime = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text())["runtime"]
    assert runtime["name"] == "python"
    options = runtime.get("options") or {}
    # Only pip's resolution is modelled here; uv or poetry would find their environment otherwise.
    assert options.get("toolchain", "pip") == "pip"
    named = options.get("virtualenv")
    assert named, "a pack that names no virtualenv runs with whatever python3 is on PATH"
    # filepath.Join(root, virtualenv) for a relative path, cleaned as Go cleans it.
    virtualenv = Path(os.path.normpath(pack_dir / named))

    built: list[Path] = []
    installed: list[Path] = []
    for step in steps[: steps.index(pulumi)]:
        script = step.get("run", "")
        # Steps run in the workspace root unless they say otherwise.
        cwd = ROOT / step.get("working-directory", ".")
        for line in script.splitlines():
            words = shlex.split(line, comments=True)
            if words[1:3] == ["-m", "venv"]:
                built.append(Path(os.path.normpath(cwd / words[-1])))
            if words[1:4] == ["-m", "pip", "install"] and words[0].endswith("/bin/python"):
                target = Path(os.path.normpath(cwd / words[0])).parent.parent
                assert target in built, f"{workflow}: pip installs into {target}, never built"
                installed += [cwd / words[i + 1] for i, w in enumerate(words) if w == "-r"]
    return PackLaunch(workflow, pack_dir, virtualenv, tuple(built), tuple(installed))


@pytest.mark.parametrize("workflow", DEPLOYING_WORKFLOWS)
def test_workflow_builds_the_virtualenv_the_policy_pack_names(workflow: str) -> None:
    launch = resolve(workflow)
    assert launch.pack_dir == ROOT / "policies"
    assert launch.built_virtualenvs == (launch.virtualenv,), (
        f"{workflow} builds {launch.built_virtualenvs}, the pack runs from {launch.virtualenv}"
    )
    # The pack's own pins, from the file beside PulumiPolicy.yaml, go into that virtualenv: from
    # requirements.lock, which pins each of them at the same version (with their hashes).
    assert launch.installed_requirements == (ROOT / "requirements.lock",)
    lock = (ROOT / "requirements.lock").read_text()
    for line in (launch.pack_dir / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.search(rf"^{re.escape(line)} ", lock, re.MULTILINE), line


def test_policy_pack_serves_from_the_virtualenv_the_cli_resolves() -> None:
    launch = resolve("preview.yml")
    python = launch.virtualenv / "bin" / "python"
    # Here that virtualenv is bin/venv's .venv, built from requirements-dev.txt, which includes
    # policies/requirements.txt: the same pins the workflow installs.
    assert Path(sys.prefix).resolve() == launch.virtualenv.resolve(), "run the tests with bin/test"
    for line in (launch.pack_dir / "requirements.txt").read_text().splitlines():
        name, _, pinned = line.partition("==")
        assert metadata.version(name) == pinned, f"{name} in {launch.virtualenv} is not {pinned}"

    # What toolchain.ActivateVirtualEnv hands the process: its bin first on PATH, VIRTUAL_ENV
    # set, PYTHONHOME removed. The working directory is the pack's own.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{launch.virtualenv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(launch.virtualenv)
    command = [str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(launch.pack_dir)]
    with plugin_channel(command, cwd=launch.pack_dir, env=env) as channel:
        info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == NAME
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]

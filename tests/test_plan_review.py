"""The plan as a reviewer reads it: what the change is, its values, its stack, its inputs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from test_plan_cli import run_plan, stack_file, step_lines

from conftest import ROOT, sample_config, with_overrides
from plan.__main__ import main
from plan.evaluate import Registration
from plan.values import changes, shorten_pair, value_at

BLUE = str(ROOT / "Pulumi.blue.yaml")


def shown(path: Path) -> str:
    """A path as the plan prints it: relative to where it runs (run_plan runs it in ROOT)."""
    return os.path.relpath(path, ROOT)


def change_line(out: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith("  change: ")]
    return line.removeprefix("  change: ")


def values_under(out: str, step_fragment: str) -> list[str]:
    """The old -> new lines printed under the first step line holding `step_fragment`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if step_fragment in line and "." in line[:5])
    found = []
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 17) or not line.strip():
            break
        found.append(line.strip())
    return found


def test_flip_says_where_traffic_moves_and_that_its_revert_is_accepted() -> None:
    result = run_plan("--no-policies")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[1] == (
        "  change: flip: traffic moves from blue to green at step 6; its revert is accepted"
    )
    sixth = step_lines(out)[5]
    assert sixth.split()[:3] == ["6.", "create", "kubernetes:helm.sh/v3:Release"]
    assert "(agic/agic-green) [green]" in sixth and sixth.endswith("<- traffic moves to green here")
    assert values_under(out, "6. create") == ["name agic-blue -> agic-green"]
    # The release's delete-first half names the object it removes from the old cluster.
    assert "(agic/agic-blue) [blue]" in step_lines(out)[4]
    assert values_under(out, "cutover-gateway-serves")[:2] == [
        "activeColor blue -> green",
        "agicRelease agic-blue -> agic-green",
    ]


def test_standby_upgrade_shows_the_version_and_that_its_revert_would_be_a_downgrade(
    tmp_path: Path,
) -> None:
    upgraded = with_overrides("blue", {"clusters": {"green": {"kubernetesVersion": "1.37"}}})
    result = run_plan(BLUE, str(stack_file(tmp_path, "green", upgraded)), "--no-policies")
    assert result.returncode == 0, result.stderr
    line = change_line(result.stdout)
    assert line.startswith("standby upgrade: green 1.36 -> 1.37; its revert is refused: ")
    assert "1.37 -> 1.36 is a downgrade" in line
    assert "kubernetesVersion 1.36 -> 1.37" in values_under(result.stdout, "green-aks")


def test_app_change_shows_replicas_and_the_part_of_the_image_that_changed(
    tmp_path: Path,
) -> None:
    app = dict(sample_config("blue")["aks-bluegreen:workloads"][0])
    image = app["image"].rsplit(":", 1)[0] + ":" + "0" * 64
    changed = with_overrides("blue", {"workloads": [dict(app, replicas=5, image=image)]})
    result = run_plan(BLUE, str(stack_file(tmp_path, "blue", changed)), "--no-policies")
    assert result.returncode == 0, result.stderr
    assert change_line(result.stdout) == (
        "app change: aspnetapp (image, replicas); its revert is accepted"
    )
    deployments = [line for line in step_lines(result.stdout) if "apps/v1:Deployment" in line]
    assert len(deployments) == 2 and all("(aspnetapp/aspnetapp)" in d for d in deployments)
    shown = values_under(result.stdout, "blue-aspnetapp-deployment")
    assert "spec.replicas 3 -> 5" in shown
    (image_line,) = [line for line in shown if line.startswith("spec.template.spec.containers")]
    old, new = image_line.split(" ", 1)[1].split(" -> ")
    # Shortened around the digest, where the two differ; both keep that point in view.
    assert len(old) < 60 and len(new) < 60
    assert "sha256:b8e9" in old and "sha256:0000" in new


def test_a_new_stack_is_planned_from_one_file_with_its_checks_and_policies(
    tmp_path: Path,
) -> None:
    head = stack_file(tmp_path, "prod", sample_config("blue"))
    result = run_plan(str(head))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Offline plan for stack 'prod': new stack {shown(head)}")
    line = change_line(out)
    created = int(re.match(r"new stack: (\d+) resources to create", line).group(1))
    assert line.endswith("blue serving; a new stack: nothing to revert to")
    steps = step_lines(out)
    assert len(steps) == created > 50
    assert {s.split()[1] for s in steps} == {"create"}
    assert "active: blue (a new stack)" in out
    assert "Policies: all passed on the head config." in out


def test_a_new_stack_refused_by_a_policy_exits_1(tmp_path: Path) -> None:
    old = with_overrides("blue", {"clusters": {"blue": {"kubernetesVersion": "1.30"}}})
    result = run_plan(str(stack_file(tmp_path, "prod", old)))
    assert result.returncode == 1
    assert "mandatory: aks-minimum-version:" in result.stdout


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        check=True,
        capture_output=True,
    )


def test_base_ref_takes_the_base_from_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    prod = stack_file(repo, "prod", sample_config("blue"))
    git(repo, "add", prod.name)
    git(repo, "commit", "-q", "-m", "prod on blue")
    git(repo, "checkout", "-q", "-b", "flip")
    prod.write_text(yaml.safe_dump({"config": sample_config("green")}))
    result = run_plan("--base-ref", "main", str(prod), "--no-policies")
    assert result.returncode == 0, result.stderr
    label = shown(prod)
    assert result.stdout.splitlines()[0].endswith(f": main:{label} -> {label}")
    assert change_line(result.stdout).startswith("flip: traffic moves from blue to green")
    # The base is the committed file, not the working copy: the two differ only in `active`.
    assert "active: blue -> green" in result.stdout

    added = stack_file(repo, "staging", sample_config("green"))
    fresh = run_plan("--base-ref", "main", str(added), "--no-policies")
    assert fresh.returncode == 0, fresh.stderr
    assert "planned as a new stack" in fresh.stderr
    assert change_line(fresh.stdout).startswith("new stack: ")

    missing = run_plan("--base-ref", "no-such-branch", str(prod))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "error: --base-ref no-such-branch: no such branch, tag or commit in this repository "
        "(on CI, fetch it first: git fetch origin main)"
    ]


def test_base_ref_outside_a_repository_is_one_error(tmp_path: Path) -> None:
    head = stack_file(tmp_path, "prod", sample_config("blue"))
    result = run_plan("--base-ref", "main", str(head))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: --base-ref main: {head} is not in a git repository"
    ]


def test_a_file_not_named_for_a_stack_is_refused_without_stack(tmp_path: Path) -> None:
    head = tmp_path / "prod.yaml"
    head.write_text(yaml.safe_dump({"config": sample_config("blue")}))
    result = run_plan(BLUE, str(head), "--no-policies")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {head}: no stack name in this file's name; call it Pulumi.<stack>.yaml as the "
        "Pulumi CLI does, or pass --stack NAME"
    ]
    named = run_plan(BLUE, str(head), "--no-policies", "--stack", "prod")
    assert named.returncode == 0, named.stderr
    assert named.stdout.startswith("Offline plan for stack 'prod'")


def test_help_names_the_defaults_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "Pulumi.blue.yaml -> Pulumi.green.yaml" in text
    assert "text for a terminal (default)" in text
    for code in ("0  the change is acceptable", "1  refused", "2  invalid input", "3  the plan"):
        assert code in text


def test_notes_name_the_file_come_once_and_reach_the_job_summary(tmp_path: Path) -> None:
    config = dict(
        sample_config("blue"),
        **{"azure-native:location": "westeurope", "azure-native:clientSecret": {"secure": "AAAB"}},
    )
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump({"environment": ["shared/azure"], "config": config}))
    result = run_plan(str(path), str(path), "--no-policies", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert [line.split(":", 1)[0] for line in notes] == ["note", "note", "warning"]
    assert all(line.split(": ", 2)[1] == str(path) for line in notes)
    assert "ignored azure-native:location:" in notes[0]
    assert "ignored the encrypted azure-native:clientSecret:" in notes[1]
    assert "imports the ESC environment shared/azure" in notes[2]
    for line in notes:
        assert result.stdout.count(line) == 1, line


def test_a_file_without_config_says_so(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text("secretsprovider: passphrase\n")
    result = run_plan(str(path))
    assert result.returncode == 2
    first, second = result.stderr.splitlines()
    assert first.startswith(f"warning: {path}: has no 'config:' section")
    assert second.startswith("error: ") and "aks-bluegreen:active" in second


def test_a_structured_value_given_as_a_string_says_which_shape_it_takes(tmp_path: Path) -> None:
    config = dict(sample_config("blue"), **{"aks-bluegreen:clusters": '{"blue": {}} trailing'})
    path = stack_file(tmp_path, "prod", config)
    result = run_plan(str(path))
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "aks-bluegreen:clusters: is text, but it holds a mapping of blue and green" in line
    assert "Extra data" not in line and "Expecting" not in line


def _registration(inputs: dict, secrets: frozenset[str] = frozenset()) -> Registration:
    return Registration(
        urn="urn:x", type="kubernetes:core/v1:Secret", name="x", custom=True, parent="",
        provider="", inputs=inputs, secret_inputs=secrets, protect=False,
        delete_before_replace=False, ignore_changes=(), replace_on_changes=(), dependencies=(),
        custom_timeouts={},
    )  # fmt: skip


def test_secret_values_are_masked_at_above_and_below_their_path() -> None:
    before = _registration({"data": {"token": "old-token"}, "kubeconfig": "a"}, frozenset({"data"}))
    after = _registration(
        {"data": {"token": "new-token"}, "kubeconfig": "b"}, frozenset({"kubeconfig"})
    )
    shown = changes(before, after, ("data.token", "kubeconfig"))
    assert shown == ["data.token [secret] -> [secret]", "kubeconfig [secret] -> [secret]"]
    assert not any("token" in line.split(" ", 1)[1] for line in shown)


def test_break_glass_names_the_arming_run_and_shows_no_secret(tmp_path: Path) -> None:
    head = stack_file(
        tmp_path, "prod",
        with_overrides("blue", {"active": "green", "breakGlass": {"unreachableCluster": "blue"}}),
    )  # fmt: skip
    result = run_plan(BLUE, str(head), "--no-policies")
    assert result.returncode == 0, result.stderr
    assert change_line(result.stdout).startswith(
        "break glass: blue declared unreachable; flip: traffic moves from blue to green"
    )
    assert "UNREACHABLE" not in result.stdout
    # The provider's secret kubeconfig changes in the arming run, which the plan names as its
    # own `pulumi up --target` (the engine shows no step for it in the `up --refresh`).
    assert "pulumi up --target " in result.stdout and "blue-kubernetes'" in result.stdout


def test_values_are_found_under_keys_that_hold_dots() -> None:
    inputs = {"metadata": {"annotations": {"kubernetes.io/ingress.class": "azure"}}}
    assert value_at(inputs, "metadata.annotations.kubernetes.io/ingress.class") == "azure"


def test_long_values_are_cut_around_where_they_differ() -> None:
    old, new = shorten_pair("x" * 80 + "blue" + "y" * 80, "x" * 80 + "green" + "y" * 80)
    assert "blue" in old and "green" in new
    assert old.startswith("...") and old.endswith("...") and len(old) < 60

"""scripts/changed_stacks.py, run as the workflows run it, against a real git repository.

Each test builds its own history with `git init` in tmp_path, so nothing depends on this
repository's own history, and the script runs as a subprocess exactly as in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "changed_stacks.py"
NULL_SHA = "0" * 40


class Repo:
    """A throwaway git repository with helpers to write files and commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Ignore the machine's git config (signing, hooks, default branch) and name the author.
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
        }
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def put(self, name: str, content: str | None) -> None:
        target = self.path / name
        if content is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, content in files.items():
            self.put(name, content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def stacks(self, *args: str) -> list[str]:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert isinstance(out, list)
        return out


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path)
    repo.commit(
        {
            "Pulumi.yaml": "name: aks-bluegreen\n",
            "Pulumi.blue.yaml": "active: blue\n",
            "Pulumi.green.yaml": "active: green\n",
            "Pulumi.prod.yaml": "active: blue\n",
            "Pulumi.staging.yaml": "active: blue\n",
            "__main__.py": "",
            "components/agic.py": "",
            "README.md": "",
        },
        "base",
    )
    return repo


def test_added_and_modified_stacks_are_listed_sorted(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"Pulumi.staging.yaml": "active: green\n", "Pulumi.dev.yaml": "active: blue\n"})
    assert repo.stacks(base) == ["dev", "staging"]


def test_unchanged_stacks_and_other_files_are_not_listed(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit(
        {
            "README.md": "docs\n",
            "Pulumi.yaml": "name: aks-bluegreen\ndescription: x\n",  # the project, not a stack
            "envs/Pulumi.nested.yaml": "x\n",  # not at the root: pulumi never reads it
            "Pulumi.prod.yml": "x\n",  # not .yaml
        }
    )
    assert repo.stacks(base) == []


def test_output_is_compact_json_the_workflows_compare_with_empty_list(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    assert repo.run(base).stdout == "[]\n"
    repo.commit({"Pulumi.prod.yaml": "active: green\n", "Pulumi.dev.yaml": "x\n"})
    assert repo.run(base).stdout == '["dev","prod"]\n'


def test_samples_are_skipped_unless_asked_for(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"Pulumi.blue.yaml": "active: green\n", "Pulumi.green.yaml": "active: blue\n"})
    result = repo.run(base)
    assert json.loads(result.stdout) == []
    assert "Pulumi.blue.yaml is a sample" in result.stderr
    assert repo.stacks(base, "--include-samples") == ["blue", "green"]


def test_a_deleted_stack_is_reported_on_stderr_and_never_listed(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"Pulumi.staging.yaml": None})
    result = repo.run(base)
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
    assert "Pulumi.staging.yaml was deleted" in result.stderr
    assert "pulumi destroy -s staging" in result.stderr


def test_a_renamed_stack_file_lists_the_new_name_only(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("mv", "Pulumi.staging.yaml", "Pulumi.qa.yaml")
    repo.commit({})
    result = repo.run(base)
    assert json.loads(result.stdout) == ["qa"]
    assert "Pulumi.staging.yaml was deleted" in result.stderr


def test_head_defaults_to_head_and_can_be_given(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    first = repo.commit({"Pulumi.dev.yaml": "x\n"})
    repo.commit({"Pulumi.prod.yaml": "active: green\n"})
    assert repo.stacks(base) == ["dev", "prod"]
    assert repo.stacks(base, first) == ["dev"]


def test_changes_on_the_base_branch_since_the_fork_are_not_the_pull_requests(repo: Repo) -> None:
    # main moves on after the branch was cut; diffing against main's tip would wrongly report
    # prod as changed by the branch (it would look reverted). The merge base does not.
    fork_point = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"Pulumi.staging.yaml": "active: green\n"})
    repo.git("checkout", "-q", "main")
    main_tip = repo.commit({"Pulumi.prod.yaml": "active: green\n"})
    repo.git("checkout", "-q", "feature")
    assert repo.stacks(main_tip) == ["staging"]
    assert repo.stacks(fork_point) == ["staging"]


def test_the_null_sha_of_a_first_push_lists_every_stack_at_head(repo: Repo) -> None:
    assert repo.stacks(NULL_SHA) == ["prod", "staging"]
    assert repo.stacks(NULL_SHA, "--include-samples") == ["blue", "green", "prod", "staging"]


@pytest.mark.parametrize(
    "path",
    [
        "__main__.py",
        "config/model.py",
        "Pulumi.yaml",
        "requirements.txt",
        "components/agic.py",
        "live_gateway/providers.py",
        "policies/__main__.py",
    ],
)
def test_a_program_change_selects_every_stack_when_asked(repo: Repo, path: str) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({path: "# changed\n"})
    assert repo.stacks(base) == []
    assert repo.stacks(base, "--all-on-program-change") == ["prod", "staging"]
    assert repo.stacks(base, "--all-on-program-change", "--include-samples") == [
        "blue",
        "green",
        "prod",
        "staging",
    ]


def test_a_non_program_change_does_not_select_every_stack(repo: Repo) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"README.md": "x\n", "tests/test_x.py": "", "requirements-dev.txt": "x\n"})
    assert repo.stacks(base, "--all-on-program-change") == []


@pytest.mark.parametrize("name", ["bad name", "-rf", "$(id)", "a;b"])
def test_a_stack_file_name_that_is_not_a_stack_name_fails(repo: Repo, name: str) -> None:
    # These names reach shell scripts and `--stack` arguments: refuse them loudly.
    base = repo.git("rev-parse", "HEAD")
    repo.commit({f"Pulumi.{name}.yaml": "x\n"})
    result = repo.run(base)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "not a valid stack name" in result.stderr
    assert "Traceback" not in result.stderr


def test_deleting_a_badly_named_file_is_not_an_error(repo: Repo) -> None:
    repo.commit({"Pulumi.bad name.yaml": "x\n"})
    base = repo.git("rev-parse", "HEAD")
    repo.commit({"Pulumi.bad name.yaml": None})
    assert repo.stacks(base) == []


def test_an_unknown_base_fails_with_a_message(repo: Repo) -> None:
    result = repo.run("no-such-ref")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no-such-ref" in result.stderr
    assert "fetch-depth: 0" in result.stderr
    assert "Traceback" not in result.stderr

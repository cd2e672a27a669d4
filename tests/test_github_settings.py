"""scripts/check_github_settings.py, run as the docs say, against a loopback GitHub REST API that
answers each endpoint with the shape GitHub's REST docs give for it (abridged to the fields the
check reads and a few beside them)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import ROOT

REPO = "example/aks-bluegreen"
BASE = f"/repos/{REPO}"
TOKEN = "loopback-admin-read-token"


def good_settings() -> dict[str, Any]:
    """Every setting docs/pipeline.md asks for, as the API returns it."""
    reviewer = {"type": "Team", "reviewer": {"id": 1, "name": "platform", "slug": "platform"}}
    return {
        f"{BASE}/environments/production": {
            "id": 161088068,
            "name": "production",
            "url": f"https://api.github.com{BASE}/environments/production",
            "protection_rules": [
                {"id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": 0},
                {
                    "id": 3755,
                    "node_id": "MDQ6R2F0ZTM3NTU=",
                    "prevent_self_review": True,
                    "type": "required_reviewers",
                    "reviewers": [reviewer],
                },
                {"id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy"},
            ],
            "deployment_branch_policy": {
                "protected_branches": False,
                "custom_branch_policies": True,
            },
        },
        f"{BASE}/environments/production/deployment-branch-policies": {
            "total_count": 1,
            "branch_policies": [
                {
                    "id": 361471,
                    "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzE=",
                    "name": "main",
                    "type": "branch",
                }
            ],
        },
        f"{BASE}/environments/preview": {
            "id": 161088069,
            "name": "preview",
            "protection_rules": [],
            "deployment_branch_policy": None,
        },
        f"{BASE}/actions/oidc/customization/sub": {
            "use_default": False,
            "include_claim_keys": ["repo", "context", "job_workflow_ref"],
        },
        f"{BASE}/actions/secrets": {"total_count": 0, "secrets": []},
        f"{BASE}/actions/variables": {
            "total_count": 1,
            "variables": [
                {
                    "name": "PULUMI_ORG",
                    "value": "example",
                    "created_at": "2026-01-10T10:59:22Z",
                    "updated_at": "2026-01-10T10:59:22Z",
                }
            ],
        },
        f"{BASE}/actions/permissions/workflow": {
            "default_workflow_permissions": "read",
            "can_approve_pull_request_reviews": False,
        },
        f"{BASE}/branches/main/protection": {
            "url": f"https://api.github.com{BASE}/branches/main/protection",
            "required_pull_request_reviews": {
                "dismiss_stale_reviews": True,
                "require_code_owner_reviews": False,
                "required_approving_review_count": 1,
                "require_last_push_approval": True,
            },
            "enforce_admins": {"enabled": True},
            "allow_force_pushes": {"enabled": False},
            "allow_deletions": {"enabled": False},
        },
    }


class LoopbackGitHubApi:
    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.requests: list[tuple[str, str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests.append(
                    (self.path, self.headers.get("Authorization", ""), self.headers["Accept"])
                )
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, {"message": "Bad credentials"})
                elif self.path in api.answers:
                    self._send(200, api.answers[self.path])
                else:
                    self._send(404, {"message": "Not Found"})

            def _send(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def api() -> Iterator[LoopbackGitHubApi]:
    server = LoopbackGitHubApi()
    yield server
    server.close()


def run_check(api: LoopbackGitHubApi, settings: dict[str, Any], token: str = TOKEN):
    api.answers = settings
    api.requests.clear()
    return subprocess.run(
        [sys.executable, "scripts/check_github_settings.py", REPO, "--api-url", api.url],
        cwd=ROOT,
        env={"GITHUB_TOKEN": token, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_as_the_docs_ask_pass(api: LoopbackGitHubApi) -> None:
    result = run_check(api, good_settings())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"Every setting the workflows rely on holds for {REPO}.\n"
    paths = {path for path, _, _ in api.requests}
    assert paths == set(good_settings())
    assert {auth for _, auth, _ in api.requests} == {f"Bearer {TOKEN}"}
    assert {accept for _, _, accept in api.requests} == {"application/vnd.github+json"}


def broken(path: str, change: Any) -> dict[str, Any]:
    settings = copy.deepcopy(good_settings())
    if change is None:
        del settings[path]
    else:
        change(settings[path])
    return settings


def _reviewers(env: dict[str, Any], **rule: Any) -> None:
    env["protection_rules"][1].update(rule)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        (broken(f"{BASE}/environments/production", None), "no `production` environment"),
        (
            broken(f"{BASE}/environments/production", lambda e: _reviewers(e, reviewers=[])),
            "`production` has no required reviewers",
        ),
        (
            broken(
                f"{BASE}/environments/production",
                lambda e: _reviewers(e, prevent_self_review=False),
            ),
            "lets the pusher approve their own deploy",
        ),
        (
            broken(
                f"{BASE}/environments/production",
                lambda e: e.update(deployment_branch_policy=None),
            ),
            "`production` deploys from any branch",
        ),
        (
            broken(
                f"{BASE}/environments/production/deployment-branch-policies",
                lambda p: p["branch_policies"].append({"name": "release/*", "type": "branch"}),
            ),
            "`production` deploys from [('branch', 'main'), ('branch', 'release/*')]",
        ),
        (broken(f"{BASE}/environments/preview", None), "no `preview` environment"),
        (
            broken(f"{BASE}/actions/oidc/customization/sub", lambda t: t.update(use_default=True)),
            "the OIDC subject is GitHub's default",
        ),
        (
            broken(
                f"{BASE}/actions/oidc/customization/sub",
                lambda t: t.update(include_claim_keys=["repo", "context"]),
            ),
            "job_workflow_ref:example/aks-bluegreen/.github/workflows/deploy.yml@refs/heads/main",
        ),
        (
            broken(
                f"{BASE}/actions/secrets",
                lambda s: s["secrets"].append({"name": "PULUMI_ACCESS_TOKEN"}),
            ),
            "repository-level secrets PULUMI_ACCESS_TOKEN reach every job",
        ),
        (
            broken(
                f"{BASE}/actions/permissions/workflow",
                lambda w: w.update(can_approve_pull_request_reviews=True),
            ),
            "workflows may approve pull requests",
        ),
        (broken(f"{BASE}/branches/main/protection", None), "`main` takes pushes without"),
        (
            broken(
                f"{BASE}/branches/main/protection",
                lambda b: b["required_pull_request_reviews"].update(
                    require_last_push_approval=False
                ),
            ),
            "the last pusher can approve their own push",
        ),
        (
            broken(
                f"{BASE}/branches/main/protection",
                lambda b: b.update(allow_force_pushes={"enabled": True}),
            ),
            "`main` allows force pushes",
        ),
    ],
    ids=[
        "no-production",
        "no-reviewers",
        "self-review",
        "any-branch",
        "second-branch",
        "no-preview",
        "default-sub",
        "sub-without-workflow",
        "repo-secret",
        "actions-approve",
        "main-unprotected",
        "last-push",
        "force-push",
    ],
)
def test_each_missing_setting_is_named_with_its_fix(
    api: LoopbackGitHubApi, settings: dict[str, Any], said: str
) -> None:
    result = run_check(api, settings)
    assert result.returncode == 1, result.stdout + result.stderr
    (problem,) = [line for line in result.stdout.splitlines() if line.startswith("- ")]
    assert said in problem, problem
    assert result.stdout.endswith(f"1 setting(s) of {REPO} do not hold (docs/pipeline.md).\n")


def test_a_token_the_api_refuses_is_an_error_not_a_pass(api: LoopbackGitHubApi) -> None:
    result = run_check(api, good_settings(), token="wrong")
    assert result.returncode == 2
    assert result.stderr == (
        f"check_github_settings: GET {BASE}/environments/production: HTTP 401 Unauthorized\n"
    )

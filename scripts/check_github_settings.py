"""Checks the GitHub settings the workflows' safety rests on, which no file in the repository holds.

Usage: GITHUB_TOKEN=... python3 scripts/check_github_settings.py OWNER/REPO [--api-url URL]

What it reads (GitHub REST API, each endpoint's documented response) and what it requires:

- `GET /repos/{repo}/environments/production` (Deployment environments, "Get an environment"):
  a `required_reviewers` protection rule with at least one reviewer and `prevent_self_review:
  true` (the pusher of a change cannot approve its own deploy), and `deployment_branch_policy`
  with `custom_branch_policies: true`;
- `GET /repos/{repo}/environments/production/deployment-branch-policies` (Deployment branch
  policies, "List deployment branch policies"): exactly one policy, the branch `main`, so GitHub
  refuses the environment (and its secrets and OIDC subject) to a job on any other ref;
- `GET /repos/{repo}/environments/preview`: the previews' environment exists, so its read-only
  credentials are not replaced by repository-level ones;
- `GET /repos/{repo}/actions/oidc/customization/sub` (OIDC, "Get the customization template for
  an OIDC subject claim for a repository"): `use_default: false` with `include_claim_keys`
  containing `repo`, `context` and `job_workflow_ref`, so the subject Entra ID matches names the
  workflow file and its ref, not only the environment;
- `GET /repos/{repo}/actions/secrets` and `/actions/variables` (names only): no repository-level
  PULUMI_ACCESS_TOKEN or AZURE_* entry, which every job would see, environment or not;
- `GET /repos/{repo}/actions/permissions/workflow`: `default_workflow_permissions: read` and
  `can_approve_pull_request_reviews: false` (a workflow's token cannot approve a pull request);
- `GET /repos/{repo}/branches/main/protection` (Branch protection): pull requests required with
  at least one approval and `require_last_push_approval`, no force pushes, admins included.

Reading environments' protection, secrets' names and branch protection needs a token with
administration read on the repository (a fine-grained token: "Administration", "Environments",
"Secrets", "Variables" read). Nothing is written.

Exit status: 0 every setting holds; 1 a setting does not (each is printed with its fix); 2 the API
could not be read. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

PRODUCTION = "production"
PREVIEW = "preview"
DEPLOY_BRANCH = "main"
SUB_CLAIMS = ("repo", "context", "job_workflow_ref")
# What only the environments may hold: the deploy's state token and Azure identity.
ENVIRONMENT_ONLY = ("PULUMI_ACCESS_TOKEN", "AZURE_CLIENT_ID", "AZURE_TENANT_ID")
API_VERSION = "2022-11-28"


class ApiError(Exception):
    """The API could not be read; the message names the request."""


Get = Callable[[str], Any]


def api_getter(api_url: str, token: str) -> Get:
    def get(path: str) -> Any:
        request = urllib.request.Request(
            f"{api_url.rstrip('/')}{path}",
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "aks-bluegreen-settings-check",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise ApiError(f"GET {path}: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as err:
            raise ApiError(f"GET {path}: {err}") from None

    return get


def check(repo: str, get: Get) -> list[str]:
    """Every setting that does not hold, each with its fix."""
    base = f"/repos/{repo}"
    problems: list[str] = []
    settings = f"https://github.com/{repo}/settings"

    production = get(f"{base}/environments/{PRODUCTION}")
    if production is None:
        problems.append(
            f"no `{PRODUCTION}` environment: create it ({settings}/environments), or GitHub "
            "creates it on the deploy's first run with no protection at all"
        )
    else:
        rules = production.get("protection_rules") or []
        reviewers = [r for r in rules if r.get("type") == "required_reviewers"]
        if not reviewers or not any(r.get("reviewers") for r in reviewers):
            problems.append(
                f"`{PRODUCTION}` has no required reviewers: add at least one under "
                "Deployment protection rules"
            )
        elif not all(r.get("prevent_self_review") is True for r in reviewers):
            problems.append(
                f"`{PRODUCTION}` lets the pusher approve their own deploy: tick "
                '"Prevent self-review"'
            )
        policy = production.get("deployment_branch_policy") or {}
        if policy.get("custom_branch_policies") is not True:
            problems.append(
                f"`{PRODUCTION}` deploys from any branch: set Deployment branches and tags to "
                f'"Selected branches and tags" with the single rule `{DEPLOY_BRANCH}`'
            )
        else:
            listed = get(f"{base}/environments/{PRODUCTION}/deployment-branch-policies") or {}
            names = sorted(
                (p.get("type", "branch"), p.get("name"))
                for p in listed.get("branch_policies") or []
            )
            if names != [("branch", DEPLOY_BRANCH)]:
                problems.append(
                    f"`{PRODUCTION}` deploys from {names or 'no branch'}: the only rule must be "
                    f"the branch `{DEPLOY_BRANCH}`"
                )

    if get(f"{base}/environments/{PREVIEW}") is None:
        problems.append(
            f"no `{PREVIEW}` environment: create it with the read-only preview app's AZURE_* "
            "variables and the read-only PULUMI_ACCESS_TOKEN (docs/pipeline.md)"
        )

    template = get(f"{base}/actions/oidc/customization/sub") or {}
    keys = template.get("include_claim_keys") or []
    if template.get("use_default") is not False or list(keys[:3]) != list(SUB_CLAIMS):
        problems.append(
            "the OIDC subject is GitHub's default, which any job naming the environment gets: "
            f"PUT {base}/actions/oidc/customization/sub with "
            '{"use_default": false, "include_claim_keys": ["repo", "context", '
            '"job_workflow_ref"]}, then set the Entra app\'s federated credential subject to '
            f"repo:{repo}:environment:{PRODUCTION}:job_workflow_ref:{repo}/.github/workflows/"
            f"deploy.yml@refs/heads/{DEPLOY_BRANCH}"
        )

    for kind in ("secrets", "variables"):
        listed = get(f"{base}/actions/{kind}") or {}
        defined = {str(entry.get("name")) for entry in listed.get(kind) or []}
        leaked = sorted(defined & set(ENVIRONMENT_ONLY))
        if leaked:
            problems.append(
                f"repository-level {kind} {', '.join(leaked)} reach every job, pull requests "
                f"included: move them to the `{PRODUCTION}` and `{PREVIEW}` environments"
            )

    workflow = get(f"{base}/actions/permissions/workflow") or {}
    if workflow.get("default_workflow_permissions") != "read":
        problems.append(
            'the default GITHUB_TOKEN can write: Actions > General > Workflow permissions > "Read '
            'repository contents and packages permissions"'
        )
    if workflow.get("can_approve_pull_request_reviews") is not False:
        problems.append(
            "workflows may approve pull requests, so a workflow can satisfy a required review: "
            'untick "Allow GitHub Actions to create and approve pull requests"'
        )

    protection = get(f"{base}/branches/{DEPLOY_BRANCH}/protection")
    reviews = (protection or {}).get("required_pull_request_reviews") or {}
    if protection is None or not reviews:
        problems.append(
            f"`{DEPLOY_BRANCH}` takes pushes without a pull request: protect it, requiring a pull "
            "request with an approval"
        )
    else:
        if int(reviews.get("required_approving_review_count") or 0) < 1:
            problems.append(f"`{DEPLOY_BRANCH}` merges without an approval: require at least one")
        if reviews.get("require_last_push_approval") is not True:
            problems.append(
                f"`{DEPLOY_BRANCH}`: the last pusher can approve their own push: tick "
                '"Require approval of the most recent reviewable push"'
            )
        if ((protection.get("allow_force_pushes") or {}).get("enabled")) is not False:
            problems.append(f"`{DEPLOY_BRANCH}` allows force pushes: turn them off")
        if ((protection.get("enforce_admins") or {}).get("enabled")) is not True:
            problems.append(
                f'`{DEPLOY_BRANCH}`: admins bypass the rules: tick "Do not allow bypassing"'
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the repository's GitHub settings.")
    parser.add_argument("repo", help="OWNER/REPO")
    parser.add_argument(
        "--api-url",
        default=os.environ.get("GITHUB_API_URL", "https://api.github.com"),
        help="the REST API's base URL (GitHub Enterprise Server: https://HOST/api/v3)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print(
            "check_github_settings: set GITHUB_TOKEN to a token that reads the repository's "
            "administration settings",
            file=sys.stderr,
        )
        return 2
    try:
        problems = check(args.repo, api_getter(args.api_url, token))
    except ApiError as err:
        print(f"check_github_settings: {err}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"- {problem}")
    if problems:
        print(f"{len(problems)} setting(s) of {args.repo} do not hold (docs/pipeline.md).")
        return 1
    print(f"Every setting the workflows rely on holds for {args.repo}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""On GitHub Actions the live checks sign in with the job's own OIDC tokens, as azure-native does.

The real azure-identity ClientAssertionCredential, azure-core pipeline and azure-mgmt-network client
against three TLS servers on loopback sharing one throwaway CA: GitHub's token endpoint, Entra ID's
token endpoint (tests/loopback_oidc.py) and ARM (tests/loopback_arm.py), which accepts only the
tokens that loopback Entra ID minted. `az` on PATH is logged out, so nothing here can pass through
the Azure CLI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from live_gateway.caller import (
    CLIENT_ID,
    OIDC_SWITCH,
    REQUEST_TOKEN,
    REQUEST_URL,
    TENANT_ID,
)
from live_gateway.providers import GatewayServesProvider, RetireGuardProvider
from loopback_arm import GATEWAY_ID, POOL, fake_az
from loopback_oidc import AUDIENCE, CLIENT, TENANT, LoopbackCloud, claims_of, serve

GREEN = ["10.241.0.4", "10.241.0.5"]
TOKEN_PATH = f"/{TENANT}/oauth2/v2.0/token"


def verify(cloud: LoopbackCloud) -> dict[str, Any]:
    provider = GatewayServesProvider(
        cloud.arm.url, cloud.ca_path, poll_seconds=0.01, authority_host=cloud.entra.url
    )
    props = {
        "gatewayId": GATEWAY_ID,
        "activeColor": "green",
        "subnets": {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
        "pools": [POOL],
        "controllerLogs": "kubectl -n agic logs deploy/agic-green-ingress-azure",
        "timeoutSeconds": 30,
    }
    return provider.create(props).outs or {}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCloud]:
    yield from serve(tmp_path_factory.mktemp("oidc"))


@pytest.fixture
def on_github(
    cloud: LoopbackCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LoopbackCloud:
    """The pulumi step's environment in the workflows, with GitHub's runner variables."""
    fake_az(tmp_path, logged_in=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    for name, value in cloud.environment().items():
        monkeypatch.setenv(name, value)
    return cloud


def test_verification_exchanges_a_fresh_github_token_for_each_entra_token(
    on_github: LoopbackCloud,
) -> None:
    # Entra ID's first token is expired as soon as it is issued (expires_in 0; a real one lasts
    # 60-90 minutes), so the next ARM request needs another; the second lasts as real ones do.
    on_github.script(GREEN, [0, 3599])
    outs = verify(on_github)
    assert outs["serving"] is True, outs["message"]
    github, entra = on_github.github, on_github.entra
    # Two token requests, each the single POST azure-identity sends (no discovery before it),
    # each presenting a GitHub token fetched for it and never presented again.
    assert entra.requests == [("POST", TOKEN_PATH), ("POST", TOKEN_PATH)]
    assert len(github.issued) == 2
    assert entra.assertions == github.issued
    assert all(claims_of(jwt)["aud"] == AUDIENCE for jwt in github.issued)
    assert [method for method, _, _ in github.requests] == ["GET", "GET"]
    # ARM saw the first token once, then the second for backend health's POST and its two polls.
    assert on_github.bearers() == [
        "Bearer entra-arm-token-1",
        "Bearer entra-arm-token-2",
        "Bearer entra-arm-token-2",
        "Bearer entra-arm-token-2",
    ]


def test_retire_guard_in_a_preview_signs_in_the_same_way(on_github: LoopbackCloud) -> None:
    on_github.script(GREEN, [3599])
    guard = RetireGuardProvider(
        on_github.arm.url, on_github.ca_path, 0.01, authority_host=on_github.entra.url
    )
    news = {"gatewayId": GATEWAY_ID, "retiredColor": "blue", "subnetCidr": "10.240.0.0/16"}
    assert guard.check({}, news).failures == []
    assert len(on_github.github.issued) == 1
    assert on_github.bearers() == ["Bearer entra-arm-token-1"]


def test_an_assertion_entra_refuses_fails_at_once_naming_the_app_and_the_fix(
    on_github: LoopbackCloud,
) -> None:
    on_github.script(
        GREEN,
        [3599],
        refuse="No matching federated identity record found for presented assertion.",
    )
    outs = verify(on_github)
    assert outs["serving"] is False
    assert outs["waitedSeconds"] == 0
    assert (
        f"could not read it (no Azure token from Entra ID for app {CLIENT} with the job's GitHub "
        "OIDC token (Microsoft Entra ID error '(invalid_client) AADSTS70021: No matching "
        "federated identity record found for presented assertion.'); the app needs a federated "
        "credential for this workflow's subject"
    ) in outs["message"]
    assert on_github.arm.requests == []


def test_a_refused_github_token_request_fails_at_once_without_asking_entra(
    on_github: LoopbackCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REQUEST_TOKEN, "a-request-token-of-another-job")
    on_github.script(GREEN, [3599])
    outs = verify(on_github)
    assert outs["serving"] is False
    assert "(GitHub's OIDC token endpoint answered HTTP 401 " in outs["message"]
    assert "`permissions: id-token: write`" in outs["message"]
    assert len(on_github.github.requests) == 1  # a 401 is not retried
    assert on_github.entra.requests == []
    assert on_github.arm.requests == []


def test_oidc_without_the_app_named_says_which_variable_to_set(
    on_github: LoopbackCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CLIENT_ID)
    on_github.script(GREEN, [3599])
    outs = verify(on_github)
    assert outs["serving"] is False
    assert outs["message"].startswith(
        "ARM_USE_OIDC is true and the job can request GitHub OIDC tokens, but ARM_CLIENT_ID is "
        "not set; set ARM_CLIENT_ID and ARM_TENANT_ID in the Pulumi step's env"
    )
    assert on_github.github.requests == []


@pytest.mark.parametrize("unset", [OIDC_SWITCH, REQUEST_URL, REQUEST_TOKEN])
def test_without_oidc_or_github_request_variables_the_checks_use_the_azure_cli(
    on_github: LoopbackCloud, monkeypatch: pytest.MonkeyPatch, unset: str
) -> None:
    monkeypatch.delenv(unset)
    on_github.script(GREEN, [3599])
    outs = verify(on_github)
    # The logged-out `az` answers: the CLI was asked, GitHub and Entra ID were not.
    assert "no Azure token from the Azure CLI" in outs["message"]
    assert "run `az login`" in outs["message"]
    assert on_github.github.requests == []
    assert on_github.entra.requests == []


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_the_workflows_give_the_provider_process_what_it_signs_in_with(name: str) -> None:
    # The dynamic providers run in a process the Pulumi CLI starts, with the CLI's environment:
    # the pulumi step's env and the runner's request variables (from id-token: write).
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    (job,) = [
        job
        for job in doc["jobs"].values()
        if any(str(step.get("uses", "")).startswith("pulumi/actions@") for step in job["steps"])
    ]
    assert job["permissions"]["id-token"] == "write"
    (step,) = [
        step
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("pulumi/actions@")
        and step["with"]["command"] in ("preview", "up")
    ]
    env = step["env"]
    assert env[OIDC_SWITCH] == "true"
    assert env[CLIENT_ID] == "${{ vars.AZURE_CLIENT_ID }}"
    assert env[TENANT_ID] == "${{ vars.AZURE_TENANT_ID }}"

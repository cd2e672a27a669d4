"""`agic.chart`: Microsoft's registry by default, or a mirror of it, as Helm and the preflight
use it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from safety_cases import Judge
from safety_cases import stack_config as sample
from test_plan_cli import run_plan, stack_file, step_lines

import config
from config.catalogs import agic_chart
from conftest import ROOT, by_name, with_overrides
from live_gateway.preflight import (
    MICROSOFT_REGISTRY,
    MICROSOFT_REPOSITORY,
    REGISTRY_ENDPOINT_VARIABLE,
)
from live_gateway.preflight_provider import PreflightProvider
from loopback_arm import TOKEN
from loopback_subscription import (
    ACR_ACCESS,
    TAGS_PATH,
    LoopbackSubscription,
    answer,
    serve_to_cli,
)
from loopback_tls import TlsJsonServer, _handler
from plan.evaluate import Evaluation
from plan.policy_check import check

MIRROR = "oci://myregistry.azurecr.io/mirror/charts/ingress-azure"
REPOSITORY = "azure-application-gateway/charts/ingress-azure"
BLUE = str(ROOT / "Pulumi.blue.yaml")


def _parse(chart: Any) -> config.StackConfig:
    raw = with_overrides("blue", {"agic": {"chart": chart}})
    as_text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    return config.parse({k.removeprefix("aks-bluegreen:"): v for k, v in as_text.items()})


@pytest.mark.parametrize(
    "chart",
    [
        "oci://mcr.microsoft.com/azure-application-gateway/charts/ingress-azure",
        MIRROR,
        "oci://127.0.0.1:5000/charts/ingress-azure",
        "oci://registry.internal:8443/ingress-azure",
    ],
)
def test_microsofts_registry_and_mirrors_of_it_are_accepted(chart: str) -> None:
    assert _parse(chart).agic.chart == chart


def test_the_registry_and_repository_keep_a_port() -> None:
    agic = _parse("oci://127.0.0.1:5000/charts/ingress-azure").agic
    assert agic.chart_registry == "127.0.0.1:5000"
    assert agic.chart_repository == "charts/ingress-azure"


@pytest.mark.parametrize(
    ("chart", "words"),
    [
        ("https://myregistry.azurecr.io/charts/ingress-azure", "is not an OCI chart reference;"),
        ("charts/ingress-azure", "is not an OCI chart reference;"),
        ("oci:///charts/ingress-azure", "oci://REGISTRY[:PORT]/REPOSITORY"),
        ("oci://myregistry.azurecr.io", "oci://REGISTRY[:PORT]/REPOSITORY"),
        ("oci://myregistry.azurecr.io/charts/ingress-azure:1.9.8", "no tag or digest"),
        ("oci://myregistry.azurecr.io/charts/ingress-azure@sha256:" + "a" * 64, "no tag or digest"),
        ("oci://myregistry.azurecr.io:99999/charts/ingress-azure", "REGISTRY[:PORT]"),
        ("oci://myregistry.azurecr.io/charts/Ingress-Azure", "lower-case"),
        ("oci://myregistry.azurecr.io/charts/agic", "does not end in /ingress-azure"),
        ("oci://myregistry.azurecr.io/ingress-azure/chart", "does not end in /ingress-azure"),
    ],
)
def test_a_chart_reference_that_is_not_the_agic_chart_in_an_oci_registry_is_refused(
    chart: str, words: str
) -> None:
    with pytest.raises(config.ConfigError) as raised:
        _parse(chart)
    assert raised.value.key == "agic.chart", str(raised.value)
    assert words in str(raised.value), str(raised.value)
    assert "write it like oci://myregistry.azurecr.io/charts/ingress-azure" in str(raised.value)


@pytest.fixture(scope="module")
def mirrored(evaluate_variant: Callable[..., Evaluation]) -> Evaluation:
    return evaluate_variant("blue", agic={"chart": MIRROR})


def test_the_release_installs_the_mirrored_chart(mirrored: Evaluation) -> None:
    release = mirrored.one("kubernetes:helm.sh/v3:Release")
    assert (release.inputs["chart"], release.inputs["version"]) == (MIRROR, "1.9.8")


def test_the_preflight_asks_the_mirror_for_the_chart_version(mirrored: Evaluation) -> None:
    check = by_name(mirrored, "preflight-check").inputs
    assert (check["chartRegistry"], check["chartRepository"]) == (
        "myregistry.azurecr.io",
        "mirror/charts/ingress-azure",
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSubscription]:
    yield from serve_to_cli(tmp_path_factory.mktemp("mirror"))


def _check_tags(registry: LoopbackSubscription) -> list[str]:
    # No registry endpoint override: the mirror is reached at the host and port agic.chart names.
    provider = PreflightProvider(registry.url, registry.ca_path)
    news = {
        "subscriptionId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9x",
        "location": "westeurope",
        "clusters": [],
        "chartRegistry": registry.url.removeprefix("https://"),
        "chartRepository": REPOSITORY,
        "chartVersion": "1.9.8",
    }
    return [failure.reason for failure in provider.check({}, news).failures]


def test_a_mirror_on_a_port_is_asked_for_its_tags_there(registry: LoopbackSubscription) -> None:
    registry.script()
    assert _check_tags(registry) == []
    assert registry.requests == [TAGS_PATH]


def test_a_mirror_that_asks_for_sign_in_is_refused_with_the_fix(
    registry: LoopbackSubscription,
) -> None:
    registry.script(tags=401)
    [reason] = _check_tags(registry)
    assert reason.startswith("aks-bluegreen:agic.chart: "), reason
    assert "asks for sign-in" in reason and "anonymous pull" in reason, reason


class ChallengingRegistry:
    """A registry that answers an unsigned read with a Bearer challenge, as ACR does, and hands
    out an anonymous pull token at its realm when `anonymous` (distribution's token spec)."""

    def __init__(self, tmp: Path, anonymous: bool) -> None:
        self.anonymous = anonymous
        self.token_queries: list[str] = []
        ca = trustme.CA()
        self.ca_path = tmp / "registry-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.server = TlsJsonServer(ca, self.respond)
        self.host = self.server.url.removeprefix("https://")

    def respond(
        self, method: str, path: str, headers: dict[str, str], _body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        route, _, query = path.partition("?")
        if route == "/oauth2/token":
            self.token_queries.append(query)
            if not self.anonymous:
                return 401, {}, {"errors": [{"code": "UNAUTHORIZED"}]}
            return 200, {}, {"access_token": "anonymous-pull"}
        if route == TAGS_PATH and headers.get("Authorization") == "Bearer anonymous-pull":
            return 200, {}, {"name": REPOSITORY, "tags": ["1.9.7", "1.9.8"]}
        challenge = (
            f'Bearer realm="{self.server.url}/oauth2/token",service="{self.host}",'
            f'scope="repository:{REPOSITORY}:pull"'
        )
        return 401, {"WWW-Authenticate": challenge}, {"errors": [{"code": "UNAUTHORIZED"}]}

    def check(self) -> list[str]:
        provider = PreflightProvider("https://127.0.0.1:9", self.ca_path)
        news = {
            "subscriptionId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9x",
            "location": "westeurope",
            "clusters": [],
            "chartRegistry": self.host,
            "chartRepository": REPOSITORY,
            "chartVersion": "1.9.8",
        }
        return [failure.reason for failure in provider.check({}, news).failures]


def test_a_mirror_that_challenges_is_read_with_its_anonymous_pull_token(tmp_path: Path) -> None:
    registry = ChallengingRegistry(tmp_path, anonymous=True)
    try:
        assert registry.check() == []
        [query] = registry.token_queries
        assert f"scope=repository%3A{REPOSITORY.replace('/', '%2F')}%3Apull" in query
        assert f"service={registry.host.replace(':', '%3A')}" in query
    finally:
        registry.server.close()


def test_a_mirror_without_anonymous_pull_is_refused_with_the_fix(tmp_path: Path) -> None:
    registry = ChallengingRegistry(tmp_path, anonymous=False)
    try:
        [reason] = registry.check()
        assert reason.startswith("aks-bluegreen:agic.chart: "), reason
        assert "anonymous pull" in reason, reason
    finally:
        registry.server.close()


def test_the_plan_shows_a_move_to_a_mirror_whole_as_an_update_of_the_release(
    tmp_path: Path,
) -> None:
    mirrored = with_overrides("blue", {"agic": {"chart": MIRROR}})
    result = run_plan(BLUE, str(stack_file(tmp_path, "blue", mirrored)), "--no-policies")
    assert result.returncode == 0, result.stderr
    [step] = step_lines(result.stdout)
    assert "update" in step and "helm.sh/v3:Release agic-release" in step, step
    # Which registry the chart now comes from is the change: both references are shown whole.
    assert f"chart {agic_chart.CHART} -> {MIRROR}" in result.stdout, result.stdout


# --- an Azure Container Registry mirror, read as the caller ------------------------------------

ACR = "myregistry.azurecr.io"
ACR_REPOSITORY = "mirror/charts/ingress-azure"


def _ask_mirror(
    registry: LoopbackSubscription,
    host: str = ACR,
    repository: str = ACR_REPOSITORY,
    endpoint: str | None = None,
    version: str = "1.9.8",
) -> list[str]:
    # The ACR's name is agic.chart's; the loopback serves it as its endpoint (a proxy's place).
    provider = PreflightProvider(
        registry.url, registry.ca_path, registry_endpoint=endpoint or registry.url
    )
    news = {
        "subscriptionId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9x",
        "location": "westeurope",
        "clusters": [],
        "chartRegistry": host,
        "chartRepository": repository,
        "chartVersion": version,
    }
    return [failure.reason for failure in provider.check({}, news).failures]


def test_an_acr_mirror_is_read_with_the_callers_entra_token_exchanged_for_its_own(
    registry: LoopbackSubscription,
) -> None:
    registry.script(signIn=ACR, repository=ACR_REPOSITORY)
    assert _ask_mirror(registry) == []
    tags = f"/v2/{ACR_REPOSITORY}/tags/list"
    assert registry.requests == [tags, "/oauth2/exchange", "/oauth2/token", tags]
    # Anonymous first; the Entra token goes to the exchange alone, in its form body.
    assert [auth for auth, _ in registry.sent] == ["", "", "", f"Bearer {ACR_ACCESS}"]
    assert [TOKEN.encode() in body for _, body in registry.sent] == [False, True, False, False]


def test_an_acr_that_refuses_the_caller_names_agic_chart_and_the_pull_rights(
    registry: LoopbackSubscription,
) -> None:
    # The registry grants another principal only.
    registry.script(signIn=ACR, grantee="another-principal", repository=ACR_REPOSITORY)
    [reason] = _ask_mirror(registry)
    assert reason == (
        f"aks-bluegreen:agic.chart: {ACR}/{ACR_REPOSITORY} refused the caller's sign-in (HTTP "
        "401 at /oauth2/exchange): the principal running Pulumi needs pull rights on it "
        "(AcrPull), as the one running `helm upgrade` does"
    )


def test_an_acr_behind_a_plain_http_endpoint_is_never_sent_the_entra_token(
    registry: LoopbackSubscription,
) -> None:
    # An endpoint override may be plain HTTP (a proxy on loopback): the caller's token crosses
    # no unencrypted connection, so such a mirror is reported, not signed in to.
    seen: list[tuple[str, str, bytes]] = []

    def respond(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        seen.append((path, headers.get("Authorization", ""), body))
        return answer(registry.answers, method, path, headers, body) or (404, {}, None)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(respond))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        # Its challenge names the same plain endpoint as the realm: no token is asked there.
        registry.script(signIn=ACR, realm=f"{endpoint}/oauth2/token", repository=ACR_REPOSITORY)
        [reason] = _ask_mirror(registry, endpoint=endpoint)
    finally:
        server.shutdown()
        server.server_close()
    assert reason.startswith(f"aks-bluegreen:agic.chart: {ACR} asks for sign-in"), reason
    assert [path.partition("?")[0] for path, _, _ in seen] == [f"/v2/{ACR_REPOSITORY}/tags/list"]
    assert all(TOKEN not in auth and TOKEN.encode() not in body for _, auth, body in seen)


def test_a_version_missing_from_a_mirror_is_refused_naming_the_mirror_and_the_copy(
    registry: LoopbackSubscription,
) -> None:
    registry.script(repository=ACR_REPOSITORY, tags={"name": ACR_REPOSITORY, "tags": ["1.9.7"]})
    [reason] = _ask_mirror(registry)
    assert reason == (
        f"aks-bluegreen:agic.chartVersion: 1.9.8 is not in {ACR}/{ACR_REPOSITORY} (agic.chart); "
        f"it has 1.9.7 (newest last); copy 1.9.8 into the mirror (helm pull {agic_chart.CHART} "
        "--version 1.9.8, then helm push it) or pick a version it has"
    )


def test_a_mirror_without_the_repository_names_agic_chart_and_the_copy(
    registry: LoopbackSubscription,
) -> None:
    registry.script(repository=ACR_REPOSITORY, tags=404)
    [reason] = _ask_mirror(registry)
    assert reason == (
        f"aks-bluegreen:agic.chart: {ACR}/{ACR_REPOSITORY} has no such repository (HTTP 404 "
        "NAME_UNKNOWN): copy the chart there (docs/chart-mirror.md) or correct agic.chart"
    )


def test_an_unreachable_registry_names_agic_chart_and_the_endpoint_variable(
    registry: LoopbackSubscription, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(REGISTRY_ENDPOINT_VARIABLE, raising=False)
    registry.script()
    provider = PreflightProvider(registry.url, registry.ca_path)
    news = {
        "subscriptionId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9x",
        "location": "westeurope",
        "clusters": [],
        # Port 9 (discard) on loopback: nothing listens there.
        "chartRegistry": "127.0.0.1:9",
        "chartRepository": REPOSITORY,
        "chartVersion": "1.9.8",
    }
    [reason] = [failure.reason for failure in provider.check({}, news).failures]
    assert reason.startswith("aks-bluegreen:agic.chart: cannot reach 127.0.0.1:9 for the chart's")
    assert reason.endswith(
        f"check the host in agic.chart, or set {REGISTRY_ENDPOINT_VARIABLE} where it is reached "
        "at another address"
    )


def test_the_preflight_names_microsofts_chart_as_the_catalog_does() -> None:
    # The preflight tells Microsoft's registry from a mirror without importing the config.
    assert f"oci://{MICROSOFT_REGISTRY}/{MICROSOFT_REPOSITORY}" == agic_chart.CHART


def test_moving_to_a_mirror_and_back_is_accepted_by_every_invariant_and_policy(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    judge = Judge()
    mirror = {"agic": {"chart": MIRROR}}
    assert list(judge.verdict(sample({}), sample(mirror)).verdict.refusals) == []
    assert list(judge.verdict(sample(mirror), sample({})).verdict.refusals) == []
    # The pack's AGIC policies recognise a mirror's release as the one AGIC release.
    assert check(evaluate_variant("blue", agic={"chart": MIRROR})) == []
    loopback = "oci://127.0.0.1:5000/charts/ingress-azure"
    assert check(evaluate_variant("green", agic={"chart": loopback})) == []

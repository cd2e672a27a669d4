"""The smoke gate: its script really fails on non-2xx, and its Job re-runs when it must."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from components.smoke_gate import SMOKE_SCRIPT
from plan.evaluate import Evaluation

JOB = "kubernetes:batch/v1:Job"


class _App(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        count = self.hits[self.path] = self.hits.get(self.path, 0) + 1
        status = {
            "/ok": 200,
            "/created": 201,
            "/error": 500,
            "/redirect": 301,
            "/not-found": 404,
            "/flaky": 503 if count <= 2 else 200,
            # An app that answers only for its own host, as ASP.NET Core's AllowedHosts does.
            "/shop": 200 if self.headers.get("Host") == "shop.example.com" else 400,
        }[self.path]
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _App)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run_gate(
    url: str, attempts: int = 3, host: str | None = None
) -> subprocess.CompletedProcess[str]:
    # The same script, arguments and shell semantics the Job's container runs.
    extra = [] if host is None else [host]
    return subprocess.run(
        ["sh", "-c", SMOKE_SCRIPT, "smoke", url, str(attempts), "2", "0", *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("path", ["/ok", "/created"])
def test_gate_passes_on_2xx(app_url: str, path: str) -> None:
    result = run_gate(app_url + path)
    assert result.returncode == 0, result.stdout
    assert "answered 2" in result.stdout


@pytest.mark.parametrize("path", ["/error", "/redirect", "/not-found"])
def test_gate_fails_on_any_non_2xx(app_url: str, path: str) -> None:
    result = run_gate(app_url + path)
    assert result.returncode == 1
    assert "never answered 2xx" in result.stdout
    assert result.stdout.count("attempt ") == 3


def test_gate_retries_until_the_app_is_ready(app_url: str) -> None:
    result = run_gate(app_url + "/flaky", attempts=5)
    assert result.returncode == 0
    assert result.stdout.count("answered 503") == 2


def test_gate_sends_the_host_the_gateway_routes(app_url: str) -> None:
    passed = run_gate(app_url + "/shop", host="shop.example.com")
    assert passed.returncode == 0, passed.stdout
    assert "(Host: shop.example.com) answered 200" in passed.stdout
    # Without it (an app with no host, an empty fifth argument) the same app refuses.
    for host in (None, ""):
        failed = run_gate(app_url + "/shop", attempts=1, host=host)
        assert failed.returncode == 1
        assert "answered 400" in failed.stdout and "Host:" not in failed.stdout


def test_gate_fails_when_nothing_listens() -> None:
    result = run_gate("http://127.0.0.1:9/", attempts=2)
    assert result.returncode == 1
    assert "answered 000" in result.stdout


def _job_names(stack: Evaluation) -> dict[str, str]:
    return {r.name.split("-")[0]: r.inputs["metadata"]["name"] for r in stack.of_type(JOB)}


def test_job_runs_the_script_against_the_workload_service(blue: Evaluation) -> None:
    for job in blue.of_type(JOB):
        spec = job.inputs["spec"]
        [container] = spec["template"]["spec"]["containers"]
        assert container["command"][:3] == ["sh", "-c", SMOKE_SCRIPT]
        assert container["command"][4] == "http://aspnetapp.aspnetapp.svc.cluster.local:80/"
        assert container["command"][-1] == ""  # the sample app has no host
        assert spec["backoffLimit"] == 0
        assert "ttlSecondsAfterFinished" not in spec
        assert job.inputs["metadata"]["namespace"] == "aspnetapp"


def test_job_waits_for_the_app_it_tests(blue: Evaluation) -> None:
    for color in ("blue", "green"):
        [job] = [j for j in blue.of_type(JOB) if j.name.startswith(color)]
        deps = {blue.resources[d].name for d in job.dependencies}
        assert f"{color}-aspnetapp-deployment" in deps
        assert f"{color}-aspnetapp-service" in deps


def test_gate_reruns_when_the_app_changes_in_both_clusters(
    blue: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    changed = evaluate_variant(
        "blue",
        workloads=[
            {"name": "aspnetapp", "image": "mcr.microsoft.com/dotnet/samples:aspnetapp-9.0"}
        ],
    )
    before, after = _job_names(blue), _job_names(changed)
    assert before["blue"] != after["blue"] and before["green"] != after["green"]


def test_gate_reruns_only_in_the_cluster_whose_version_changes(
    blue: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    changed = evaluate_variant("blue", clusters={"green": {"kubernetesVersion": "1.36.3"}})
    before, after = _job_names(blue), _job_names(changed)
    assert before["blue"] == after["blue"]
    assert before["green"] != after["green"]


def test_gate_reruns_on_cut_over_and_not_on_unrelated_changes(
    blue: Evaluation, green: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    assert _job_names(blue)["green"] != _job_names(green)["green"]
    unrelated = evaluate_variant("blue", gateway={"capacity": 3})
    assert _job_names(unrelated) == _job_names(blue)

"""The parts of the end-to-end run's real Kubernetes (stage 2) that need nothing built: the chart
it serves from its loopback registry, the kubeconfig the stand-in ARM answers, and kubelogin's
stand-in. The run itself (`bin/e2e`) reads the real clusters back after every `up`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from components.kubeconfig import KUBELOGIN_ARGS, entra_kubeconfig
from config.catalogs import agic_chart
from e2e.agic_watch import AgicWatch, Sample
from e2e.chart_registry import LAYER_TYPE, REPOSITORY, ChartRegistry, package
from e2e.stand_in_provider import _api_server_of, _pointed_at
from plan.cloud_mocks import kubeconfig_for

KUBELOGIN = ROOT / "e2e" / "kubelogin"


def test_the_e2e_chart_is_named_and_versioned_as_the_pinned_agic_chart() -> None:
    # The program's object names come from the chart's name (components/agic.py CHART_NAME) and
    # the preflight asks for the pinned version: a chart that differs proves nothing about them.
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(package()))) as archive:
        chart = yaml.safe_load(archive.extractfile("ingress-azure/Chart.yaml").read())  # type: ignore[union-attr]
        names = archive.getnames()
    assert (chart["name"], chart["version"]) == ("ingress-azure", agic_chart.PINNED)
    assert "ingress-azure/templates/deployment.yaml" in names


def test_the_loopback_registry_serves_the_chart_by_tag_and_its_blobs_by_digest() -> None:
    registry = ChartRegistry(agic_chart.PINNED)
    status, headers, manifest = registry.answer(
        "GET", f"/v2/{REPOSITORY}/manifests/{agic_chart.PINNED}"
    ) or (0, {}, None)
    assert status == 200
    document = json.loads(manifest.body)
    assert headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(manifest.body).hexdigest()
    [layer] = document["layers"]
    assert layer["mediaType"] == LAYER_TYPE
    status, _, blob = registry.answer("HEAD", f"/v2/{REPOSITORY}/blobs/{layer['digest']}") or (
        0,
        {},
        None,
    )
    assert status == 200
    assert "sha256:" + hashlib.sha256(blob.body).hexdigest() == layer["digest"]
    assert registry.pulls == 1
    status, _, listed = registry.answer("GET", f"/v2/{REPOSITORY}/tags/list") or (0, {}, None)
    assert (status, listed["tags"]) == (200, [agic_chart.PINNED])
    missing = registry.answer("GET", f"/v2/{REPOSITORY}/manifests/1.0.0")
    assert missing is not None and missing[0] == 404
    assert registry.answer("GET", "/subscriptions/x") is None


def test_arms_kubeconfig_is_pointed_at_the_local_api_server_and_keeps_its_entra_user() -> None:
    servers = {
        "blue": {"server": "https://127.0.0.1:6443", "ca": "QkxVRQ=="},
        "green": {"server": "https://127.0.0.1:7443", "ca": "R1JFRU4="},
    }
    local = _api_server_of("aksbg-e2e-green", servers)
    assert local == servers["green"]
    assert _api_server_of("aksbg-e2e-greenish", servers) is None
    arm = kubeconfig_for("aksbg-e2e-green", "green.hcp.westeurope.azmk8s.io", True)
    pointed = _pointed_at(arm, local["server"], local["ca"])
    # What the program makes of it: the local server and CA, and kubelogin as the user.
    kept = yaml.safe_load(entra_kubeconfig(base64.b64encode(pointed.encode()).decode()))
    cluster = kept["clusters"][0]["cluster"]
    assert cluster == {"certificate-authority-data": "R1JFRU4=", "server": "https://127.0.0.1:7443"}
    assert yaml.safe_load(pointed)["users"] == yaml.safe_load(arm)["users"]


def _kubelogin(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "AKSBG_E2E_CLUSTER_TOKEN": "the-token",
        "KUBERNETES_EXEC_INFO": json.dumps({"apiVersion": "client.authentication.k8s.io/v1"}),
    }
    return subprocess.run(
        [sys.executable, str(KUBELOGIN), *args], env=env, capture_output=True, text=True
    )


def test_kubelogin_stand_in_answers_the_programs_exec_block_with_the_clusters_token() -> None:
    done = _kubelogin(*KUBELOGIN_ARGS)
    assert done.returncode == 0, done.stderr
    credential = json.loads(done.stdout)
    assert credential["apiVersion"] == "client.authentication.k8s.io/v1"
    assert credential["status"]["token"] == "the-token"


def test_kubelogin_stand_in_refuses_an_exec_block_the_program_does_not_write() -> None:
    # ARM's own device-code block: the program must have replaced it (components/kubeconfig.py).
    assert _kubelogin("get-token", "--login", "devicecode", "--server-id", "x").returncode != 0
    wrong_app = [a if a != KUBELOGIN_ARGS[-1] else "not-aks" for a in KUBELOGIN_ARGS]
    assert _kubelogin(*wrong_app).returncode != 0


def test_the_agic_watch_reports_two_clusters_at_once_and_the_longest_gap() -> None:
    watch = AgicWatch(clusters=None, namespace="agic")  # type: ignore[arg-type]
    holders = [{"blue"}, {"blue"}, set(), set(), set(), {"green"}, {"blue", "green"}]
    watch.samples = [Sample(0.2 * i, frozenset(h)) for i, h in enumerate(holders)]
    assert [s.at for s in watch.together] == [watch.samples[-1].at]
    assert round(watch.gap(), 1) == 0.4
    assert watch.describe() == (
        "AGIC in ['blue'] -> ['blue', 'green'], in two clusters at once in 1 of 7 samples, "
        "in none in 3 (longest 0.4 s)"
    )

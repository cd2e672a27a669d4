"""An independent scanner, checkov, over what the program would send.

The Azure resources go to checkov as ARM templates rendered from the recorded registrations
(the sample stack, and the same stack with a WAF_v2 gateway so the firewall policy is scanned
too); the Kubernetes objects as one manifest file per cluster. checkov runs once a session and
the exact set of failing checks is asserted per framework: a regression fails, and so does an
improvement until this file and docs/proven.md drop the finding.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from scanner_inputs import ARM_TYPES, arm_template, kubernetes_manifests

from config import SAMPLE_IMAGE
from conftest import ROOT
from plan.evaluate import Evaluation

CHECKOV = ROOT / ".venv-scanner" / "bin" / "checkov"
SDK = ROOT / ".venv" / "lib" / "python3.11" / "site-packages" / "pulumi_azure_native"
MAX_FINDINGS = 4

# What stays failing, and why; docs/proven.md's "Findings the scanner keeps" lists the same.
FINDINGS: dict[str, dict[str, str]] = {
    "arm": {
        "CKV_AZURE_6": "API server authorized IP ranges depend on where the runners live",
        "CKV_AZURE_8": "AKS no longer has a dashboard addon to disable",
        "CKV_AZURE_135": "checkov accepts only OWASP CRS 3.1/3.2 rule sets; DRS 2.2 is newer",
        "CKV_AZURE_172": "checkov wants a boolean where ARM's addon config takes the string 'true'",
    },
    "kubernetes": {
        "CKV_K8S_11": "no CPU limits: requests reserve CPU, a limit only throttles",
    },
}
# The sample with a WAF_v2 gateway, so the firewall policy is scanned too, and with HTTPS: the
# gateway's identity, its Key Vault grant, its certificate and the DNS record (docs/https.md).
VARIANT: dict[str, Any] = {
    "gateway": {
        "sku": "WAF_v2",
        "certificates": [
            {
                "name": "shop-tls",
                "keyVaultSecretId": "https://shop-kv.vault.azure.net/secrets/shop-tls",
                "keyVaultResourceGroup": "secrets-rg",
            }
        ],
    },
    "workloads": [
        {
            "name": "aspnetapp",
            "image": SAMPLE_IMAGE,
            "host": "shop.example.com",
            "tls": {"certificate": "shop-tls"},
        }
    ],
    "dns": {"zone": "example.com", "resourceGroup": "dns-rg"},
}


def _expected(framework: str) -> set[str]:
    return set(FINDINGS[framework])


@pytest.fixture(scope="session")
def scanned(
    blue: Evaluation,
    evaluate_variant: Callable[..., Evaluation],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, dict[str, Any]]:
    """checkov's JSON report per framework, from one run over everything rendered."""
    assert CHECKOV.exists(), "the scanner's virtualenv is missing: run bin/venv --scanner"
    root = tmp_path_factory.mktemp("scan")
    (root / "arm").mkdir()
    (root / "kubernetes").mkdir()
    waf = evaluate_variant("blue", **VARIANT)
    for name, evaluation in (("sample", blue), ("variant", waf)):
        (root / "arm" / f"{name}.json").write_text(json.dumps(arm_template(evaluation), indent=1))
    for cluster, text in kubernetes_manifests(blue).items():
        (root / "kubernetes" / f"{cluster}.yaml").write_text(text)
    # --skip-download: no guideline or policy download from Prisma Cloud; the checks are local.
    command = [str(CHECKOV), "--directory", str(root), "--framework", "arm", "kubernetes"]
    result = subprocess.run(
        [*command, "--output", "json", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # checkov exits 1 when any check fails; anything else is a failure of the run itself.
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return {report["check_type"]: report for report in reports}


def _failing(report: dict[str, Any]) -> set[str]:
    return {check["check_id"] for check in report["results"]["failed_checks"]}


@pytest.mark.parametrize("framework", ["arm", "kubernetes"])
def test_scanner_finds_exactly_the_known_findings(
    scanned: dict[str, dict[str, Any]], framework: str
) -> None:
    report = scanned[framework]
    assert report["summary"]["parsing_errors"] == 0
    failing = _failing(report)
    details = sorted(
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
        if c["check_id"] not in _expected(framework)
    )
    assert failing == _expected(framework), "\n".join(details)


def test_scanner_reads_every_rendered_object(
    scanned: dict[str, dict[str, Any]], blue: Evaluation, evaluate_variant: Callable[..., Any]
) -> None:
    # A resource checkov cannot parse would pass silently: every one must have been read.
    # checkov counts a template's resources by type and name (the two Container Insights
    # associations share a name, one per cluster).
    waf = evaluate_variant("blue", **VARIANT)
    distinct = sum(
        len({(r["type"], r["name"]) for r in arm_template(evaluation)["resources"]})
        for evaluation in (blue, waf)
    )
    assert scanned["arm"]["summary"]["resource_count"] == distinct
    results = scanned["kubernetes"]["results"]
    checked = {c["resource"] for c in results["passed_checks"] + results["failed_checks"]}
    pods = {
        f"{r.inputs['kind']}.{r.inputs['metadata']['namespace']}.{r.inputs['metadata']['name']}"
        for r in blue.resources.values()
        if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job")
    }
    assert len(pods) == 3  # one Deployment name in both clusters, one Job per cluster
    assert pods <= checked


def test_at_most_four_findings_stay_per_framework() -> None:
    assert all(len(findings) <= MAX_FINDINGS for findings in FINDINGS.values())


def test_docs_explain_every_finding_that_stays() -> None:
    proven = (ROOT / "docs" / "proven.md").read_text()
    section = proven.split("## Findings the scanner keeps", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(CKV2?_[A-Z0-9_]+)`", section))
    assert listed == {check for findings in FINDINGS.values() for check in findings}


def test_arm_types_use_the_api_versions_of_the_installed_sdk() -> None:
    for token, arm in ARM_TYPES.items():
        source = (SDK / f"{arm.sdk_module}.py").read_text()
        found = re.search(r"Uses Azure REST API version (\d{4}-\d{2}-\d{2}(-preview)?)", source)
        assert found and found.group(1) == arm.api_version, token


def test_arm_template_puts_the_gateway_settings_where_arm_has_them(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    template = arm_template(evaluate_variant("blue", **VARIANT))
    by_type = {r["type"]: r for r in template["resources"]}
    gateway = by_type["Microsoft.Network/applicationGateways"]
    assert gateway["zones"] == ["1", "2", "3"]
    assert gateway["properties"]["sku"] == {"name": "WAF_v2", "tier": "WAF_v2", "capacity": 2}
    assert gateway["properties"]["sslPolicy"]["policyName"] == "AppGwSslPolicy20220101S"
    policy = by_type["Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"]
    assert gateway["properties"]["firewallPolicy"]["id"].endswith(
        "/ApplicationGatewayWebApplicationFirewallPolicies/" + policy["name"]
    )
    pip = by_type["Microsoft.Network/publicIPAddresses"]
    assert pip["sku"] == {"name": "Standard"} and "sku" not in pip["properties"]
    cluster = by_type["Microsoft.ContainerService/managedClusters"]
    assert all(value == {} for value in cluster["identity"]["userAssignedIdentities"].values())
    assert all("resourceGroupName" not in r.get("properties", {}) for r in template["resources"])
    assert list(gateway["identity"]["userAssignedIdentities"].values()) == [{}]
    assert gateway["properties"]["sslCertificates"] == [
        {"name": "shop-tls", "keyVaultSecretId": "https://shop-kv.vault.azure.net/secrets/shop-tls"}
    ]
    record = by_type["Microsoft.Network/dnsZones/A"]
    assert record["name"] == "example.com/shop"
    assert set(record["properties"]) == {"ttl", "targetResource"}

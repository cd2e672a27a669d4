"""The offline catalogs: dated, sourced, current, and what the samples and docs use is in them;
and what they say cannot exist is refused, on a new stack and on a change."""

from __future__ import annotations

import contextlib
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import config
from config import support_window, transition
from config.catalogs import agic_chart, kubernetes_versions, regions, reserved_ranges, vm_sizes
from conftest import ROOT, STACK, sample_config, with_overrides
from plan.__main__ import main as plan_main
from plan.evaluate import ProgramError, evaluate
from policies.clusters import DEFAULT_MINIMUM_VERSION

CATALOGS = (agic_chart, kubernetes_versions, regions, reserved_ranges, vm_sizes)
TODAY = datetime.now(UTC).date()


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda module: module.__name__)
def test_each_catalog_is_dated_sourced_and_younger_than_a_year(catalog: ModuleType) -> None:
    assert isinstance(catalog.TAKEN, date) and catalog.TAKEN <= TODAY
    assert catalog.SOURCE.strip()
    # A year-old catalog misses a minor or two, and its end-of-life dates have moved on:
    # docs/catalogs.md says how to refresh it.
    assert timedelta(days=365) > TODAY - catalog.TAKEN, (
        f"{catalog.__name__} was taken on {catalog.TAKEN}: run scripts/refresh_catalogs.py "
        "(docs/catalogs.md)"
    )


def _stack(color: str) -> config.StackConfig:
    prefix = f"{config.PROJECT}:"
    own = {
        key.removeprefix(prefix): value
        if isinstance(value, str)
        else __import__("json").dumps(value)
        for key, value in sample_config(color).items()
        if key.startswith(prefix)
    }
    return config.parse(own)


@pytest.mark.parametrize("color", ["blue", "green"])
def test_every_value_the_samples_use_is_in_the_catalogs_and_supported(color: str) -> None:
    cfg = _stack(color)
    taken = kubernetes_versions.TAKEN
    for cluster in cfg.clusters.values():
        minor = kubernetes_versions.minor_of(cluster.kubernetes_version)
        assert minor in kubernetes_versions.supported_on(taken), minor
        assert cluster.vm_size in vm_sizes.SIZES
    assert cfg.location in regions.BY_NAME and regions.BY_NAME[cfg.location].has_zones
    assert cfg.agic.chart_version == agic_chart.PINNED in agic_chart.PUBLISHED
    # A new stack from the sample is not refused, and warned about nothing.
    judgement = support_window.judge(cfg, None, taken)
    assert judgement.refusals == [] and judgement.warnings == []


def test_the_defaults_and_the_policy_minimum_follow_the_catalog() -> None:
    defaults = config.parse(
        {
            "active": "blue",
            "access": '{"deployer": {"objectId": "00000000-0000-0000-0000-00000000d3b1"}}',
        }
    )
    supported = kubernetes_versions.supported_on(kubernetes_versions.TAKEN)
    assert [c.kubernetes_version for c in defaults.clusters.values()] == ["1.35", "1.36"]
    assert all(c.kubernetes_version in supported for c in defaults.clusters.values())
    assert defaults.agic.chart_version == agic_chart.PINNED
    # The policy's default minimum is the oldest minor AKS supported when the catalog was taken.
    assert supported[0] == DEFAULT_MINIMUM_VERSION


def test_every_kubernetes_version_the_docs_show_is_usable_or_refused() -> None:
    """A version a reader copies from the docs either works on a new stack or is refused: none
    is accepted offline only to fail in AKS."""
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    shown = {
        version
        for path in texts
        for version in re.findall(r'"(1\.\d+(?:\.\d+)?)"', path.read_text())
    }
    assert {"1.36", "1.99", "1.33.99"} <= shown, shown
    for version in shown:
        overrides = {
            "clusters": {**CLUSTERS, "blue": {**CLUSTERS["blue"], "kubernetesVersion": version}}
        }
        try:
            cfg = config.parse(_raw(overrides))
        except config.ConfigError:
            continue
        judgement = support_window.judge(cfg, None, kubernetes_versions.TAKEN)
        minor = kubernetes_versions.minor_of(version)
        assert judgement.refusals or minor in kubernetes_versions.supported_on(
            kubernetes_versions.TAKEN
        ), version


def test_catalog_facts_hold_together() -> None:
    releases = kubernetes_versions.MINORS
    assert [r.key for r in releases] == sorted(r.key for r in releases)
    for release in releases:
        assert release.ga < release.end_of_life
        assert release.lts_end_of_life is None or release.lts_end_of_life > release.end_of_life
        assert all(p <= (release.newest_patch_seen or p) for p in release.aks_patches)
    # The calendar the issue checks against: 1.33 ends in July 2026, 1.34 in November.
    assert kubernetes_versions.BY_MINOR["1.33"].end_of_life == date(2026, 7, 31)
    assert kubernetes_versions.BY_MINOR["1.34"].end_of_life == date(2026, 11, 30)
    assert kubernetes_versions.supported_on(date(2026, 12, 2)) == ["1.35", "1.36", "1.37"]
    # The temp disks the ephemeral OS rule reads are the catalog's.
    assert config.limits.TEMP_DISK_GIB["Standard_D4ds_v5"] == 150
    assert config.limits.TEMP_DISK_GIB["Standard_D4s_v5"] == 0
    assert {str(r.network) for r in reserved_ranges.AZURE_CNI} == {
        "169.254.0.0/16",
        "172.30.0.0/16",
        "172.31.0.0/16",
        "192.0.2.0/24",
    }
    assert "168.63.129.16/32" in {str(r.network) for r in reserved_ranges.VNET}


# --- what the catalogs refuse: the values the issue found accepted --------------------------

ACCESS = '{"deployer": {"objectId": "00000000-0000-0000-0000-00000000d3b1"}}'
CLUSTERS = {
    "blue": {"kubernetesVersion": "1.35", "subnetCidr": "10.240.0.0/16"},
    "green": {"kubernetesVersion": "1.36", "subnetCidr": "10.241.0.0/16"},
}


def _cluster(**blue: Any) -> dict[str, Any]:
    return {"clusters": {**CLUSTERS, "blue": {**CLUSTERS["blue"], **blue}}}


REFUSED: dict[str, tuple[dict[str, Any], str, str]] = {
    "minor that does not exist": (
        _cluster(kubernetesVersion="1.99"),
        "clusters.blue.kubernetesVersion",
        "'1.99': AKS has released no Kubernetes 1.99; the newest minor is 1.37",
    ),
    "patch that cannot exist": (
        _cluster(kubernetesVersion="1.33.99"),
        "clusters.blue.kubernetesVersion",
        "'1.33.99' cannot exist: the newest 1.33 patch was 1.33.10",
    ),
    "region that does not exist": (
        {"location": "northeurop"},
        "location",
        "did you mean northeurope",
    ),
    "zones in a region without them": (
        {"location": "westus"},
        "gateway.zones",
        "westus (West US) has no availability zones",
    ),
    "cluster zones in a region without them": (
        {"location": "westus", "gateway": {"zones": []}},
        "clusters.blue.availabilityZones",
        "has no availability zones",
    ),
    "vm size that does not exist": (
        _cluster(vmSize="Standard_Foo99"),
        "clusters.blue.vmSize",
        "Standard_Foo99 is not an Azure VM size",
    ),
    "vm size missing from its series": (
        _cluster(vmSize="Standard_D6ds_v5"),
        "clusters.blue.vmSize",
        "Standard_D6ds_v5 does not exist; its series comes in Standard_D2ds_v5",
    ),
    "chart never published": (
        {"agic": {"chartVersion": "9.9.9"}},
        "agic.chartVersion",
        "9.9.9 was never published as the AGIC chart",
    ),
    "host with capitals": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "host": "Shop.Example.COM"}]},
        "workloads[0].host",
        "write 'shop.example.com'",
    ),
    "host as a url": (
        {
            "workloads": [
                {"name": "shop", "image": "nginx:1.27", "host": "https://shop.example.com/"}
            ]
        },
        "workloads[0].host",
        "is a URL; a host is the name alone",
    ),
    "host with a port": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "host": "shop.example.com:8443"}]},
        "workloads[0].host",
        "has a port; write 'shop.example.com'",
    ),
    "host not in ascii": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "host": "bücher.example"}]},
        "workloads[0].host",
        "write its punycode form 'xn--bcher-kva.example'",
    ),
    "wildcard inside a label": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "host": "shop*.example.com"}]},
        "workloads[0].host",
        "has a '*' other than a leading '*.'",
    ),
    "path with a star mid-way": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "path": "/api*"}]},
        "workloads[0].path",
        "'*' may only end the path after '/'",
    ),
    "path with a query": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "path": "/api?x=1"}]},
        "workloads[0].path",
        "has a query or fragment",
    ),
    "path with a dot segment": (
        {"workloads": [{"name": "shop", "image": "nginx:1.27", "path": "/api/../admin"}]},
        "workloads[0].path",
        "which the Ingress API refuses",
    ),
    "gateway subnet too small for its capacity": (
        {"network": {"gatewaySubnetCidr": "10.225.0.0/26"}, "gateway": {"capacity": 125}},
        "network.gatewaySubnetCidr",
        "10.225.0.0/26 has 64 addresses, but gateway.capacity 125 takes one per instance",
    ),
}


def _raw(overrides: dict[str, Any]) -> dict[str, Any]:
    import json

    merged = {"active": "blue", "access": ACCESS, **overrides}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in merged.items()}


@pytest.mark.parametrize(("overrides", "key", "words"), REFUSED.values(), ids=REFUSED.keys())
def test_what_the_catalogs_say_cannot_exist_is_refused_naming_key_and_source(
    overrides: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(config.ConfigError) as raised:
        config.parse(_raw(overrides))
    assert raised.value.key == key, str(raised.value)
    assert words in str(raised.value), str(raised.value)
    # Each message names where its rule comes from.
    assert (
        "learn.microsoft.com" in str(raised.value)
        or "github.com" in str(raised.value)
        or "Kubernetes" in str(raised.value)
    ), str(raised.value)


@pytest.mark.parametrize(
    "workload",
    [
        {"host": "shop.example.com", "path": "/"},
        {"host": "*.example.com", "path": "/api/*"},
        {"host": "xn--bcher-kva.example", "path": "/b%C3%BCcher"},
    ],
)
def test_hosts_and_paths_agic_takes_pass(workload: dict[str, str]) -> None:
    cfg = config.parse(_raw({"workloads": [{"name": "shop", "image": "nginx:1.27", **workload}]}))
    assert cfg.workloads[0].host == workload["host"]


def _plan(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(ROOT), redirect_stdout(out), redirect_stderr(err):
        code = plan_main(["--no-policies", *args])
    return code, out.getvalue(), err.getvalue()


def _file(tmp_path: Path, name: str, cfg: dict[str, Any]) -> str:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": cfg}))
    return str(path)


@pytest.mark.parametrize(
    "case", ["region that does not exist", "chart never published", "host as a url"]
)
def test_the_plan_refuses_them_on_a_new_stack_and_on_a_change(tmp_path: Path, case: str) -> None:
    overrides, key, words = REFUSED[case]
    head = _file(tmp_path, "prod", with_overrides("blue", overrides))
    for args in ([head], [str(ROOT / "Pulumi.blue.yaml"), head]):
        code, _, err = _plan(*args)
        assert code == 2, err
        assert f"aks-bluegreen:{key}: " in err and words in err, err


def test_a_minor_past_end_of_life_is_refused_for_a_new_cluster_and_warned_for_a_kept_one(
    tmp_path: Path,
) -> None:
    old = with_overrides("blue", {"clusters": {"green": {"kubernetesVersion": "1.33"}}})
    head = _file(tmp_path, "prod", old)
    code, _, err = _plan(head)
    if kubernetes_versions.BY_MINOR["1.33"].end_of_life >= TODAY:
        pytest.skip("1.33 is not past its end of life yet")
    assert code == 1
    assert (
        "refused: aks-bluegreen:clusters.green.kubernetesVersion: 1.33 reached AKS end of " in err
    )
    assert "AKS creates no cluster on it" in err
    # Deployed on it already: the plan warns, with the days past and what LTS would need.
    code, _, err = _plan(head, head)
    assert code == 0, err
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert "1.33 reached AKS end of life on 2026-07-31" in warning and "days ago" in warning
    assert "LTS would keep 1.33 patched until 2027-07-31" in warning


def test_enabling_a_retired_cluster_on_an_ended_minor_is_refused() -> None:
    # The base retired green: enabling it creates it, so the support window refuses.
    day = date(2026, 12, 2)
    retired = config.parse(
        _raw({"clusters": {**CLUSTERS, "green": {**CLUSTERS["green"], "enabled": False}}})
    )
    head = config.parse(
        _raw(
            {"clusters": {**CLUSTERS, "green": {**CLUSTERS["green"], "kubernetesVersion": "1.34"}}}
        )
    )
    base = transition.facts_of(retired, "aksbg-prod")
    [refusal] = support_window.judge(head, base, day).refusals
    assert refusal.key == "clusters.green.kubernetesVersion"
    assert "1.34 reached AKS end of life on 2026-11-30 (2 days ago)" in str(refusal)
    # Kept running from a base that has it: a warning, not a refusal.
    kept = support_window.judge(head, transition.facts_of(head, "aksbg-prod"), day)
    assert kept.refusals == [] and len(kept.warnings) == 1


def test_the_program_refuses_a_new_cluster_past_end_of_life_and_warns_for_a_kept_one() -> None:
    old = with_overrides("blue", {"clusters": {"green": {"kubernetesVersion": "1.33"}}})
    if kubernetes_versions.BY_MINOR["1.33"].end_of_life >= TODAY:
        pytest.skip("1.33 is not past its end of life yet")
    with pytest.raises(ProgramError, match="AKS creates no cluster on it"):
        evaluate(old, STACK)
    cfg = config.parse(
        _raw(
            {"clusters": {**CLUSTERS, "green": {**CLUSTERS["green"], "kubernetesVersion": "1.33"}}}
        )
    )
    deployed = transition.facts_of(cfg, "aksbg-prod")
    kept = evaluate(old, STACK, previous_outputs={transition.OUTPUT: deployed.to_output()})
    # pulumi.log.warn in the program: the CLI prints it as a warning of the update.
    [warning] = [w for w in kept.warnings if "kubernetesVersion" in w]
    assert warning.startswith("aks-bluegreen:clusters.green.kubernetesVersion: 1.33 reached")


def test_days_left_are_counted_before_an_end_of_life() -> None:
    cfg = config.parse(_raw({}))
    release = kubernetes_versions.BY_MINOR["1.35"]
    day = release.end_of_life - timedelta(days=10)
    judgement = support_window.judge(cfg, transition.facts_of(cfg, "aksbg-prod"), day)
    [warning] = judgement.warnings
    assert "1.35 reaches AKS end of life on 2027-03-31 (10 days left)" in warning
    # A new stack that day is still allowed: the minor has not ended yet.
    assert support_window.judge(cfg, None, day).refusals == []

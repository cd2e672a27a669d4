"""Bad config stops the real program with one message that names the key and the fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import config
from conftest import ACCESS, ROOT, sample_config, with_overrides
from plan.evaluate import Evaluation, ProgramError, evaluate


def _parse(**values: Any) -> config.StackConfig:
    return config.parse({"access": ACCESS, **values})


# (overrides on the blue sample, key named in the message, words of the fix)
BAD_CONFIGS: dict[str, tuple[dict[str, Any], str, str]] = {
    "active is not a color": ({"active": "purple"}, "active", "set it to blue or green"),
    "active cluster retired": (
        {"clusters": {"blue": {"enabled": False}}},
        "clusters.blue.enabled",
        "move traffic first (set active: green)",
    ),
    "cluster subnets overlap": (
        {"clusters": {"green": {"subnetCidr": "10.240.128.0/17"}}},
        "clusters.green.subnetCidr",
        "give each subnet its own range",
    ),
    "subnet outside the vnet": (
        {"clusters": {"green": {"subnetCidr": "10.10.0.0/16"}}},
        "clusters.green.subnetCidr",
        "pick a range inside it",
    ),
    "gateway subnet overlaps a cluster": (
        {"network": {"gatewaySubnetCidr": "10.241.0.0/24"}},
        "clusters.green.subnetCidr",
        "give each subnet its own range",
    ),
    "cluster subnet too small for azure cni": (
        {"clusters": {"blue": {"subnetCidr": "10.240.0.0/25"}}},
        "clusters.blue.subnetCidr",
        "use a larger range or fewer maxPods",
    ),
    "gateway subnet too small": (
        {"network": {"gatewaySubnetCidr": "10.225.0.0/28"}},
        "network.gatewaySubnetCidr",
        "use a /26 or larger",
    ),
    "service cidr overlaps the vnet": (
        {"network": {"serviceCidr": "10.240.0.0/16", "dnsServiceIp": "10.240.0.10"}},
        "network.serviceCidr",
        "pick a range outside it",
    ),
    "dns service ip outside the service cidr": (
        {"network": {"dnsServiceIp": "10.1.0.10"}},
        "network.dnsServiceIp",
        "must be inside serviceCidr",
    ),
    "malformed kubernetes version": (
        {"clusters": {"green": {"kubernetesVersion": "v1.34"}}},
        "clusters.green.kubernetesVersion",
        'e.g. "1.36"',
    ),
    "kubernetes version as an unquoted yaml number": (
        {"clusters": {"green": {"kubernetesVersion": 1.3}}},
        "clusters.green.kubernetesVersion",
        "quote it",
    ),
    "not a cidr": (
        {"network": {"vnetCidr": "10.224.0.0/33"}},
        "network.vnetCidr",
        "write it like 10.240.0.0/16",
    ),
    "unknown top-level key": ({"activ": "green"}, "activ", "fix its spelling"),
    "unknown nested key": (
        {"clusters": {"green": {"nodeCnt": 5}}},
        "clusters.green.nodeCnt",
        "fix its spelling",
    ),
    "a third cluster": (
        {"clusters": {"red": {"kubernetesVersion": "1.33", "subnetCidr": "10.242.0.0/16"}}},
        "clusters",
        "the clusters are blue and green",
    ),
    "reconcile period out of the chart's range": (
        {"agic": {"reconcilePeriodSeconds": 10}},
        "agic.reconcilePeriodSeconds",
        "below the minimum of 30 (AGIC chart values.yaml",
    ),
    "two workloads on one route": (
        {
            "workloads": [
                {"name": "a", "image": "mcr.microsoft.com/dotnet/samples:aspnetapp"},
                {"name": "b", "image": "mcr.microsoft.com/dotnet/samples:aspnetapp"},
            ]
        },
        "workloads[1].path",
        "give each workload its own host or path",
    ),
    "workload name not a kubernetes name": (
        {"workloads": [{"name": "My_App", "image": "nginx:1.27"}]},
        "workloads[0].name",
        "use lower-case letters",
    ),
    "structured value that is not json": (
        {"network": "{not json"},
        "network",
        "is text, but it holds a mapping of keys to values",
    ),
    "gateway sku AGIC cannot drive": (
        {"gateway": {"sku": "Standard_Medium"}},
        "gateway.sku",
        "is not offered; use Standard_v2 or WAF_v2",
    ),
    "gateway zone that does not exist": (
        {"gateway": {"zones": ["1", "4"]}},
        "gateway.zones[1]",
        "is not allowed; use '1', '2' or '3'",
    ),
    "gateway zone listed twice": (
        {"gateway": {"zones": [1, 1]}},
        "gateway.zones",
        "list each zone once",
    ),
    "tls policy that allows old protocols": (
        {"gateway": {"tlsPolicy": "AppGwSslPolicy20170401"}},
        "gateway.tlsPolicy",
        "is not allowed; use 'AppGwSslPolicy20220101S' or 'AppGwSslPolicy20220101'",
    ),
    "firewall mode without a firewall": (
        {"gateway": {"wafMode": "Detection"}},
        "gateway.wafMode",
        "set gateway.sku to WAF_v2 or remove wafMode",
    ),
    "firewall mode misspelt": (
        {"gateway": {"sku": "WAF_v2", "wafMode": "prevention"}},
        "gateway.wafMode",
        "is not allowed; use 'Detection' or 'Prevention'",
    ),
    "image digest too short": (
        {"workloads": [{"name": "app", "image": "nginx:1.27@sha256:abc"}]},
        "workloads[0].image",
        "write IMAGE@sha256:<64 lower-case hex digits> or IMAGE:TAG@sha256:",
    ),
    "smoke image that is not a reference": (
        {"smoke": {"image": "curl images/curl"}},
        "smoke.image",
        "write REGISTRY/NAME:TAG",
    ),
    "deployer named by email, not object id": (
        {"access": {"deployer": {"objectId": "ops@contoso.com"}}},
        "access.deployer.objectId",
        "az ad sp show --id <appId> --query id -o tsv",
    ),
    "preview principal is the deployer": (
        {"access": {"preview": {"objectId": "00000000-0000-0000-0000-00000000D3B1"}}},
        "access.preview.objectId",
        "give previews their own principal",
    ),
    "both clusters upgraded in one window": (
        {
            "clusters": {
                "green": {"maintenance": {"patch": {"day": "Monday", "startTime": "03:00"}}}
            }
        },
        "clusters.green.maintenance.patch",
        "move one window to another day or time",
    ),
    "ephemeral os disk on a size without temp disk": (
        {"clusters": {"blue": {"vmSize": "Standard_D4s_v5"}}},
        "clusters.blue.vmSize",
        "or set osDiskType: Managed",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_stops_the_program_with_one_named_message(
    case: str, evaluate_variant: Callable[..., Evaluation]
) -> None:
    overrides, key, fix = BAD_CONFIGS[case]
    with pytest.raises(ProgramError) as raised:
        evaluate_variant("blue", **overrides)
    message = str(raised.value)
    assert message.startswith(f"aks-bluegreen:{key}: "), message
    assert fix in message
    assert "\n" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    "image",
    [
        "nginx",
        "nginx:1.27",
        "registry.example:5000/team/app:1.2",
        "nginx@sha256:" + "0" * 64,
        "mcr.microsoft.com/dotnet/samples:aspnetapp@sha256:" + "ab" * 32,
    ],
)
def test_image_references_with_tags_digests_or_both_are_accepted(image: str) -> None:
    cfg = _parse(active="blue", workloads=[{"name": "app", "image": image}])
    assert cfg.workloads[0].image == image


@pytest.mark.parametrize(
    ("gateway", "mode"),
    [({"sku": "WAF_v2"}, "Prevention"), ({"sku": "WAF_v2", "wafMode": "Detection"}, "Detection")],
)
def test_waf_v2_gateway_firewall_mode_defaults_to_prevention(
    gateway: dict[str, str], mode: str
) -> None:
    assert _parse(active="blue", gateway=gateway).gateway.firewall_mode == mode


def test_bad_config_raises_run_error_before_any_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    monkeypatch.setattr(config.reading, "_raw_project_config", lambda: {"active": "teal"})
    with pytest.raises(pulumi.RunError, match="aks-bluegreen:active: 'teal' is not a cluster"):
        config.load()


def test_standby_may_be_retired_and_its_cluster_disappears(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    retired = evaluate_variant("blue", clusters={"green": {"enabled": False}})
    names = {r.name for r in retired.resources.values()}
    assert "blue-aks" in names
    assert not {n for n in names if n.startswith("green-")}
    assert "agic-green-federation" not in names
    # The subnet stays: it is where the next green cluster will be built.
    assert "network-green-subnet" in names
    assert retired.outputs["clusters"].keys() == {"blue"}


def test_defaults_reproduce_the_runbook() -> None:
    cfg = _parse(active="blue")
    assert str(cfg.clusters["blue"].subnet_cidr) == "10.240.0.0/16"
    assert str(cfg.clusters["green"].subnet_cidr) == "10.241.0.0/16"
    [app] = cfg.workloads
    assert (app.image, app.replicas) == (config.SAMPLE_IMAGE, 3)
    assert app.image.startswith("mcr.microsoft.com/dotnet/samples:aspnetapp@sha256:")
    assert cfg.smoke.image.startswith("curlimages/curl:8.11.1@sha256:")
    assert (cfg.gateway.sku, cfg.gateway.zones, cfg.gateway.firewall_mode) == (
        "Standard_v2",
        ("1", "2", "3"),
        None,
    )
    assert cfg.clusters["blue"].node_count == 3


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["blue", "green", "10.240.0.0/16", "1.33", "10.0.0.10"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "blue",
                    "green",
                    "kubernetesVersion",
                    "subnetCidr",
                    "enabled",
                    "name",
                    "image",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "active",
                "location",
                "network",
                "clusters",
                "agic",
                "workloads",
                "gateway",
                "smoke",
                "access",
            ]
        ),
        _values,
        max_size=5,
    )
)
def test_any_config_either_validates_or_names_a_key(raw: dict[str, Any]) -> None:
    wire = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in raw.items()}
    try:
        cfg = config.parse(wire)
    except config.ConfigError as err:
        assert str(err).startswith(f"aks-bluegreen:{err.key}: ")
        top = err.key.split(".")[0].split("[")[0]
        assert top in raw or top in {"active", "access"}  # a required key may be what is missing
    else:
        assert cfg.clusters[cfg.active].enabled


def test_plan_command_reports_bad_config_in_one_line(tmp_path: Path) -> None:
    bad = with_overrides("blue", {"active": "purple"})
    head = tmp_path / "Pulumi.prod.yaml"
    head.write_text(yaml.safe_dump({"config": bad}))
    result = subprocess.run(
        [sys.executable, "-m", "plan", str(ROOT / "Pulumi.blue.yaml"), str(head)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {head}: aks-bluegreen:active: 'purple' is not a cluster; set it to blue or green"
    ]
    assert result.stdout == ""


def test_config_is_read_from_the_environment_the_pulumi_cli_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under the CLI the language host passes config as PULUMI_CONFIG (JSON, objects as JSON text);
    # the tests and the plan use set_all_config. Both must reach the same model.
    import pulumi

    pulumi.runtime.set_all_config({})
    values = {
        "aks-bluegreen:active": "green",
        "aks-bluegreen:clusters": json.dumps(
            {
                "blue": {"kubernetesVersion": "1.33", "subnetCidr": "10.240.0.0/16"},
                "green": {"kubernetesVersion": "1.34", "subnetCidr": "10.241.0.0/16"},
            }
        ),
        "aks-bluegreen:access": json.dumps(ACCESS),
        "azure-native:location": "westeurope",
    }
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(values))
    cfg = config.load()
    assert cfg.active == "green"
    assert cfg.clusters["green"].kubernetes_version == "1.34"
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({**values, "aks-bluegreen:colour": "x"}))
    with pytest.raises(pulumi.RunError, match="aks-bluegreen:colour: unknown key"):
        config.load()


@pytest.mark.parametrize("stack", ["Prod", "prod.eu", "prod_eu", "-prod", "a" * 25])
def test_stack_names_azure_cannot_use_are_refused_up_front(stack: str) -> None:
    # The stack name is at fault, not a config key: the message says the rule.
    with pytest.raises(ProgramError, match=f"^stack name '{re.escape(stack)}'"):
        evaluate(sample_config("blue"), stack)


def test_ordinary_stack_names_make_the_resource_prefix() -> None:
    cfg = _parse(active="blue")
    assert config.resource_prefix(cfg, "prod-weu-2") == "aksbg-prod-weu-2"

"""The preflight against a loopback ARM and chart registry, through the real Azure SDK pipeline.

The ARM answers with the shapes azure-rest-api-specs documents: ManagedClusters
ListKubernetesVersions (containerservice aks stable/2025-08-01 examples/
KubernetesVersions_List.json), ResourceSkus List for a region (compute Skus stable/2021-07-01
examples/skus/ListAvailableResourceSkusForARegion.json, with a restriction as
ResourceSkuRestrictions defines it) and Features Get (Microsoft.Features stable/2021-07-01,
FeatureResult). The registry answers the OCI distribution tags list. Tokens come from the real
AzureCliCredential through a fake `az`, and the server refuses requests without one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live_gateway.arm import ARM_ENDPOINT_VARIABLE
from live_gateway.preflight import REGISTRY_ENDPOINT_VARIABLE
from live_gateway.preflight_provider import PreflightProvider
from loopback_arm import SUBSCRIPTION
from loopback_subscription import (
    REGION,
    SKUS_PATH,
    TAGS_PATH,
    LoopbackSubscription,
    feature,
    serve_to_cli,
    sku,
    skus,
    zone_restriction,
)


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSubscription]:
    yield from serve_to_cli(tmp_path_factory.mktemp("preflight"))


def ask(
    loopback: LoopbackSubscription,
    provider: PreflightProvider | None = None,
    version: str = "1.36",
    vm_size: str = "Standard_D4ds_v5",
    zones: tuple[str, ...] = ("1", "2", "3"),
    creating: bool = True,
    chart: str = "1.9.8",
    encryption_at_host: bool = True,
) -> list[str]:
    provider = provider or PreflightProvider(
        loopback.url, loopback.ca_path, registry_endpoint=loopback.url
    )
    news = {
        "subscriptionId": SUBSCRIPTION,
        "location": REGION,
        "clusters": [
            {
                "color": "green",
                "kubernetesVersion": version,
                "vmSize": vm_size,
                "zones": list(zones),
                "encryptionAtHost": encryption_at_host,
                "creating": creating,
                "versionChanges": creating,
            }
        ],
        "chartRegistry": "mcr.microsoft.com",
        "chartRepository": "azure-application-gateway/charts/ingress-azure",
        "chartVersion": chart,
    }
    result = provider.check({}, news)
    assert result.inputs == news
    return [failure.reason for failure in result.failures]


def test_what_the_subscription_offers_passes(loopback: LoopbackSubscription) -> None:
    loopback.script()
    assert ask(loopback) == []
    assert ask(loopback, version="1.35.8") == []
    # Versions, sizes, the feature and the tags: each read once per check.
    assert len(loopback.requests) == 8
    [sizes, *_] = [path for path in loopback.requests if path.startswith(SKUS_PATH)]
    assert "filter=location" in sizes and "westeurope" in sizes, sizes


def test_the_endpoints_may_come_from_where_the_provider_runs(
    loopback: LoopbackSubscription, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The provider in the state carries no endpoints; the engine's process names them, as for
    # the cut-over verification (a sovereign cloud's ARM, a registry behind a proxy).
    monkeypatch.setenv(ARM_ENDPOINT_VARIABLE, loopback.url)
    monkeypatch.setenv(REGISTRY_ENDPOINT_VARIABLE, loopback.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", loopback.ca_path)
    loopback.script()
    assert ask(loopback, PreflightProvider()) == []
    assert len(loopback.requests) == 4


def test_a_patch_the_region_does_not_offer_is_refused_with_what_it_offers(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script()
    [reason] = ask(loopback, version="1.36.9")
    assert reason == (
        "aks-bluegreen:clusters.green.kubernetesVersion: 1.36.9 is not offered in westeurope; "
        "its 1.36 patches there are 1.36.3, 1.36.4, or write '1.36' for the latest "
        "(Microsoft.ContainerService/locations/westeurope/kubernetesVersions)"
    )


def test_a_minor_the_region_does_not_offer_is_refused(loopback: LoopbackSubscription) -> None:
    loopback.script()
    [reason] = ask(loopback, version="1.34")
    assert "1.34 is not offered in westeurope; AKS offers 1.35, 1.36, 1.37 there" in reason


def test_a_size_restricted_in_a_zone_is_refused_naming_the_zones_it_may_use(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script(skus=skus(sku("Standard_D4ds_v5", [zone_restriction(["1"])])))
    [reason] = ask(loopback)
    assert reason.startswith(
        "aks-bluegreen:clusters.green.availabilityZones: Standard_D4ds_v5 is not available to "
        "this subscription in zone(s) 1 of westeurope; it may use zones ['2', '3']"
    )
    assert ask(loopback, zones=("2", "3")) == []


def test_a_size_restricted_in_the_region_is_refused_with_what_it_may_use(
    loopback: LoopbackSubscription,
) -> None:
    location = {
        "type": "Location",
        "values": [REGION],
        "restrictionInfo": {"locations": [REGION]},
        "reasonCode": "NotAvailableForSubscription",
    }
    loopback.script(skus=skus(sku("Standard_D4ds_v5", [location]), sku("Standard_D8ds_v5")))
    [reason] = ask(loopback)
    assert reason == (
        "aks-bluegreen:clusters.green.vmSize: this subscription may not use Standard_D4ds_v5 in "
        "westeurope (NotAvailableForSubscription); it may use Standard_D8ds_v5 "
        "(Microsoft.Compute/skus in westeurope)"
    )


def test_host_encryption_without_the_registered_feature_is_refused(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script(feature=feature("NotRegistered"))
    [reason] = ask(loopback)
    assert reason.startswith(
        "aks-bluegreen:clusters.green.encryptionAtHost: true needs the subscription's "
        "Microsoft.Compute/EncryptionAtHost feature, which is NotRegistered; register it"
    )
    assert ask(loopback, encryption_at_host=False) == []


def test_a_403_names_the_missing_permission_not_an_invalid_value(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script(versions=403, skus=403, feature=403)
    reasons = ask(loopback)
    assert reasons == [
        "aks-bluegreen:clusters.green.kubernetesVersion: cannot read the Kubernetes versions "
        "AKS offers in westeurope (HTTP 403 AuthorizationFailed): the principal running Pulumi "
        "needs Microsoft.ContainerService/locations/kubernetesVersions/read, which the Reader "
        "role on the subscription grants",
        "aks-bluegreen:clusters.green.vmSize: cannot read the VM sizes this subscription may "
        "use in westeurope (HTTP 403 AuthorizationFailed): the principal running Pulumi needs "
        "Microsoft.Compute/skus/read, which the Reader role on the subscription grants",
        "aks-bluegreen:clusters.green.encryptionAtHost: cannot read the registration of "
        "Microsoft.Compute/EncryptionAtHost (HTTP 403 AuthorizationFailed): the principal "
        "running Pulumi needs Microsoft.Features/providers/features/read, which the Reader "
        "role on the subscription grants",
    ]


def test_a_running_cluster_is_not_asked_about_its_pool(loopback: LoopbackSubscription) -> None:
    # A kept cluster's pool was fixed when it was created: a size or patch the region no
    # longer offers does not stop the next update.
    loopback.script(versions=403, skus=skus(), feature=feature("NotRegistered"))
    assert ask(loopback, version="1.35.1", creating=False) == []
    assert all(TAGS_PATH in path for path in loopback.requests)


def test_a_chart_version_not_in_the_registry_is_refused_with_its_newest(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script()
    [reason] = ask(loopback, chart="1.9.9", creating=False)
    assert reason == (
        "aks-bluegreen:agic.chartVersion: 1.9.9 is not in mcr.microsoft.com/"
        "azure-application-gateway/charts/ingress-azure; it has 1.9.6, 1.9.7, 1.9.8 "
        "(newest last)"
    )


def test_an_unknown_subscription_in_a_first_preview_asks_only_the_registry(
    loopback: LoopbackSubscription,
) -> None:
    loopback.script()
    provider = PreflightProvider(loopback.url, loopback.ca_path, registry_endpoint=loopback.url)
    news = {
        "subscriptionId": "04da6b54-80e4-46f7-96ec-b56ff0331ba9x",
        "location": REGION,
        "clusters": [],
        "chartRegistry": "mcr.microsoft.com",
        "chartRepository": "azure-application-gateway/charts/ingress-azure",
        "chartVersion": "1.9.8",
    }
    assert provider.check({}, news).failures == []
    assert loopback.requests == [TAGS_PATH]

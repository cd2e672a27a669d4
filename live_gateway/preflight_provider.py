"""The preflight as a dynamic provider: Check asks the subscription and refuses what it would.

Check runs in `pulumi preview` and `up` alike, when the program registers the resource; the
resource group depends on it (components/preflight.py), so a refusal stops the update before
the engine creates, updates or deletes anything. Create and Update only store the inputs: the
resource changes nothing in Azure.
"""

from __future__ import annotations

import os
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ResourceProvider,
    UpdateResult,
)

from live_gateway.caller import caller_credential
from live_gateway.preflight import (
    REGISTRY_ENDPOINT_VARIABLE,
    Asks,
    ClusterAsk,
    PreflightReadError,
    Subscription,
    chart_tags,
    judge,
)
from live_gateway.providers import PROVIDER_KEY, _ArmAccess

PREFLIGHT_TYPE = "pulumi-python:dynamic/cutover:Preflight"


def _is_subscription(value: Any) -> bool:
    # A first preview may not know an output yet: the SDK hands Check a sentinel string.
    return isinstance(value, str) and len(value) == 36 and value.count("-") == 4


class PreflightProvider(_ArmAccess, ResourceProvider):
    """`registry_endpoint` points the chart's tag list at a loopback registry in tests."""

    def __init__(self, *args: Any, registry_endpoint: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.registry_endpoint = registry_endpoint

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        asks = _asks(news)
        subscription = None
        if _is_subscription(asks.subscription):
            subscription = Subscription(
                asks.subscription,
                caller_credential(self.authority_host, self.ca_bundle),
                self._arm(),
                self.ca_bundle,
            )
        try:
            tags: list[str] | None = chart_tags(
                asks.chart_registry,
                asks.chart_repository,
                self.registry_endpoint or os.environ.get(REGISTRY_ENDPOINT_VARIABLE) or None,
                self.ca_bundle,
                # An Azure Container Registry mirror is read as the caller, as Helm pulls from it.
                caller_credential(self.authority_host, self.ca_bundle),
            )
        except PreflightReadError as err:
            tags = None
            # The registry could not be read: where the chart is, not which version, is at fault.
            asks.problems.append(f"agic.chart: {err}")
        try:
            problems = judge(asks, subscription, tags)
        finally:
            if subscription is not None:
                subscription.close()
        return CheckResult(news, [CheckFailure("", f"aks-bluegreen:{p}") for p in problems])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        # Check has done the work and nothing reads what is stored, so a change of what is asked
        # (a cluster now created, a new version) is no step: previews stay quiet.
        return DiffResult(changes=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("preflight", _stored(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(_stored(news))


def _stored(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key != PROVIDER_KEY}


def _asks(news: dict[str, Any]) -> Asks:
    return Asks(
        subscription=str(news.get("subscriptionId") or ""),
        location=str(news["location"]),
        clusters=[
            ClusterAsk(
                color=str(c["color"]),
                kubernetes_version=str(c["kubernetesVersion"]),
                vm_size=str(c["vmSize"]),
                zones=[str(zone) for zone in c.get("zones") or []],
                encryption_at_host=bool(c["encryptionAtHost"]),
                creating=bool(c["creating"]),
                version_changes=bool(c["versionChanges"]),
            )
            for c in news.get("clusters") or []
        ],
        chart_registry=str(news["chartRegistry"]),
        chart_repository=str(news["chartRepository"]),
        chart_version=str(news["chartVersion"]),
    )

"""The floor under the offline plan: import the SDKs the program uses, register one resource.

The SDK packages load their modules lazily, on first attribute access, so "importing" them means
touching one class in each module the program uses; `--lazy` skips that and shows how little the
bare import statements cost. Nothing the plan does can be faster than this process: like the
plan, it runs with the cycle collector paused and ends without Python's teardown
(plan/__main__.py `run`, `exit_with`), so the plan is measured against the least such a process
can cost, not against one that does work the plan skips.
"""

from __future__ import annotations

import gc
import os
import sys

import pulumi
import pulumi_kubernetes as k8s
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await
from pulumi_azure_native import (
    authorization,
    containerservice,
    managedidentity,
    network,
    resources,
)


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def load_modules() -> None:
    for module, cls in (
        (authorization, "RoleAssignment"),
        (containerservice, "ManagedCluster"),
        (managedidentity, "FederatedIdentityCredential"),
        (network, "ApplicationGateway"),
        (resources, "ResourceGroup"),
        (k8s.core.v1, "Namespace"),
        (k8s.apps.v1, "Deployment"),
        (k8s.networking.v1, "Ingress"),
        (k8s.batch.v1, "Job"),
        (k8s.helm.v3, "Release"),
    ):
        getattr(module, cls)


def main() -> None:
    gc.disable()
    if "--lazy" not in sys.argv:
        load_modules()
    pulumi.runtime.set_mocks(_Mocks(), project="floor", stack="floor", preview=False)
    pulumi.runtime.settings.ROOT.set(None)
    _sync_await(run_in_stack(lambda: resources.ResourceGroup("rg", location="westeurope") and None))


if __name__ == "__main__":
    main()
    os._exit(0)  # nothing printed to flush; the plan's exit_with, without importing the plan

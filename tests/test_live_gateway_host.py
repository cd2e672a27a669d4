"""The providers where the Pulumi CLI runs them: the SDK's own dynamic-provider host.

The CLI starts `pulumi-resource-pulumi-python`, which runs `python -u -m pulumi.dynamic` with the
program's virtualenv, in the program's directory (pulumi/pulumi sdk/python/dist/
pulumi-resource-pulumi-python; plugin.go ExecPlugin `cmd.Dir = pwd`). This starts that module the
same way, hands it providers serialized by the SDK's own serialize_provider, and calls it over
gRPC as the engine does; the providers then read the loopback ARM as the caller: a fake `az`, or on
GitHub Actions the job's OIDC token exchanged at a loopback Entra ID (tests/loopback_oidc.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from conftest import ROOT
from live_gateway.caller import OIDC_SWITCH, REQUEST_TOKEN, REQUEST_URL
from live_gateway.providers import GatewayServesProvider, RetireGuardProvider
from loopback_arm import GATEWAY_ID, POOL, LoopbackArm, fake_az, gateway, health, serve
from loopback_oidc import LoopbackCloud
from loopback_oidc import serve as serve_cloud
from plugin_process import plugin_channel

URN = "urn:pulumi:prod::aks-bluegreen::pulumi-python:dynamic/cutover:{}::{}"
GREEN = ["10.241.0.4", "10.241.0.5"]


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackArm]:
    yield from serve(tmp_path_factory.mktemp("host-arm"))


@pytest.fixture(scope="module")
def host(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    bin_dir = tmp_path_factory.mktemp("host-bin")
    fake_az(bin_dir)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    # The Azure CLI's path, even where these tests run in a job that may request OIDC tokens.
    for name in (OIDC_SWITCH, REQUEST_URL, REQUEST_TOKEN):
        env.pop(name, None)
    with provider_host(env) as stub:
        yield stub


@contextmanager
def provider_host(env: dict[str, str]) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic` in the program directory with `env`, as the CLI starts it."""
    # Nothing of the test run's import path leaks in: the host finds live_gateway because it
    # starts in the program directory, as under the CLI.
    env = {key: value for key, value in env.items() if key != "PYTHONPATH"}
    command = [sys.executable, "-u", "-m", "pulumi.dynamic"]
    with plugin_channel(command, cwd=ROOT, env=env) as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(struct)


def verification(arm: LoopbackArm, **overrides: Any) -> dict[str, Any]:
    provider = GatewayServesProvider(arm.url, arm.ca_path, poll_seconds=0.05)
    return {
        "__provider": serialize_provider(provider),
        "gatewayId": GATEWAY_ID,
        "activeColor": "green",
        "subnets": {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
        "pools": [POOL],
        "controllerLogs": "kubectl -n agic logs deploy/agic-green-ingress-azure",
        "agicRelease": "agic-green",
        "timeoutSeconds": 30,
        **overrides,
    }


def test_provider_pickles_by_reference_to_the_light_module() -> None:
    import base64

    pickled = base64.b64decode(serialize_provider(GatewayServesProvider()))
    assert b"live_gateway.providers" in pickled
    assert len(pickled) < 300  # the class by name, the instance's few settings by value


def test_host_creates_the_verification_once_the_gateway_serves(
    host: provider_pb2_grpc.ResourceProviderStub, arm: LoopbackArm
) -> None:
    arm.script(
        gets=[gateway({POOL: ["10.240.0.4"]}), gateway({POOL: GREEN})],
        healths=[health({POOL: dict.fromkeys(GREEN, "Healthy")})],
    )
    props = verification(arm)
    created = host.Create(
        provider_pb2.CreateRequest(
            urn=URN.format("GatewayServesActive", "cutover-gateway-serves"),
            properties=_struct(props),
        )
    )
    outs = _plain(created.properties)
    assert created.id == "gateway-serves-active"
    assert outs["serving"] is True, outs["message"]
    assert outs["seen"]["addresses"]["green"] == GREEN
    assert outs["activeColor"] == "green"
    assert arm.count("GET", GATEWAY_ID) == 2

    # Stored as serving and unchanged: no update. Stored as not serving: the next up waits again.
    def changes(olds: dict[str, Any]) -> int:
        request = provider_pb2.DiffRequest(
            id=created.id,
            urn=URN.format("GatewayServesActive", "cutover-gateway-serves"),
            olds=_struct(olds),
            news=_struct(props),
        )
        return host.Diff(request).changes

    assert changes(outs) == provider_pb2.DiffResponse.DIFF_NONE
    assert changes({**outs, "serving": False}) == provider_pb2.DiffResponse.DIFF_SOME


def test_host_update_records_a_timeout_as_not_serving_with_its_message(
    host: provider_pb2_grpc.ResourceProviderStub, arm: LoopbackArm
) -> None:
    arm.script(gets=[gateway({POOL: ["10.240.0.4", "10.240.0.5"]})])
    props = verification(arm, timeoutSeconds=0.2)
    updated = host.Update(
        provider_pb2.UpdateRequest(
            id="gateway-serves-active",
            urn=URN.format("GatewayServesActive", "cutover-gateway-serves"),
            olds=_struct({**props, "activeColor": "blue", "serving": True}),
            news=_struct(props),
        )
    )
    outs = _plain(updated.properties)
    assert outs["serving"] is False
    assert outs["message"].startswith(
        "the gateway does not serve green: 2 of 2 addresses still in blue's subnet "
        "10.240.0.0/16 after 0 s: AGIC on green has not written the gateway"
    )


def test_host_check_refuses_to_retire_a_cluster_that_still_serves(
    host: provider_pb2_grpc.ResourceProviderStub, arm: LoopbackArm
) -> None:
    arm.script(gets=[gateway({POOL: ["10.240.0.7"]})])
    news = {
        "__provider": serialize_provider(RetireGuardProvider(arm.url, arm.ca_path, 0.05)),
        "gatewayId": GATEWAY_ID,
        "retiredColor": "blue",
        "subnetCidr": "10.240.0.0/16",
    }
    checked = host.Check(
        provider_pb2.CheckRequest(
            urn=URN.format("RetireGuard", "retire-guard-blue-check"),
            olds=_struct({}),
            news=_struct(news),
        )
    )
    (failure,) = checked.failures
    assert failure.property == ""
    assert "still has 1 backend address(es) in blue's subnet 10.240.0.0/16 (10.240.0.7)" in (
        failure.reason
    )


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackCloud]:
    yield from serve_cloud(tmp_path_factory.mktemp("host-oidc"))


def test_host_on_github_actions_signs_in_with_the_jobs_oidc_token(
    tmp_path: Path, cloud: LoopbackCloud
) -> None:
    # The CLI's environment in the workflows' pulumi step; the CLI itself is logged out.
    fake_az(tmp_path, logged_in=False)
    env = {
        **os.environ,
        **cloud.environment(),
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
    }
    cloud.script(GREEN, [3599])
    provider = GatewayServesProvider(
        cloud.arm.url, cloud.ca_path, poll_seconds=0.05, authority_host=cloud.entra.url
    )
    props = verification(cloud.arm, __provider=serialize_provider(provider))
    with provider_host(env) as host:
        created = host.Create(
            provider_pb2.CreateRequest(
                urn=URN.format("GatewayServesActive", "cutover-gateway-serves"),
                properties=_struct(props),
            )
        )
    outs = _plain(created.properties)
    assert outs["serving"] is True, outs["message"]
    assert len(cloud.github.issued) == 1
    assert cloud.entra.assertions == cloud.github.issued
    assert set(cloud.bearers()) == {"Bearer entra-arm-token-1"}

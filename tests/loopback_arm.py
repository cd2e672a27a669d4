"""A loopback ARM for the live-gateway checks: TLS, bearer tokens, and the documented shapes.

It answers ApplicationGateways Get and BackendHealth as azure-rest-api-specs documents them
(specification/network/resource-manager/Microsoft.Network/stable/2024-07-01/examples/
ApplicationGatewayGet.json and ApplicationGatewayBackendHealthGet.json), including backend health
as a long-running operation: 202 with a Location, polled until 200 with the body. The bodies are
this project's own, shaped like those examples. azure-core refuses to send a bearer token over
plain HTTP, so it serves TLS with a throwaway CA (trustme) that the client is pointed at.

A fake `az` on PATH answers what azure-identity 1.27.0's AzureCliCredential runs
(`az account get-access-token --output json --resource <ARM>`, _credentials/azure_cli.py), and the
server refuses any request without an accepted token (that one, or what a loopback Entra ID minted,
tests/loopback_oidc.py): the credential path is the real one.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from live_gateway.caller import OIDC_SWITCH, REQUEST_TOKEN, REQUEST_URL
from loopback_tls import TlsJsonServer

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
GATEWAY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/aksbg-prod-rg/providers/"
    "Microsoft.Network/applicationGateways/aksbg-prod-appgw"
)
POOL = "pool-aspnetapp-aspnetapp-80-bp-8080"
TOKEN = "loopback-arm-token"

# A body (200), an HTTP status (an ARM error), or a Raw answer (a garbled or late 200, or a
# status with headers of its own such as Retry-After).
Answer = Any


def gateway(pools: dict[str, list[str]], state: str = "Succeeded") -> dict[str, Any]:
    """A Get response: AGIC's empty default pool plus `pools`, each address as {"ipAddress"}."""
    every = {"defaultaddresspool": [], **pools}
    return {
        "name": "aksbg-prod-appgw",
        "id": GATEWAY_ID,
        "type": "Microsoft.Network/applicationGateways",
        "location": "westeurope",
        "properties": {
            "provisioningState": state,
            "operationalState": "Running",
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
            "backendAddressPools": [
                {
                    "name": name,
                    "id": f"{GATEWAY_ID}/backendAddressPools/{name}",
                    "properties": {
                        "provisioningState": "Succeeded",
                        "backendAddresses": [{"ipAddress": a} for a in addresses],
                    },
                }
                for name, addresses in every.items()
            ],
        },
    }


def health(pools: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A BackendHealth result: pool -> {address: health}, one HTTP setting per pool."""
    return {
        "backendAddressPools": [
            {
                # The spec's example spells this segment "backendaddressPools".
                "backendAddressPool": {"id": f"{GATEWAY_ID}/backendaddressPools/{name}"},
                "backendHttpSettingsCollection": [
                    {
                        "backendHttpSettings": {
                            "id": f"{GATEWAY_ID}/backendHttpSettingsCollection/bp-{name}"
                        },
                        "servers": [{"address": a, "health": h} for a, h in servers.items()],
                    }
                ],
            }
            for name, servers in pools.items()
        ]
    }


def arm_error(status: int) -> dict[str, Any]:
    codes = {
        401: ("AuthenticationFailed", "Authentication failed."),
        403: (
            "AuthorizationFailed",
            "The client does not have authorization to perform action "
            "'Microsoft.Network/applicationGateways/read' over scope '...'.",
        ),
        404: ("ResourceNotFound", "The Resource was not found."),
        429: ("TooManyRequests", "Too many requests."),
        500: ("InternalServerError", "An error occurred."),
    }
    code, message = codes.get(status, ("Error", "error"))
    return {"error": {"code": code, "message": message}}


class LoopbackArm:
    """Each GET of the gateway takes the next scripted answer (the last one repeats); so does
    each backend-health operation. An answer is a body (200), an HTTP status (an ARM error), or
    a Raw answer. A backend-health operation is still running on its first `running_polls` polls
    (None: it never finishes), each answered 202 with `Retry-After: poll_retry_after`."""

    def __init__(self, ca: trustme.CA, ca_path: Path) -> None:
        self.ca_path = str(ca_path)
        self.requests: list[tuple[str, str, str]] = []
        self.accepted: set[str] = {TOKEN}
        self._gets: list[Answer] = []
        self._healths: list[Answer] = []
        self._operations: dict[str, int] = {}
        self.running_polls: int | None = 1
        self.poll_retry_after = 0
        self._results: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._server = TlsJsonServer(ca, self._respond)
        self.url = self._server.url

    def script(
        self,
        gets: list[Answer],
        healths: list[Answer] | None = None,
        running_polls: int | None = 1,
        poll_retry_after: int = 0,
    ) -> None:
        with self._lock:
            self._gets, self._healths = list(gets), list(healths or [])
            self.running_polls, self.poll_retry_after = running_polls, poll_retry_after
            self.requests.clear()

    def count(self, method: str, contains: str = "") -> int:
        return sum(1 for m, path, _ in self.requests if m == method and contains in path)

    def close(self) -> None:
        self._server.close()

    def _respond(
        self, method: str, path: str, headers: dict[str, str], _body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        return self.answer(method, path, headers.get("Authorization", ""))

    def _next(self, queue: list[Answer]) -> Answer:
        with self._lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def answer(self, method: str, path: str, authorization: str) -> tuple[int, dict[str, str], Any]:
        self.requests.append((method, path, authorization))
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or token not in self.accepted:
            return 401, {}, arm_error(401)
        route = path.split("?", 1)[0]
        if method == "GET" and route == GATEWAY_ID:
            return _as_response(self._next(self._gets))
        if method == "POST" and route == f"{GATEWAY_ID}/backendhealth":
            answer = self._next(self._healths)
            if isinstance(answer, int | Throttled):
                return _as_response(answer)
            with self._lock:
                operation = f"op{len(self._operations)}"
                self._operations[operation] = 0
                self._results[operation] = answer
            location = (
                f"{self.url}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/"
                f"locations/westeurope/operationResults/{operation}?api-version=2024-07-01"
            )
            return 202, {"Location": location, "Retry-After": "0"}, None
        if method == "GET" and "/operationResults/" in route:
            operation = route.rsplit("/", 1)[-1]
            with self._lock:
                self._operations[operation] += 1
                polls = self._operations[operation]
            # Still running on the first poll, as a real operation is (or for ever).
            if self.running_polls is None or polls <= self.running_polls:
                return 202, {"Retry-After": str(self.poll_retry_after)}, None
            return 200, {}, self._results[operation]
        return 404, {}, arm_error(404)


def _as_response(answer: Answer) -> tuple[int, dict[str, str], Any]:
    if isinstance(answer, int):
        return answer, {}, arm_error(answer)
    if isinstance(answer, Throttled):
        return 429, {"Retry-After": str(answer.retry_after)}, arm_error(429)
    return 200, {}, answer


class Throttled:
    """ARM's throttling answer: 429 TooManyRequests with Retry-After in seconds (ARM docs,
    "Understand how Azure Resource Manager throttles requests": Retry-After on a 429)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after


def fake_az(directory: Path, logged_in: bool = True) -> Path:
    """An `az` that answers get-access-token for ARM as the Azure CLI does, or is logged out."""
    script = directory / "az"
    expires = int(time.time()) + 3600
    token = json.dumps(
        {
            "accessToken": TOKEN,
            "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires)),
            "expires_on": expires,
            "subscription": SUBSCRIPTION,
            "tenant": "11111111-1111-1111-1111-111111111111",
            "tokenType": "Bearer",
        }
    )
    answer = (
        f"printf '%s\\n' '{token}'"
        if logged_in
        else "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1"
    )
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$*" != "account get-access-token --output json --resource '
        'https://management.azure.com" ]; then echo "unexpected: $*" >&2; exit 2; fi\n'
        f"{answer}\n"
    )
    script.chmod(0o755)
    return script


def serve(tmp: Path) -> Iterator[LoopbackArm]:
    ca = trustme.CA()
    ca_path = tmp / "loopback-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    arm = LoopbackArm(ca, ca_path)
    try:
        yield arm
    finally:
        arm.close()


@contextlib.contextmanager
def signed_in_cli(tmp: Path) -> Iterator[None]:
    """The process as a signed-in Azure CLI user: the fake `az` first on PATH
    (AzureCliCredential finds it with shutil.which at each token request), and none of the
    variables that would choose a workflow's OIDC token instead (live_gateway/caller.py)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    fake_az(bin_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        for name in (OIDC_SWITCH, REQUEST_URL, REQUEST_TOKEN):
            patch.delenv(name, raising=False)
        yield


def serve_to_cli(tmp: Path) -> Iterator[LoopbackArm]:
    """The loopback ARM, reached as a signed-in Azure CLI user reaches ARM."""
    with signed_in_cli(tmp):
        yield from serve(tmp)

"""Reads the live gateway from ARM with azure-mgmt-network, as the caller who runs Pulumi.

Which credential that is (the Azure CLI's login, or the job's own OIDC tokens on GitHub Actions) is
decided in live_gateway/caller.py; no secret is stored either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_GATEWAY_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.Network/applicationGateways/(?P<name>[^/]+)$",
    re.IGNORECASE,
)


# Where the process that runs the provider finds ARM when it is not the public cloud's
# (a sovereign cloud's endpoint, or the end-to-end run's loopback ARM): read where the check
# runs, like the credential, so the pickled provider in the state stays the same everywhere.
# Its TLS is verified against the system's trust store or REQUESTS_CA_BUNDLE (azure-core's
# requests transport trusts the environment).
ARM_ENDPOINT_VARIABLE = "AKSBG_ARM_ENDPOINT"


class GatewayReadError(Exception):
    """Reading the gateway failed; `transient` if waiting may clear it."""

    def __init__(self, message: str, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class GatewayRef:
    subscription: str
    group: str
    name: str

    @classmethod
    def parse(cls, gateway_id: str) -> GatewayRef:
        found = _GATEWAY_ID.match(gateway_id)
        if not found:
            raise GatewayReadError(
                f"'{gateway_id}' is not an Application Gateway ID", transient=False
            )
        return cls(found["subscription"], found["group"], found["name"])


class ArmGateway:
    """One gateway, read as REST JSON through the real client, its pipeline and its LRO poller.

    `endpoint` and `ca_bundle` exist so the same code reads a loopback ARM in tests; left None
    they mean the public cloud and the system's trust store. The gateway closes its credential.
    """

    def __init__(
        self,
        gateway_id: str,
        credential: Any,
        endpoint: str | None = None,
        ca_bundle: str | None = None,
        operation_poll_seconds: float = 5,
    ) -> None:
        from azure.mgmt.network import NetworkManagementClient

        self.ref = GatewayRef.parse(gateway_id)
        self._credential = credential
        options: dict[str, Any] = {
            # The waiting loop owns retries and their deadline; the pipeline's own retry policy
            # would sleep up to minutes on a 429/5xx outside it.
            "retry_total": 0,
            # Polling of the backend-health operation when ARM sends no Retry-After.
            "polling_interval": operation_poll_seconds,
        }
        if ca_bundle:
            options["connection_verify"] = ca_bundle
        self._client = NetworkManagementClient(
            credential, self.ref.subscription, base_url=endpoint, **options
        )

    def gateway(self) -> dict[str, Any]:
        """GET applicationGateways/{name}: needs Microsoft.Network/applicationGateways/read."""
        return _guarded(
            lambda: self._client.application_gateways.get(
                self.ref.group, self.ref.name, cls=_raw_json
            )
        )

    def backend_health(self) -> dict[str, Any]:
        """POST .../backendhealth, a long-running operation (202 + Location, then poll): needs
        Microsoft.Network/applicationGateways/backendhealth/action."""
        return _guarded(
            lambda: self._client.application_gateways.begin_backend_health(
                self.ref.group, self.ref.name, cls=_raw_json
            ).result()
        )

    def close(self) -> None:
        self._client.close()
        self._credential.close()


def _raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> dict[str, Any]:
    # The REST JSON, not the SDK's models: the judgement reads the documented wire shape.
    return pipeline_response.http_response.json()


# Worth waiting on: a role assignment or federated credential still propagating (403), a
# resource not yet visible in this ARM region (404), a conflicting operation in flight (409),
# throttling (429) and server faults. A 401 or a 400 will not clear by waiting.
_TRANSIENT_STATUS = frozenset({403, 404, 408, 409, 429})


def _guarded(call: Any) -> dict[str, Any]:
    from azure.core.exceptions import (
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    # A credential that cannot give a token raises GatewayReadError itself (caller.py), through
    # the client's pipeline; it passes here untouched.
    try:
        return call()
    except (ServiceRequestError, ServiceResponseError) as err:
        raise GatewayReadError(f"ARM unreachable ({first_line(err)})", transient=True) from None
    except HttpResponseError as err:
        status = err.status_code or 0
        transient = status in _TRANSIENT_STATUS or status >= 500
        raise GatewayReadError(_describe(err), transient=transient, status=status) from None


def _describe(err: Any) -> str:
    code = getattr(getattr(err, "error", None), "code", None) or err.reason or ""
    message = getattr(getattr(err, "error", None), "message", None) or ""
    text = f"HTTP {err.status_code} {code}".strip()
    return f"{text}: {first_line(message)}" if message else text


def first_line(value: Any) -> str:
    text = str(value).strip().splitlines()
    return text[0][:300] if text else ""

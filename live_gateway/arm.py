"""Reads the live gateway from ARM with azure-mgmt-network, as the caller who runs Pulumi.

Which credential that is (the Azure CLI's login, or the job's own OIDC tokens on GitHub Actions) is
decided in live_gateway/caller.py; no secret is stored either way.

Every request is bounded by what is left of the caller's deadline (live_gateway/deadline.py), and
every answer is checked against the documented shape before anything reads it, so a check ends on
time with one line that names what came back, never with a traceback into the engine's output.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from live_gateway.deadline import Deadline

_GATEWAY_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.Network/applicationGateways/(?P<name>[^/]+)$",
    re.IGNORECASE,
)

# The public cloud's ARM endpoint, the client's default (azure-mgmt-network 33.1.0
# NetworkManagementClient base_url).
PUBLIC_ARM = "https://management.azure.com"
# A TCP connection to ARM takes well under a second; waiting longer for one only eats the bound.
CONNECT_SECONDS = 10.0

GET_GATEWAY = "GET of the gateway"
BACKEND_HEALTH = "backend health"


# Where the process that runs the provider finds ARM when it is not the public cloud's
# (a sovereign cloud's endpoint, or the end-to-end run's loopback ARM): read where the check
# runs, like the credential, so the pickled provider in the state stays the same everywhere.
# Its TLS is verified against the system's trust store or REQUESTS_CA_BUNDLE (azure-core's
# requests transport trusts the environment).
ARM_ENDPOINT_VARIABLE = "AKSBG_ARM_ENDPOINT"


class GatewayReadError(Exception):
    """Reading the gateway failed; `transient` if waiting may clear it, `retry_after` when the
    server said how long to wait first (a 429's Retry-After)."""

    def __init__(
        self,
        message: str,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.retry_after = retry_after


class BoundedCredential(Protocol):
    """A token source that takes no longer than the deadline it was last given (caller.py)."""

    def within(self, deadline: Deadline) -> None: ...

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...

    def close(self) -> None: ...


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


def timeouts(deadline: Deadline, what: str) -> dict[str, Any]:
    """azure-core's per-request `connection_timeout` and `read_timeout` (RequestsTransport.send
    reads both from the request's options), cut to what is left of the deadline."""
    left = deadline.remaining()
    if left <= 0:
        raise GatewayReadError(f"no time left for {what}", transient=True)
    return {"connection_timeout": min(CONNECT_SECONDS, left), "read_timeout": left}


class ArmGateway:
    """One gateway, read as REST JSON through the real client, its pipeline and its LRO poller.

    `endpoint` and `ca_bundle` exist so the same code reads a loopback ARM in tests; left None
    they mean the public cloud and the system's trust store. The gateway closes its credential.
    """

    def __init__(
        self,
        gateway_id: str,
        credential: BoundedCredential,
        endpoint: str | None = None,
        ca_bundle: str | None = None,
        operation_poll_seconds: float = 5,
    ) -> None:
        from azure.mgmt.network import NetworkManagementClient

        self.ref = GatewayRef.parse(gateway_id)
        self._credential = credential
        self._endpoint = endpoint or PUBLIC_ARM
        self._poll_seconds = operation_poll_seconds
        options: dict[str, Any] = {
            # The waiting loop owns retries and their deadline; the pipeline's own retry policy
            # would sleep up to minutes on a 429/5xx outside it.
            "retry_total": 0,
        }
        if ca_bundle:
            options["connection_verify"] = ca_bundle
        self._client = NetworkManagementClient(
            credential, self.ref.subscription, base_url=self._endpoint, **options
        )

    def gateway(self, deadline: Deadline) -> dict[str, Any]:
        """GET applicationGateways/{name}: needs Microsoft.Network/applicationGateways/read."""
        last = _LastResponse()

        def get() -> Any:
            return self._client.application_gateways.get(
                self.ref.group,
                self.ref.name,
                cls=_json_of,
                raw_response_hook=last,
                **timeouts(deadline, GET_GATEWAY),
            )

        self._credential.within(deadline)
        return gateway_document(_guarded(GET_GATEWAY, get, last, gateway_document))

    def backend_health(self, deadline: Deadline) -> dict[str, Any]:
        """POST .../backendhealth, a long-running operation (202 + Location, then poll): needs
        Microsoft.Network/applicationGateways/backendhealth/action."""
        last = _LastResponse()

        def run() -> Any:
            polling = _deadline_polling(
                deadline,
                self._poll_seconds,
                path_format_arguments={"endpoint": self._endpoint},
                raw_response_hook=last,
            )
            poller = self._client.application_gateways.begin_backend_health(
                self.ref.group,
                self.ref.name,
                cls=_json_of,
                polling=polling,
                raw_response_hook=last,
                **timeouts(deadline, BACKEND_HEALTH),
            )
            # No timeout needed: the polling method itself stops at the deadline.
            return poller.result()

        self._credential.within(deadline)
        return health_document(_guarded(BACKEND_HEALTH, run, last, health_document))

    def close(self) -> None:
        self._client.close()
        self._credential.close()


def _deadline_polling(deadline: Deadline, interval: float, **config: Any) -> Any:
    """ARM's LRO polling (Location / Azure-AsyncOperation, honouring Retry-After), stopped at the
    deadline. azure-core's LROBasePolling._poll loops `while not finished: _delay();
    update_status()` with no limit (azure/core/polling/base_polling.py), and each status GET
    reuses the operation's options: so the delay is cut to the time left and each GET gets the
    time left as its timeouts. Built here, not at import: the SDK loads only when ARM is read."""
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    def still_running() -> GatewayReadError:
        return GatewayReadError(
            f"ARM's backend-health operation was still running after {deadline.elapsed():.0f} s",
            transient=True,
        )

    class DeadlinePolling(ARMPolling):
        def _delay(self) -> None:
            if deadline.passed():
                raise still_running()
            deadline.sleep(min(self._extract_delay(), deadline.remaining()))
            if deadline.passed():
                raise still_running()

        def request_status(self, status_link: str) -> Any:
            self._operation_config.update(timeouts(deadline, BACKEND_HEALTH))
            return super().request_status(status_link)

    return DeadlinePolling(interval, **config)


class _LastResponse:
    """A raw_response_hook (azure-core CustomHookPolicy) keeping the last HTTP response, so an
    answer the client library cannot read is named by what it was."""

    def __init__(self) -> None:
        self.response: Any = None

    def __call__(self, pipeline_response: Any) -> None:
        self.response = pipeline_response.http_response


def _json_of(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    # The REST JSON, not the SDK's models: the judgement reads the documented wire shape.
    return json.loads(pipeline_response.http_response.text())


# Worth waiting on: a role assignment or federated credential still propagating (403), a
# resource not yet visible in this ARM region (404), a conflicting operation in flight (409),
# throttling (429) and server faults. A 401 or a 400 will not clear by waiting.
_TRANSIENT_STATUS = frozenset({403, 404, 408, 409, 429})


def _guarded(
    what: str, call: Callable[[], Any], last: _LastResponse, shape: Callable[[Any], Any]
) -> Any:
    from azure.core.exceptions import (
        HttpResponseError,
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
    )

    # A credential that cannot give a token raises GatewayReadError itself (caller.py), through
    # the client's pipeline; it passes here untouched.
    try:
        return call()
    except GatewayReadError:
        raise
    except IncompleteReadError as err:
        raise GatewayReadError(
            f"ARM's answer to {what} was cut off before its end ({first_line(err)})",
            transient=True,
        ) from None
    except (ServiceRequestError, ServiceResponseError) as err:
        if "timed out" in str(err).lower():
            raise GatewayReadError(
                f"ARM did not answer {what} in the time left of the bound ({first_line(err)})",
                transient=True,
            ) from None
        raise GatewayReadError(f"ARM unreachable ({first_line(err)})", transient=True) from None
    except HttpResponseError as err:
        status = err.status_code or 0
        if 200 <= status < 300:
            # A success the client library could not decode (azure-core DecodeError).
            raise _unreadable(what, last.response, err, shape) from None
        transient = status in _TRANSIENT_STATUS or status >= 500
        raise GatewayReadError(
            _describe(err),
            transient=transient,
            status=status,
            retry_after=retry_after(getattr(err.response, "headers", None)),
        ) from None
    except Exception as err:
        # The client library could not read a 200 (azure-mgmt-network runs `response.json()` and
        # its model deserializer before `cls`): name what ARM sent.
        raise _unreadable(what, last.response, err, shape) from None


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = (headers or {}).get("Retry-After") if hasattr(headers, "get") else None
    if not value:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _unreadable(
    what: str, response: Any, err: Exception, shape: Callable[[Any], Any]
) -> GatewayReadError:
    cause = f"{type(err).__name__}: {first_line(err)}"
    if response is None:
        return GatewayReadError(f"ARM's answer to {what} could not be read ({cause})", True)
    try:
        text = response.text()
        document = json.loads(text)
    except Exception:
        kind = body_kind(text if "text" in locals() else "")
        return GatewayReadError(
            f"ARM answered {what} with HTTP {response.status_code} and {kind}", transient=True
        )
    try:
        shape(document)
    except GatewayReadError as named:
        return named
    return GatewayReadError(
        f"ARM's answer to {what} has the documented shape but the client library could not "
        f"read it ({cause})",
        transient=False,
    )


def body_kind(text: str) -> str:
    """What a body that should be JSON is instead, in a few words."""
    stripped = text.strip()
    if not stripped:
        return "an empty body, not JSON"
    if stripped.startswith("<"):
        title = re.search(r"<title>([^<]*)</title>", stripped, re.IGNORECASE)
        named = f" ({first_line(title.group(1))[:80]})" if title and title.group(1).strip() else ""
        return f"an HTML page{named}, not JSON"
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as err:
        # Cut off: the parser ran out of text, or inside a string that never closed.
        if err.pos >= len(stripped) or err.msg.startswith("Unterminated string"):
            return f"a truncated JSON body ({len(text.encode())} bytes, ending mid-document)"
        return f"a body that is not JSON ({first_line(stripped)[:60]!r})"
    return f"a JSON body that is {_kind(value)}, not an object"


def _describe(err: Any) -> str:
    code = getattr(getattr(err, "error", None), "code", None) or err.reason or ""
    message = getattr(getattr(err, "error", None), "message", None) or ""
    text = f"HTTP {err.status_code} {code}".strip()
    return f"{text}: {first_line(message)}" if message else text


def first_line(value: Any) -> str:
    text = str(value).strip().splitlines()
    return text[0][:300] if text else ""


# --- the documented shapes -----------------------------------------------------------------
# ApplicationGateways Get and BackendHealth (azure-rest-api-specs, specification/network/
# resource-manager/Microsoft.Network/stable/2024-07-01/applicationGateway.json and its examples
# ApplicationGatewayGet.json, ApplicationGatewayBackendHealthGet.json). Only what the judgement
# (serving.py) reads is checked; anything else may be whatever ARM sends.


class _ShapeError(Exception):
    pass


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _expect(value: Any, kind: type, where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return kind()
    if not isinstance(value, kind) or isinstance(value, bool):
        names: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
        wanted = names[kind]
        raise _ShapeError(f"{where} is {_kind(value)}, not {wanted}")
    return value


def _checked(what: str, document: Any, check: Callable[[Any], None]) -> dict[str, Any]:
    try:
        _expect(document, dict, "the body")
        check(document)
    except _ShapeError as err:
        raise GatewayReadError(
            f"ARM's answer to {what} is not the documented shape: {err}", transient=False
        ) from None
    checked: dict[str, Any] = document
    return checked


def gateway_document(document: Any) -> dict[str, Any]:
    """An ApplicationGateway as the judgement reads it, or a GatewayReadError naming the field."""

    def check(doc: dict[str, Any]) -> None:
        props = _expect(doc.get("properties"), dict, "properties")
        _expect(props.get("provisioningState"), str, "properties.provisioningState", True)
        pools = _expect(
            props.get("backendAddressPools"), list, "properties.backendAddressPools", True
        )
        for i, pool in enumerate(pools):
            where = f"properties.backendAddressPools[{i}]"
            _expect(pool, dict, where)
            _expect(pool.get("name"), str, f"{where}.name")
            pool_props = _expect(pool.get("properties"), dict, f"{where}.properties", True)
            entries = _expect(
                pool_props.get("backendAddresses"),
                list,
                f"{where}.properties.backendAddresses",
                True,
            )
            for j, entry in enumerate(entries):
                at = f"{where}.properties.backendAddresses[{j}]"
                if isinstance(entry, str):
                    continue
                _expect(entry, dict, at)
                for key in ("ipAddress", "fqdn"):
                    _expect(entry.get(key), str, f"{at}.{key}", True)

    return _checked(GET_GATEWAY, document, check)


def health_document(document: Any) -> dict[str, Any]:
    """An ApplicationGatewayBackendHealth as the judgement reads it."""

    def check(doc: dict[str, Any]) -> None:
        pools = _expect(doc.get("backendAddressPools"), list, "backendAddressPools", True)
        for i, entry in enumerate(pools):
            where = f"backendAddressPools[{i}]"
            _expect(entry, dict, where)
            pool = _expect(entry.get("backendAddressPool"), dict, f"{where}.backendAddressPool")
            _expect(pool.get("id"), str, f"{where}.backendAddressPool.id")
            collection = _expect(
                entry.get("backendHttpSettingsCollection"),
                list,
                f"{where}.backendHttpSettingsCollection",
                True,
            )
            for j, settings in enumerate(collection):
                at = f"{where}.backendHttpSettingsCollection[{j}]"
                _expect(settings, dict, at)
                servers = _expect(settings.get("servers"), list, f"{at}.servers", True)
                for k, server in enumerate(servers):
                    _expect(server, dict, f"{at}.servers[{k}]")
                    _expect(server.get("address"), str, f"{at}.servers[{k}].address")
                    _expect(server.get("health"), str, f"{at}.servers[{k}].health", True)

    return _checked(BACKEND_HEALTH, document, check)

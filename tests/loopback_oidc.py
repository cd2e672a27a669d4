"""GitHub's OIDC token endpoint and Entra ID's token endpoint on loopback, over TLS.

GitHub: a job with `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL (a URL that
already carries `?api-version=2.0`) and ACTIONS_ID_TOKEN_REQUEST_TOKEN; `GET <url>&audience=<aud>`
with `Authorization: bearer <token>` answers `{"value": "<JWT>"}` (GitHub docs, "OpenID Connect
reference", Methods for requesting the OIDC token). This one checks the bearer, keeps the
api-version, requires the audience Entra ID expects, and issues a JWT-shaped token per request
whose claims (iss, sub, aud, exp) are GitHub's, unsigned.

Entra ID: what azure-identity 1.27.0's ClientAssertionCredential sends, which is a single
`POST {authority}/{tenant}/oauth2/v2.0/token` (form: client_id, client_assertion,
client_assertion_type jwt-bearer, grant_type client_credentials, scope) through azure-core's
pipeline, with no instance or OpenID discovery before it (_internal/aad_client_base.py
`_get_jwt_assertion_request`, `_get_token_url`); MSAL serves only as its token cache. The answer is
the client credentials flow's documented shape (learn.microsoft.com/entra/identity-platform/
v2-oauth2-client-creds-grant-flow: token_type, expires_in, access_token; errors as error,
error_description AADSTSnnnnn, error_codes). It plays the federated credential: the assertion must
be one the loopback GitHub issued, unexpired, for this workflow's subject and Entra's audience.
Each access token it mints is added to the loopback ARM's accepted bearers.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

from loopback_arm import POOL, LoopbackArm, gateway, health
from loopback_tls import Raw, TlsJsonServer

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
REQUEST_TOKEN = "loopback-actions-request-token"
REQUEST_PATH = "/tenant-x/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken"
ISSUER = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:example/aks-bluegreen:environment:production"
AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ARM_SCOPE = "https://management.azure.com/.default"

Response = tuple[int, Any]


def _plain(
    respond: Callable[[str, str, dict[str, str], bytes], Response],
) -> Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], Any]]:
    """GitHub's and Entra ID's answers here carry no headers of their own."""

    def with_headers(
        method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        status, answer = respond(method, path, headers, body)
        return status, {}, answer

    return with_headers


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class LoopbackGitHub:
    """The job's OIDC token endpoint. `issued` lists every token it gave, in order."""

    def __init__(self, ca: trustme.CA, lifetime_seconds: int = 300) -> None:
        self.lifetime_seconds = lifetime_seconds
        self.requests: list[tuple[str, str, str]] = []
        self.issued: list[str] = []
        # Statuses (or Raw 200 answers) to answer the next requests with instead of a token.
        self.faults: list[int | Raw] = []
        self._lock = threading.Lock()
        self._server = TlsJsonServer(ca, _plain(self._respond))
        self.request_url = f"{self._server.url}{REQUEST_PATH}?api-version=2.0"

    def reset(self, faults: list[int | Raw] | None = None) -> None:
        with self._lock:
            self.requests.clear()
            self.issued.clear()
            self.faults = list(faults or [])

    def close(self) -> None:
        self._server.close()

    def _respond(self, method: str, path: str, headers: dict[str, str], _body: bytes) -> Response:
        authorization = headers.get("Authorization", "")
        with self._lock:
            self.requests.append((method, path, authorization))
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        scheme, _, token = authorization.partition(" ")
        if method != "GET" or parts.path != REQUEST_PATH:
            return 404, {"message": "Not Found"}
        if scheme.lower() != "bearer" or token != REQUEST_TOKEN:
            return 401, {"message": "Bad credentials"}
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, Raw):
            return 200, fault
        if fault is not None:
            return fault, {"message": "Server Error"}
        if query.get("api-version") != ["2.0"] or query.get("audience") != [AUDIENCE]:
            return 400, {"message": f"unexpected query {parts.query}"}
        now = int(time.time())
        with self._lock:
            claims = {
                "iss": ISSUER,
                "sub": SUBJECT,
                "aud": AUDIENCE,
                "iat": now,
                "nbf": now,
                "exp": now + self.lifetime_seconds,
                "jti": f"github-{len(self.issued) + 1}",
            }
            jwt = f"{_segment({'typ': 'JWT', 'alg': 'RS256'})}.{_segment(claims)}.unsigned"
            self.issued.append(jwt)
        return 200, {"value": jwt}


class LoopbackEntra:
    """Entra ID's token endpoint for one app's federated credential trusting the loopback GitHub.

    `lifetimes` scripts each minted token's expires_in (the last one repeats); `refuse` makes it
    answer an AADSTS error instead. `minted` lists the access tokens, `assertions` what was
    presented, in order."""

    def __init__(self, ca: trustme.CA, github: LoopbackGitHub, arm: LoopbackArm) -> None:
        self.github = github
        self.arm = arm
        self.requests: list[tuple[str, str]] = []
        self.forms: list[dict[str, str]] = []
        self.minted: list[str] = []
        self.lifetimes: list[int] = [3599]
        self.refuse: str | None = None
        # Statuses to answer the next token requests with (an Entra ID outage).
        self.faults: list[int] = []
        self._lock = threading.Lock()
        self._server = TlsJsonServer(ca, _plain(self._respond))
        self.url = self._server.url

    def script(
        self, lifetimes: list[int], refuse: str | None = None, faults: list[int] | None = None
    ) -> None:
        with self._lock:
            self.lifetimes, self.refuse = list(lifetimes), refuse
            self.faults = list(faults or [])
            self.requests.clear()
            self.forms.clear()
            self.minted.clear()

    @property
    def assertions(self) -> list[str]:
        return [form.get("client_assertion", "") for form in self.forms]

    def close(self) -> None:
        self._server.close()

    def _respond(self, method: str, path: str, _headers: dict[str, str], body: bytes) -> Response:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        with self._lock:
            self.requests.append((method, path))
            self.forms.append(form)
        if method != "POST" or path != f"/{TENANT}/oauth2/v2.0/token":
            return 404, {"error": "not_found"}
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_assertion_type") != JWT_BEARER
            or form.get("client_id") != CLIENT
            or form.get("scope") != ARM_SCOPE
        ):
            return 400, _error("invalid_request", 900144, "The request body is not as expected.")
        if self.refuse:
            return 400, _error("invalid_client", 70021, self.refuse)
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            # Entra ID's transient server error (AADSTS90033, "A transient error has occurred").
            transient = "A transient error has occurred."
            return fault, _error("temporarily_unavailable", 90033, transient)
        assertion = form.get("client_assertion", "")
        if assertion not in self.github.issued:
            return 400, _error("invalid_client", 50027, "Invalid JWT token.")
        claims = claims_of(assertion)
        if claims["exp"] <= time.time():
            return 400, _error(
                "invalid_client", 700024, "Client assertion is not within its valid time range."
            )
        if (claims["iss"], claims["sub"], claims["aud"]) != (ISSUER, SUBJECT, AUDIENCE):
            return 400, _error(
                "invalid_client",
                70021,
                "No matching federated identity record found for presented assertion.",
            )
        with self._lock:
            lifetime = self.lifetimes.pop(0) if len(self.lifetimes) > 1 else self.lifetimes[0]
            token = f"entra-arm-token-{len(self.minted) + 1}"
            self.minted.append(token)
        self.arm.accepted.add(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }


def _error(error: str, code: int, description: str) -> dict[str, Any]:
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": "00000000-0000-0000-0000-000000000001",
        "correlation_id": "00000000-0000-0000-0000-000000000002",
    }


@dataclass
class LoopbackCloud:
    """ARM, GitHub and Entra ID on loopback under one CA (`ca_path`); ARM accepts only tokens
    the loopback Entra ID minted."""

    ca_path: str
    arm: LoopbackArm
    github: LoopbackGitHub
    entra: LoopbackEntra

    def script(
        self,
        addresses: list[str],
        lifetimes: list[int],
        refuse: str | None = None,
        entra_faults: list[int] | None = None,
        github_faults: list[int | Raw] | None = None,
    ) -> None:
        """A gateway serving `addresses`, all healthy; Entra ID answers as LoopbackEntra.script,
        GitHub with `github_faults` first."""
        self.arm.script(
            gets=[gateway({POOL: addresses})],
            healths=[health({POOL: dict.fromkeys(addresses, "Healthy")})],
        )
        self.entra.script(lifetimes, refuse, entra_faults)
        self.github.reset(github_faults)

    def bearers(self) -> list[str]:
        return [authorization for _, _, authorization in self.arm.requests]

    def environment(self) -> dict[str, str]:
        """What the pulumi step of the workflows gives the provider process on GitHub Actions."""
        return {
            "ARM_USE_OIDC": "true",
            "ARM_CLIENT_ID": CLIENT,
            "ARM_TENANT_ID": TENANT,
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.github.request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
        }


def serve(tmp: Path) -> Iterator[LoopbackCloud]:
    ca = trustme.CA()
    ca_path = tmp / "loopback-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    arm = LoopbackArm(ca, ca_path)
    arm.accepted.clear()
    github = LoopbackGitHub(ca)
    entra = LoopbackEntra(ca, github, arm)
    try:
        yield LoopbackCloud(str(ca_path), arm, github, entra)
    finally:
        for server in (entra, github, arm):
            server.close()

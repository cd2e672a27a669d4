"""Who the live checks act as: whoever runs `pulumi up`, signed in the way azure-native is.

Locally that is the Azure CLI's login (`az login`): `AzureCliCredential`, which runs
`az account get-access-token` for each token. Not DefaultAzureCredential: on a laptop its
ManagedIdentityCredential probes the instance metadata endpoint first, and which identity wins
would depend on the machine.

In the workflows azure-native signs in by OIDC: ARM_USE_OIDC=true, the app in ARM_CLIENT_ID and
ARM_TENANT_ID, and GitHub tokens the job requests itself from ACTIONS_ID_TOKEN_REQUEST_URL with
ACTIONS_ID_TOKEN_REQUEST_TOKEN, which `permissions: id-token: write` provides (pulumi-azure-native
provider/pkg/provider/auth_azidentity.go: readAuthConfig, newOidcCredential). The Pulumi CLI starts
the dynamic-provider process with its own environment, so the checks see the same variables and
sign in the same way: a `ClientAssertionCredential` whose assertion is a GitHub OIDC token fetched
anew each time it asks Entra ID for a token. Not the CLI there: azure/login logs it in with one
GitHub token, valid for minutes; once the CLI's access token (about an hour) expires it cannot get
another (AADSTS700024, Azure/azure-cli#28708), and an `up` that builds two clusters outlives it.
azure-native (getOidcTokenExchangeAssertion) and kubelogin (v0.2.19
pkg/internal/token/githubactionscredential.go, getGitHubToken) fetch a fresh GitHub token for every
exchange the same way. Other OIDC sources azure-native accepts (ARM_OIDC_TOKEN, a token file) are
not used here: without GitHub's request variables the checks use the CLI.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from live_gateway.arm import CONNECT_SECONDS, GatewayReadError, body_kind, first_line, retry_after
from live_gateway.deadline import Deadline

# The variables azure-native reads for OIDC (auth_azidentity.go readAuthConfig), by the same names.
OIDC_SWITCH = "ARM_USE_OIDC"
CLIENT_ID = "ARM_CLIENT_ID"
TENANT_ID = "ARM_TENANT_ID"
# Set by the runner in a job with `permissions: id-token: write` (GitHub docs, "OpenID Connect
# reference", Methods for requesting the OIDC token).
REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
# The audience an Entra ID federated credential expects (Microsoft Graph, "Create
# federatedIdentityCredential": audiences), and the one azure-native and kubelogin request.
ENTRA_AUDIENCE = "api://AzureADTokenExchange"
# Seconds `az account get-access-token` may take at most, cut to what is left of the bound; the
# SDK's default of 10 is tight for a CLI that refreshes its token over the network first.
CLI_TIMEOUT_SECONDS = 30
# Seconds one token exchange (GitHub's endpoint, then Entra ID's) may take at most, likewise cut.
TOKEN_TIMEOUT_SECONDS = 30
# Throttling and server faults of GitHub's and Entra ID's token endpoints are waited out by the
# caller's loop, inside its bound, as ARM's are: no retry policy sleeps outside it (azure-core's
# RetryPolicy would retry 408, 429, 500, 502, 503, 504 with back-off of its own).
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})

T = TypeVar("T")


def caller_credential(
    authority_host: str | None = None, ca_bundle: str | None = None
) -> CallerCredential:
    """The credential for this process's caller, chosen from its environment at each call.

    `authority_host` and `ca_bundle` exist so tests reach a loopback Entra ID and GitHub; left
    None they mean azure-identity's default authority (login.microsoftonline.com, or
    AZURE_AUTHORITY_HOST) and the system's trust store.
    """
    env = os.environ
    if env.get(OIDC_SWITCH) == "true" and env.get(REQUEST_URL) and env.get(REQUEST_TOKEN):
        return _github_oidc(env[REQUEST_URL], env[REQUEST_TOKEN], authority_host, ca_bundle)
    from azure.identity import AzureCliCredential

    return CallerCredential(
        # azure-identity 1.27.0 runs az with subprocess's timeout = process_timeout
        # (_credentials/azure_cli.py _run_command), killing it when that passes.
        lambda seconds: AzureCliCredential(process_timeout=seconds),  # type: ignore[arg-type]
        CLI_TIMEOUT_SECONDS,
        "the Azure CLI",
        "run `az login`",
    )


def _github_oidc(
    request_url: str, request_token: str, authority_host: str | None, ca_bundle: str | None
) -> CallerCredential:
    missing = [name for name in (CLIENT_ID, TENANT_ID) if not os.environ.get(name)]
    if missing:
        raise GatewayReadError(
            f"{OIDC_SWITCH} is true and the job can request GitHub OIDC tokens, but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; set "
            f"{CLIENT_ID} and {TENANT_ID} in the Pulumi step's env to the app azure-native signs "
            "in as (see .github/workflows/deploy.yml)",
            transient=False,
        )
    from azure.identity import ClientAssertionCredential

    client_id, tenant_id = os.environ[CLIENT_ID], os.environ[TENANT_ID]
    transport: dict[str, Any] = {"connection_verify": ca_bundle} if ca_bundle else {}

    def exchange(seconds: float) -> Any:
        # azure-identity builds its pipeline's RequestsTransport from these keywords
        # (_internal/pipeline.py build_pipeline), so they bound each request to Entra ID.
        return ClientAssertionCredential(
            tenant_id,
            client_id,
            GitHubOidcToken(request_url, request_token, ca_bundle, seconds),
            authority=authority_host,
            retry_total=0,
            connection_timeout=min(CONNECT_SECONDS, seconds),
            read_timeout=seconds,
            **transport,
        )

    return CallerCredential(
        exchange,
        TOKEN_TIMEOUT_SECONDS,
        f"Entra ID for app {client_id} with the job's GitHub OIDC token",
        "the app needs a federated credential for this workflow's subject (docs/pipeline.md, "
        '"Federated credentials") and the job `permissions: id-token: write`',
    )


class GitHubOidcToken:
    """The assertion callback: on every call, a new GitHub OIDC token for Entra ID.

    azure-identity 1.27.0 calls it each time it asks Entra ID for an access token, not for a
    token it still holds (_credentials/client_assertion.py `_request_token`), so each exchange
    presents a token minutes old. The request is GitHub's documented one: GET the request URL
    (which already has a query) with `audience` added, `Authorization: Bearer <request token>`,
    answered by JSON `{"value": "<JWT>"}`.
    """

    def __init__(
        self,
        request_url: str,
        request_token: str,
        ca_bundle: str | None = None,
        timeout_seconds: float = TOKEN_TIMEOUT_SECONDS,
    ) -> None:
        self._url = _with_audience(request_url)
        self._request_token = request_token
        self._ca_bundle = ca_bundle
        self._timeout = timeout_seconds

    def __call__(self) -> str:
        from azure.core import PipelineClient
        from azure.core.exceptions import ClientAuthenticationError
        from azure.core.rest import HttpRequest

        transport: dict[str, Any] = (
            {"connection_verify": self._ca_bundle} if self._ca_bundle else {}
        )
        request = HttpRequest(
            "GET",
            self._url,
            headers={
                "Authorization": f"Bearer {self._request_token}",
                "Accept": "application/json",
            },
        )
        # A client per call: the endpoint is asked once per Entra token, about hourly.
        with PipelineClient(self._url, policies=[], **transport) as client:
            response = client.send_request(
                request,
                connection_timeout=min(CONNECT_SECONDS, self._timeout),
                read_timeout=self._timeout,
            )
        text = response.text()
        if response.status_code in _TRANSIENT_STATUS:
            raise GatewayReadError(
                f"GitHub's OIDC token endpoint answered HTTP {response.status_code} "
                f"{first_line(text)}".strip(),
                transient=True,
                status=response.status_code,
                retry_after=retry_after(response.headers),
            )
        if response.status_code != 200:
            raise ClientAuthenticationError(
                f"GitHub's OIDC token endpoint answered HTTP {response.status_code} "
                f"{first_line(text)}".strip()
            )
        try:
            value = response.json()
        except ValueError:
            raise GatewayReadError(
                f"GitHub's OIDC token endpoint answered HTTP 200 with {body_kind(text)}",
                transient=True,
            ) from None
        token = value.get("value") if isinstance(value, dict) else None
        if not isinstance(token, str) or not token:
            raise ClientAuthenticationError("GitHub's OIDC token endpoint answered no token")
        return token


def _with_audience(url: str) -> str:
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != "audience"
    ]
    return urlunsplit(parts._replace(query=urlencode([*query, ("audience", ENTRA_AUDIENCE)])))


class CallerCredential:
    """The token source the ARM client asks for each token, naming where a failure came from.

    azure-core's bearer policy raises whatever the credential raises (pipeline/policies/
    _authentication.py `_get_token`), and an Entra ID refusal is a ClientAuthenticationError with
    an HTTP status like ARM's own 401; so a failed token is turned here, where its source is
    known, into a GatewayReadError that says where the token should have come from and the fix.

    `make(seconds)` builds the underlying credential for one token request that may take that
    long: the time left of the deadline the ARM reader last gave (`within`), at most `longest`.
    A credential per request loses nothing: the ARM client's bearer policy keeps the token until
    it nears expiry and asks again only then.
    """

    def __init__(self, make: Callable[[float], Any], longest: float, source: str, fix: str) -> None:
        self._make = make
        self._longest = longest
        self._deadline: Deadline | None = None
        self.source = source
        self.fix = fix

    def within(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._guard(lambda credential: credential.get_token(*scopes, **kwargs))

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        return self._guard(lambda credential: credential.get_token_info(*scopes, options=options))

    def close(self) -> None:
        pass

    def _seconds(self) -> float:
        if self._deadline is None:
            return self._longest
        left = self._deadline.remaining()
        if left <= 0:
            raise GatewayReadError(f"no time left for a token from {self.source}", transient=True)
        return min(self._longest, left)

    def _guard(self, call: Callable[[Any], T]) -> T:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            ServiceRequestError,
            ServiceResponseError,
        )

        seconds = self._seconds()
        credential = self._make(seconds)
        try:
            return call(credential)
        except GatewayReadError:
            raise
        except (ServiceRequestError, ServiceResponseError) as err:
            # Unreachable, or no answer in the time left: waiting may still clear it.
            raise GatewayReadError(
                f"no Azure token from {self.source} ({first_line(err)})", transient=True
            ) from None
        except ClientAuthenticationError as err:
            if isinstance(err.__cause__, subprocess.TimeoutExpired):
                # azure-identity reports a killed `az` as "Failed to invoke the Azure CLI"; a
                # CLI slow to refresh its own token is not a CLI that needs `az login`.
                raise GatewayReadError(
                    f"no Azure token from {self.source}: `az account get-access-token` did not "
                    f"answer within {seconds:.0f} s",
                    transient=True,
                ) from None
            status = getattr(getattr(err, "response", None), "status_code", None)
            if status in _TRANSIENT_STATUS:
                raise GatewayReadError(
                    f"no Azure token from {self.source} (Entra ID answered HTTP {status})",
                    transient=True,
                    status=status,
                    retry_after=retry_after(getattr(err.response, "headers", None)),
                ) from None
            raise GatewayReadError(
                f"no Azure token from {self.source} ({first_line(err)}); {self.fix}",
                transient=False,
            ) from None
        finally:
            credential.close()

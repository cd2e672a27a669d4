"""The host and path of a workload's route, as the Ingress API, AGIC and Application Gateway
take them.

A host or path the API server accepts but Application Gateway refuses fails AGIC's whole
gateway write, and the gateway then stops following the cluster; one the API server refuses
fails the Ingress mid-`up`. Both are refused here, each message naming the rule's source.
"""

from __future__ import annotations

import re
from ipaddress import ip_address

from config.values import show

INGRESS_HOST_SOURCE = (
    "Kubernetes networking.k8s.io/v1 IngressRule.host: a lower-case RFC 1123 DNS name, "
    "optionally '*.' then one, no IP address (k8s.io/apiserver validation, "
    "IsDNS1123Subdomain / IsWildcardDNS1123Subdomain)"
)
AGIC_WILDCARD_SOURCE = (
    "Kubernetes IngressRule.host takes a wildcard only as a leading '*.' covering one label; "
    "AGIC 1.9.8 pkg/appgw/configbuilder.go copies the host into the listener's hostNames, which "
    "Application Gateway v2 matches as a wildcard"
)
PATH_SOURCE = (
    "Application Gateway URL path maps (learn.microsoft.com/azure/application-gateway/"
    "url-route-overview): a path starts with '/' and takes '*' only at its end, after '/'; "
    "AGIC 1.9.8 pkg/appgw/requestroutingrules.go appends '*' to a Prefix path"
)
INGRESS_PATH_SOURCE = (
    "Kubernetes networking.k8s.io/v1 validation of Prefix paths (no '//', '/./', '/../', "
    "'%2f' and no trailing '/.' or '/..')"
)
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_INVALID_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_SUFFIXES = ("/..", "/.")


def ingress_host(value: str | None) -> str | None:
    if value is None:
        return None
    if "://" in value or "/" in value:
        bare = value.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
        raise ValueError(
            f"{show(value)} is a URL; a host is the name alone, without scheme, port or path: "
            f"write {bare!r} ({INGRESS_HOST_SOURCE})"
        )
    if ":" in value.strip("[]") and not _is_ip(value.strip("[]")):
        bare = value.split(":", 1)[0].lower()
        raise ValueError(f"{show(value)} has a port; write {bare!r} ({INGRESS_HOST_SOURCE})")
    if _is_ip(value.strip("[]")):
        raise ValueError(
            f"{show(value)} is an IP address, which an Ingress host may not be; name the host, "
            f"or leave host unset to route any host ({INGRESS_HOST_SOURCE})"
        )
    if not value.isascii():
        try:
            encoded = value.lower().encode("idna").decode("ascii")
        except UnicodeError:
            encoded = None
        fix = f"write its punycode form {encoded!r}" if encoded else "write it in ASCII"
        raise ValueError(f"{show(value)} is not ASCII; {fix} ({INGRESS_HOST_SOURCE})")
    if value != value.lower():
        raise ValueError(
            f"{show(value)} has upper-case letters, which the Ingress API refuses; write "
            f"{value.lower()!r} (DNS names match without case) ({INGRESS_HOST_SOURCE})"
        )
    name = value[2:] if value.startswith("*.") else value
    if "*" in name:
        raise ValueError(
            f"{show(value)} has a '*' other than a leading '*.'; a wildcard host covers one "
            f"whole first label, as in '*.example.com' ({AGIC_WILDCARD_SOURCE})"
        )
    if (
        len(value) > 253
        or not _DNS_SUBDOMAIN.match(name)
        or any(len(label) > 63 for label in name.split("."))
    ):
        raise ValueError(
            f"{show(value)} is not a DNS name; use lower-case letters, digits, '-' and '.', "
            f"labels of at most 63 characters ({INGRESS_HOST_SOURCE})"
        )
    return value


def _is_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def gateway_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{show(value)} is not an absolute path; start it with / ({PATH_SOURCE})")
    if "?" in value or "#" in value:
        raise ValueError(
            f"{show(value)} has a query or fragment; path rules match the path alone: write "
            f"{value.split('?', 1)[0].split('#', 1)[0]!r} ({PATH_SOURCE})"
        )
    if "*" in value[:-1] or (value.endswith("*") and not value.endswith("/*")):
        raise ValueError(
            f"{show(value)} has a '*' Application Gateway cannot take; '*' may only end the "
            f"path after '/', as in '/api/*' ({PATH_SOURCE})"
        )
    if any(char.isspace() for char in value) or not value.isascii():
        raise ValueError(
            f"{show(value)} has spaces or non-ASCII characters; percent-encode them ({PATH_SOURCE})"
        )
    bare = value.removesuffix("*")
    if any(seq in bare for seq in _INVALID_SEQUENCES) or bare.endswith(_INVALID_SUFFIXES):
        raise ValueError(
            f"{show(value)} has an empty, '.' or '..' segment or an encoded '/', which the "
            f"Ingress API refuses ({INGRESS_PATH_SOURCE})"
        )
    return value

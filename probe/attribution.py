"""Which cluster answered: labels matched against the answer's body or one of its headers.

A rule is `LABEL=PATTERN`. A PATTERN that reads as an IPv4 network (`10.240.0.0/16`) matches when
any IPv4 address in the text lies inside it; one written like a network but not a valid one
(`10.240.0.0/33`, `10.240.0/16`, an IPv6 network) is refused, since read as a regular expression
it would quietly match the wrong answers; anything else is a regular expression searched in
the text. Rules are tried in the order given; the first match names the cluster. An answer no
rule matches is `unknown`; a request without an answer has no cluster.

The sample app (mcr.microsoft.com/dotnet/samples:aspnetapp) prints its pod's host name and
"Server IP address" on its page. Pod names are alike in both clusters (same Deployment, same
pod-template hash), but with Azure CNI the pod IP is an address of the cluster's own subnet, so
`blue=10.240.0.0/16 green=10.241.0.0/16` on the body tells the clusters apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

UNKNOWN = "unknown"
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
# Digits and dots (or hex digits and colons) before a slash and a prefix length: meant as a network.
_LOOKS_LIKE_NETWORK = re.compile(r"^(?:[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)/[0-9]*\Z")


@dataclass(frozen=True)
class Rule:
    label: str
    pattern: str

    def matches(self, text: str) -> bool:
        network = _as_network(self.pattern)
        if network is None:
            return re.search(self.pattern, text) is not None
        for found in _IPV4.findall(text):
            try:
                if IPv4Address(found) in network:
                    return True
            except ValueError:
                continue
        return False

    @classmethod
    def parse(cls, text: str) -> Rule:
        label, sep, pattern = text.partition("=")
        if not sep or not pattern:
            raise ValueError(f"'{text}' is not LABEL=PATTERN; write e.g. blue=10.240.0.0/16")
        if not _LABEL.match(label):
            raise ValueError(
                f"'{label}' is not a cluster label; use letters, digits, '-', '_' or '.'"
            )
        if label == UNKNOWN:
            raise ValueError(f"'{UNKNOWN}' is reserved for answers no rule matches")
        if _as_network(pattern) is None and _LOOKS_LIKE_NETWORK.match(pattern):
            raise ValueError(
                f"'{pattern}' reads as a network but is not an IPv4 one; write an IPv4 network "
                "such as 10.240.0.0/16 (four numbers 0-255, a prefix length 0-32)"
            )
        if _as_network(pattern) is None:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"'{pattern}' is not a regular expression ({err})") from None
        return cls(label, pattern)


def _as_network(pattern: str) -> IPv4Network | None:
    if "/" not in pattern:
        return None
    try:
        return IPv4Network(pattern, strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class Attribution:
    """Rules, and where they look: the body (header None) or one response header."""

    rules: tuple[Rule, ...] = ()
    header: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.rules)

    def labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rule.label for rule in self.rules))

    def cluster_of(
        self, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes
    ) -> str | None:
        if not self.rules:
            return None
        if self.header is None:
            text = body.decode("utf-8", errors="replace")
        else:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            wanted = self.header.lower()
            text = "\n".join(value for name, value in pairs if name.lower() == wanted)
        for rule in self.rules:
            if rule.matches(text):
                return rule.label
        return UNKNOWN

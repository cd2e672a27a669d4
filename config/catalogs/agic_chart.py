"""The AGIC Helm chart versions Microsoft has published, and the one this program pins.

Each AGIC release tag is packaged at the tag's version and pushed to the public registry that
mcr.microsoft.com serves as oci://mcr.microsoft.com/azure-application-gateway/charts/
ingress-azure (the repository's scripts/release-helm.sh `helm package --version "$TAG"`, and
docs/features/agic-reconcile.md's `helm install ... oci://mcr.microsoft.com/... --version`).
Release candidates (1.7.5-rc3) are left out: the config takes MAJOR.MINOR.PATCH only.
"""

from __future__ import annotations

from datetime import date

TAKEN = date(2026, 12, 2)
# Release tags 1.7.0 to 1.9.8 (the newest, 2026-03-24), each pushed by scripts/release-helm.sh
# at the tag's version.
SOURCE = "github.com/Azure/application-gateway-kubernetes-ingress/tags"
REGISTRY = "mcr.microsoft.com"
# The chart's name in its Chart.yaml: `helm push` puts it at <remote>/<name>, and its templates
# name the objects the program relies on after it (components/agic.py).
NAME = "ingress-azure"
REPOSITORY = f"azure-application-gateway/charts/{NAME}"
CHART = f"oci://{REGISTRY}/{REPOSITORY}"

PUBLISHED: tuple[str, ...] = (
    "1.7.0",
    "1.7.1",
    "1.7.2",
    "1.7.3",
    "1.7.4",
    "1.7.5",
    "1.7.6",
    "1.7.7",
    "1.8.0",
    "1.8.1",
    "1.9.1",
    "1.9.2",
    "1.9.3",
    "1.9.4",
    "1.9.5",
    "1.9.6",
    "1.9.7",
    "1.9.8",
)
# The pin: the newest chart whose values.yaml and templates were read against this program's
# values (appgw.applicationGatewayID, armAuth.type workloadIdentity, armAuth.identityClientID,
# rbac.enabled, reconcilePeriodSeconds, the ServiceAccount name in templates/_helpers.tpl, the
# IngressClass in templates/ingressclass.yaml): 1.9.8, tag 1.9.8 of the repository, whose values
# are in shared/agic-chart-1.9.8/. AKS's 1.35 and 1.36 add-on lists name an `ingress-appgw`
# image 1.9.12 (supported-kubernetes-versions.md); no chart tag past 1.9.8 was found, so no
# newer chart is pinned.
PINNED = "1.9.8"

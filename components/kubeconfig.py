"""The kubeconfig the Kubernetes providers use: the cluster's address and CA, and kubelogin.

ARM's listClusterUserCredential answers with a kubeconfig whose user part depends on the
cluster: a static token while local accounts exist, a kubelogin device-code exec block on an
Entra ID cluster (its `format` parameter picks `exec` or the retired `azure` auth provider). Only
the cluster part is kept. The user part is always the one written here, the one
`kubelogin convert-kubeconfig -l azurecli` writes (Azure/kubelogin v0.2.19
pkg/internal/converter/convert.go, case AzureCLILogin): `kubelogin get-token --login azurecli
--server-id <AKS server app>`, no tenant, no client ID, no secret. kubelogin then signs in as
whoever runs Pulumi: `az login` locally; in CI the workflows set AAD_LOGIN_METHOD, which
overrides `--login` (pkg/internal/token/options.go UpdateFromEnv).

Nothing in the result is secret: the server name is also the cluster's `fqdn` output and a CA
certificate is public by design (any client sees the chain it signs). So it stays readable in
state and in a preview's diff, where a reviewer would see a credential slipped into it.
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

# The Entra application every AKS cluster with managed Entra ID accepts tokens for, the same in
# every environment (Azure/kubelogin docs/book/src/concepts/aks.md, "Azure Kubernetes Service
# AAD Server").
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
KUBELOGIN_ARGS: tuple[str, ...] = (
    "get-token",
    "--login",
    "azurecli",
    "--server-id",
    AKS_SERVER_APP_ID,
)
INSTALL_HINT = (
    "kubelogin signs in to the cluster with your Azure login; install it "
    "(https://azure.github.io/kubelogin/install.html) and run `az login`."
)


class KubeconfigError(ValueError):
    """ARM's kubeconfig has no usable cluster entry."""


def entra_kubeconfig(arm_kubeconfig_base64: str) -> str:
    """The provider's kubeconfig from ARM's base64 answer: server and CA, user by kubelogin."""
    arm = yaml.safe_load(base64.b64decode(arm_kubeconfig_base64).decode())
    name, cluster = _current_cluster(arm)
    server, ca = cluster.get("server"), cluster.get("certificate-authority-data")
    if not isinstance(server, str) or not isinstance(ca, str):
        raise KubeconfigError(
            f"ARM's kubeconfig for {name} lacks the server or the certificate-authority-data"
        )
    user = f"{name}-entra-id"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        # Exactly the two fields ARM gives: pulumi-kubernetes replaces the provider, and with it
        # every object in the cluster, when the current context's cluster entry changes
        # (provider/pkg/provider/provider.go DiffConfig, getActiveClusterFromConfig).
        "clusters": [
            {"name": name, "cluster": {"certificate-authority-data": ca, "server": server}}
        ],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user}}],
        "current-context": name,
        "users": [
            {
                "name": user,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSION,
                        "command": "kubelogin",
                        "args": list(KUBELOGIN_ARGS),
                        "installHint": INSTALL_HINT,
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def _current_cluster(arm: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(arm, dict):
        raise KubeconfigError("ARM's kubeconfig is not a mapping")
    contexts = {c.get("name"): c.get("context") or {} for c in arm.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster") or {} for c in arm.get("clusters") or []}
    name = (contexts.get(arm.get("current-context")) or {}).get("cluster")
    if name not in clusters:
        raise KubeconfigError("ARM's kubeconfig names no cluster for its current context")
    return str(name), clusters[name]

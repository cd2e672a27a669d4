"""Stand-in resource plugins for `azure-native` and `kubernetes`, as the engine loads plugins.

No registry carries the azure-native plugin (and its Go module lacks the generated files it
embeds), and here no ARM exists to call; until a real API server runs, no cluster exists for the
kubernetes plugin either. So this process speaks the provider gRPC protocol
(pulumi/pulumi proto/pulumi/provider.proto) for the calls `preview`, `up` and `refresh` make, and
answers as those providers do:

- Diff decides update vs replace from the same table the offline plan cites
  (plan/diff.py force_new_paths: azure-native's path parameters and force-new properties,
  pulumi-kubernetes' metadata and per-kind fields), and asks for delete-before-replace where the
  real provider does (provider_asks_delete_first).
- Create/Update answer what ARM answers (IDs, identity client/principal IDs, the OIDC issuer,
  the cluster's FQDN) by the plan's own deterministic stand-ins (plan/cloud_mocks.py), keep it in
  a small JSON "cloud" on disk, and Read answers from there, so refresh and invokes see what was
  created. listManagedClusterUserCredentials answers the kubeconfig ARM shapes (Entra ID exec
  block) for a cluster that exists.
- kubernetes: a provider whose cluster the run has marked unreachable fails every call, except
  that with deleteUnreachable its Read answers "gone" (pulumi-kubernetes provider.go Read).

What it cannot prove: anything ARM or a cluster would refuse or do beyond these answers.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.mocks import MockResourceArgs
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plan.cloud_mocks import CLIENT_CONFIG, CloudMocks, client_config, kubeconfig_for  # noqa: E402
from plan.diff import (  # noqa: E402
    changed_paths,
    covering,
    force_new_paths,
    provider_asks_delete_first,
)

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
CREDENTIALS = "azure-native:containerservice:listManagedClusterUserCredentials"
CLUSTER = "azure-native:containerservice:ManagedCluster"


def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct) if struct is not None else {}


def as_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return bool(value == UNKNOWN)


class Cloud:
    """The JSON file that plays ARM and the clusters: what exists, and what the run broke."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "cloud.json"
        directory.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def state(self) -> Iterator[dict[str, Any]]:
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.exists() else {}
            data.setdefault("resources", {})
            data.setdefault("unreachable", [])
            yield data
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(self.path)


class StandInProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, package: str, version: str, cloud: Cloud) -> None:
        self.package = package
        self.version = version
        self.cloud = cloud
        self.config: dict[str, Any] = {}

    # --- the provider itself -------------------------------------------------------------
    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC name
        return plugin_pb2.PluginInfo(version=self.version)

    def Handshake(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=False)

    def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        schema = {"name": self.package, "version": self.version}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds = plain(request.old_inputs if request.HasField("old_inputs") else request.olds)
        news = plain(request.news)
        changed = [key for key in sorted(set(olds) | set(news)) if olds.get(key) != news.get(key)]
        if not changed:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        replaces: list[str] = []
        if self.package == "kubernetes":
            replaces = _kubernetes_config_replaces(olds, news, changed)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=changed, replaces=replaces
        )

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.config = plain(request.args)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=True, acceptResources=False
        )

    def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()

    # --- resources -------------------------------------------------------------------------
    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        typ = request.type or request.urn.split("::")[-2].split("$")[-1]
        old_inputs = plain(request.old_inputs) if request.HasField("old_inputs") else {}
        if not old_inputs:
            old_inputs = plain(request.olds).get("__inputs") or plain(request.olds)
        news = plain(request.news)
        changed = changed_paths(old_inputs, news)
        forced = [path for path in changed if covering(path, force_new_paths(typ))]
        detailed = {
            path: provider_pb2.PropertyDiff(
                kind=provider_pb2.PropertyDiff.UPDATE_REPLACE
                if path in forced
                else provider_pb2.PropertyDiff.UPDATE,
                inputDiff=True,
            )
            for path in changed
        }
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=sorted({path.split(".")[0].split("[")[0] for path in changed}),
            replaces=sorted({path.split(".")[0].split("[")[0] for path in forced}),
            deleteBeforeReplace=bool(forced)
            and provider_asks_delete_first(typ, old_inputs, news, bool(forced)),
            detailedDiff=detailed,
            hasDetailedDiff=True,
        )

    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        typ, name = _type_of(request), request.name or request.urn.rsplit("::", 1)[-1]
        inputs = plain(request.properties)
        self._reachable(context)
        resource_id, outputs = self._answer(typ, name, inputs)
        if request.preview:
            # Before it exists, what ARM computes is unknown; inputs are known.
            previewed = {k: (v if k in inputs else UNKNOWN) for k, v in outputs.items()}
            return provider_pb2.CreateResponse(id="", properties=as_struct(previewed))
        with self.cloud.state() as data:
            data["resources"][self._key(typ, resource_id)] = {
                "type": typ,
                "name": name,
                "inputs": inputs,
                "outputs": outputs,
            }
        return provider_pb2.CreateResponse(id=resource_id, properties=as_struct(outputs))

    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        with self.cloud.state() as data:
            unreachable = self._cluster() in data["unreachable"]
            stored = data["resources"].get(self._key(_type_of(request), request.id))
        if self.package == "kubernetes" and unreachable:
            if str(self.config.get("deleteUnreachable")).lower() == "true":
                return provider_pb2.ReadResponse(id="")
            context.abort(grpc.StatusCode.UNAVAILABLE, f"cluster {self._cluster()} unreachable")
        if stored is None:
            return provider_pb2.ReadResponse(id="")
        return provider_pb2.ReadResponse(
            id=request.id,
            properties=as_struct(stored["outputs"]),
            inputs=as_struct(stored["inputs"]),
        )

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        typ, name = _type_of(request), request.name or request.urn.rsplit("::", 1)[-1]
        news = plain(request.news)
        self._reachable(context)
        _, outputs = self._answer(typ, name, news)
        if not request.preview:
            with self.cloud.state() as data:
                data["resources"][self._key(typ, request.id)] = {
                    "type": typ,
                    "name": name,
                    "inputs": news,
                    "outputs": outputs,
                }
        return provider_pb2.UpdateResponse(properties=as_struct(outputs))

    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._reachable(context)
        with self.cloud.state() as data:
            data["resources"].pop(self._key(_type_of(request), request.id), None)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        args = plain(request.args)
        if request.tok == CLIENT_CONFIG:
            return provider_pb2.InvokeResponse(**{"return": as_struct(client_config())})
        if request.tok != CREDENTIALS:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the stand-in has no {request.tok}")
        with self.cloud.state() as data:
            clusters = [
                r
                for r in data["resources"].values()
                if r["type"] == CLUSTER
                and r["outputs"].get("name") == args.get("resourceName")
                and r["inputs"].get("resourceGroupName") == args.get("resourceGroupName")
            ]
        if not clusters:
            # ARM's answer for a cluster that does not exist (ResourceNotFound, 404).
            context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"ResourceNotFound: managed cluster {args.get('resourceName')} not found",
            )
        outputs = clusters[0]["outputs"]
        entra_id = bool((outputs.get("aadProfile") or {}).get("managed"))
        kubeconfig = kubeconfig_for(outputs["name"], outputs["fqdn"], entra_id)
        local = _api_server_of(outputs["name"], data.get("apiServers") or {})
        if local is not None:
            kubeconfig = _pointed_at(kubeconfig, local["server"], local["ca"])
        encoded = base64.b64encode(kubeconfig.encode()).decode()
        answer = {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}
        return provider_pb2.InvokeResponse(**{"return": as_struct(answer)})

    # --- helpers ---------------------------------------------------------------------------
    def _answer(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        args = MockResourceArgs(typ, name, inputs, "", "", True)
        resource_id, outputs = CloudMocks().new_resource(args)
        return str(resource_id), dict(outputs)

    def _cluster(self) -> str:
        """The API server this kubernetes provider talks to, from its kubeconfig."""
        if self.package != "kubernetes":
            return ""
        try:
            config = yaml.safe_load(str(self.config.get("kubeconfig") or ""))
            return str(config["clusters"][0]["cluster"]["server"])
        except (yaml.YAMLError, KeyError, IndexError, TypeError):
            return ""

    def _key(self, typ: str, resource_id: str) -> str:
        """ARM IDs are unique; a Kubernetes object is its cluster, kind, namespace and name."""
        cluster = self._cluster()
        return f"{cluster}|{typ}|{resource_id}" if cluster else resource_id

    def _reachable(self, context: Any) -> None:
        if self.package != "kubernetes":
            return
        with self.cloud.state() as data:
            if self._cluster() in data["unreachable"]:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"cluster {self._cluster()} unreachable")


def _kubernetes_config_replaces(
    olds: dict[str, Any], news: dict[str, Any], changed: list[str]
) -> list[str]:
    """pulumi-kubernetes DiffConfig (provider/pkg/provider/provider.go): a changed
    clusterIdentifier replaces; an unknown kubeconfig, context or cluster replaces; so does a
    kubeconfig whose active cluster changed; but none of it while clusterIdentifier is set and
    unchanged."""
    identifier = "clusterIdentifier"
    replaces = [identifier] if identifier in olds and identifier in changed else []
    unknown = [k for k in ("kubeconfig", "context", "cluster") if news.get(k) == UNKNOWN]
    if unknown:
        replaces += unknown[:1]
    elif "kubeconfig" in changed and _active_cluster(olds) != _active_cluster(news):
        replaces.append("kubeconfig")
    if identifier not in changed and news.get(identifier) not in (None, "", UNKNOWN):
        return []
    return replaces


def _active_cluster(config: dict[str, Any]) -> Any:
    try:
        kubeconfig = yaml.safe_load(str(config.get("kubeconfig") or ""))
        return kubeconfig["clusters"][0]["cluster"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return None


def _api_server_of(cluster: str, servers: dict[str, dict[str, str]]) -> dict[str, str] | None:
    """The real API server the run started for this cluster's color (e2e/clusters.py), if any:
    a cluster is named `<prefix>-<color>` (config/naming.py)."""
    found = [server for color, server in servers.items() if cluster.endswith(f"-{color}")]
    return found[0] if len(found) == 1 else None


def _pointed_at(kubeconfig: str, server: str, ca_data: str) -> str:
    """ARM's kubeconfig, its cluster entry at the local API server and its CA: the user part
    (the Entra ID exec block) stays as ARM shapes it."""
    config = yaml.safe_load(kubeconfig)
    for entry in config["clusters"]:
        entry["cluster"] = {"certificate-authority-data": ca_data, "server": server}
    return str(yaml.safe_dump(config, sort_keys=False))


def _type_of(request: Any) -> str:
    return str(request.type or request.urn.split("::")[-2].split("$")[-1])


def main() -> None:
    package, version = sys.argv[1], sys.argv[2]
    cloud = Cloud(Path(os.environ["AKSBG_E2E_CLOUD"]))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        StandInProvider(package, version, cloud), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the engine interrupts its plugins when it is done
        server.stop(grace=None)


if __name__ == "__main__":
    main()

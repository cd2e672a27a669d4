"""Two real Kubernetes control planes, blue and green, on loopback: the clusters AKS would run.

One etcd holds both (each API server under its own `--etcd-prefix`, as two clusters share
nothing but the process). Each cluster is kube-apiserver, kube-controller-manager and
kube-scheduler from k8s.io/kubernetes, and kwok for its nodes and pods (no containers run):
kwok's node and pod stages (its own `kustomize/stage/{node,pod}/fast`, read from the pinned
module, as kwokctl loads them) make nodes Ready, give each pod an address from the cluster's
subnet (`--cidr`; kwok pkg/kwok/controllers/pod_controller.go takes it when a node has no
podCIDR) and complete a Job's pods.

The API servers accept one bearer token (`--token-auth-file`, group system:masters): the token
the kubelogin stand-in (e2e/kubelogin) hands out, as kubelogin hands the API server an Entra ID
token that AKS maps to the deployer. The serving certificates come from a throwaway CA whose
certificate the stand-in azure-native answers in the kubeconfig ARM returns.

`stop(color)` stops a cluster's API server, the break-glass case: the cluster is unreachable.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.agic import CHART_NAME

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / ".e2e"
BIN = E2E / "bin"
TOKEN = "e2e-deployer-token"
# Node Ready, pods Running and Ready, Job pods Succeeded, deleted pods gone: kwok's "fast" stages.
STAGES = ("node/fast", "pod/fast")
# A Job's pod exits 1: the smoke gate's check failed (components/smoke_gate.py, backoffLimit 0).
JOB_POD_FAILS = """apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: job-pod-fails
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: DoesNotExist
    - key: .status.phase
      operator: In
      values: [Running]
    - key: .metadata.ownerReferences.[].kind
      operator: In
      values: [Job]
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Failed
      conditions:
      - type: Ready
        status: "False"
        lastTransitionTime: {{ $now | Quote }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: false
        restartCount: 0
        state:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}"""
TOOLS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if not (BIN / tool).exists()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ControlPlane:
    color: str
    subnet: str
    port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"


class LocalClusters:
    """etcd and two control planes; `close()` stops every process it started."""

    def __init__(
        self,
        work: Path,
        subnets: dict[str, str],
        service_cidr: str,
        nodes: int,
        kwok_module: Path,
    ) -> None:
        self.work = work / "clusters"
        self.work.mkdir(parents=True)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.ca = trustme.CA()
        self.ca_path = self.work / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self.ca_data = base64_pem(self.ca_path.read_bytes())
        self.service_cidr = service_cidr
        self.nodes = nodes
        self.etcd: subprocess.Popen[bytes] | None = None
        self.etcd_port = _free_port()
        self.planes = {
            color: ControlPlane(color, subnet, _free_port()) for color, subnet in subnets.items()
        }
        self._keys()
        self._stages(kwok_module)
        (self.work / "tokens.csv").write_text(
            f'{TOKEN},e2e-deployer,e2e-deployer,"system:masters"\n'
        )

    # --- files --------------------------------------------------------------------------------
    def _keys(self) -> None:
        server = self.ca.issue_cert("127.0.0.1", "localhost")
        server.cert_chain_pems[0].write_to_path(str(self.work / "apiserver.crt"))
        server.private_key_pem.write_to_path(str(self.work / "apiserver.key"))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.work / "sa.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        (self.work / "sa.pub").write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def _stages(self, kwok_module: Path) -> None:
        documents: dict[str, str] = {}
        for stage in STAGES:
            for path in sorted((kwok_module / "kustomize" / "stage" / stage).glob("*.yaml")):
                if path.name != "kustomization.yaml":
                    documents[path.stem] = path.read_text().strip()
        (self.work / "kwok.yaml").write_text("\n---\n".join(documents.values()) + "\n")
        # The failed-gate case: a Job's running pod fails instead of completing.
        failing = {**documents, "pod-complete": JOB_POD_FAILS}
        (self.work / "kwok-jobs-fail.yaml").write_text("\n---\n".join(failing.values()) + "\n")

    def kubeconfig(self, color: str) -> Path:
        """A token kubeconfig for the run's own tools (the controllers, kwok, the checks)."""
        path = self.work / f"{color}.kubeconfig"
        if not path.exists():
            path.write_text(
                json.dumps(
                    {
                        "apiVersion": "v1",
                        "kind": "Config",
                        "clusters": [
                            {
                                "name": color,
                                "cluster": {
                                    "server": self.planes[color].server,
                                    "certificate-authority": str(self.ca_path),
                                },
                            }
                        ],
                        "users": [{"name": "e2e", "user": {"token": TOKEN}}],
                        "contexts": [{"name": color, "context": {"cluster": color, "user": "e2e"}}],
                        "current-context": color,
                    }
                )
            )
        return path

    # --- processes ----------------------------------------------------------------------------
    def _start(self, plane: ControlPlane | None, name: str, argv: list[str]) -> None:
        tag = f"{plane.color}-{name}" if plane else name
        with open(self.logs / f"{tag}.log", "ab") as log:  # the process keeps its own copy
            process = subprocess.Popen(
                [str(BIN / name), *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work,
                start_new_session=True,
            )
        if plane is None:
            self.etcd = process
        else:
            plane.processes[name] = process

    def start(self) -> None:
        data = self.work / "etcd-data"
        peer = _free_port()
        self._start(
            None,
            "etcd",
            [
                f"--data-dir={data}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=default=http://127.0.0.1:{peer}",
                "--log-level=warn",
            ],
        )
        for plane in self.planes.values():
            self.start_api_server(plane.color)
        for plane in self.planes.values():
            self._wait_ready(plane)
            self._start_controllers(plane)
            self._add_nodes(plane)

    def start_api_server(self, color: str) -> None:
        plane = self.planes[color]
        w = self.work
        self._start(
            plane,
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                f"--etcd-prefix=/{plane.color}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={plane.port}",
                f"--tls-cert-file={w / 'apiserver.crt'}",
                f"--tls-private-key-file={w / 'apiserver.key'}",
                f"--token-auth-file={w / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                f"--service-account-issuer=https://{plane.color}.oidc.e2e.invalid/",
                f"--service-account-key-file={w / 'sa.pub'}",
                f"--service-account-signing-key-file={w / 'sa.key'}",
                f"--service-cluster-ip-range={self.service_cidr}",
                f"--cert-dir={w / plane.color}",
                "--profiling=false",
                # It taints each new node not-ready until the node lifecycle controller sees it
                # Ready, and that controller is off here (see _start_controllers).
                "--disable-admission-plugins=TaintNodesByCondition",
            ],
        )

    def _start_controllers(self, plane: ControlPlane) -> None:
        kubeconfig = str(self.kubeconfig(plane.color))
        self._start(
            plane,
            "kube-controller-manager",
            [
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                f"--service-account-private-key-file={self.work / 'sa.key'}",
                f"--root-ca-file={self.ca_path}",
                # No kubelet heartbeats reach a kwok node past its first status: the lifecycle
                # controller would taint every node unreachable and evict the pods.
                "--controllers=*,-node-lifecycle-controller",
            ],
        )
        self._start(
            plane,
            "kube-scheduler",
            [f"--kubeconfig={kubeconfig}", "--leader-elect=false", "--secure-port=0"],
        )
        self._start_kwok(plane, "kwok.yaml")

    def _start_kwok(self, plane: ControlPlane, stages: str) -> None:
        self._start(
            plane,
            "kwok",
            [
                f"--kubeconfig={self.kubeconfig(plane.color)}",
                f"--config={self.work / stages}",
                "--manage-all-nodes=true",
                f"--cidr={plane.subnet}",
                "--server-address=",
            ],
        )

    def _add_nodes(self, plane: ControlPlane) -> None:
        for index in range(self.nodes):
            name = f"aks-system-{plane.color}-{index}"
            self.request(
                plane.color,
                "POST",
                "/api/v1/nodes",
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {
                        "name": name,
                        "labels": {
                            "kubernetes.io/hostname": name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64",
                            "type": "kwok",
                        },
                    },
                },
            )

    def _wait_ready(self, plane: ControlPlane, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            process = plane.processes["kube-apiserver"]
            if process.poll() is not None:
                raise RuntimeError(
                    f"kube-apiserver ({plane.color}) exited {process.returncode}; "
                    f"see {self.logs / (plane.color + '-kube-apiserver.log')}"
                )
            try:
                if self.request(plane.color, "GET", "/readyz") == "ok":
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"kube-apiserver ({plane.color}) not ready in {seconds:.0f} s")

    def jobs_fail(self, color: str, failing: bool) -> None:
        """Restart the cluster's kwok so that Job pods fail (the smoke gate's check fails) or,
        again, complete."""
        plane = self.planes[color]
        _terminate(plane.processes.pop("kwok"))
        self._start_kwok(plane, "kwok-jobs-fail.yaml" if failing else "kwok.yaml")

    def stop(self, color: str) -> None:
        """The cluster becomes unreachable: its API server stops, as a cluster whose control
        plane or network is gone stops answering."""
        process = self.planes[color].processes.pop("kube-apiserver", None)
        if process is not None:
            _terminate(process)

    def close(self) -> None:
        for plane in self.planes.values():
            for process in plane.processes.values():
                _terminate(process)
        if self.etcd is not None:
            _terminate(self.etcd)

    # --- reading what the clusters hold ---------------------------------------------------------
    def request(self, color: str, method: str, path: str, body: Any = None) -> Any:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        request = urllib.request.Request(
            self.planes[color].server + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            raw = response.read().decode()
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw

    def reachable(self, color: str) -> bool:
        return "kube-apiserver" in self.planes[color].processes

    def items(self, color: str, path: str) -> list[dict[str, Any]]:
        return list(self.request(color, "GET", path).get("items") or [])

    def holds_agic(self, color: str, namespace: str | None = None) -> bool:
        """Whether the cluster holds AGIC's Deployment, in `namespace` or in any: the chart names
        it `<release>-ingress-azure` (components/agic.py controller_deployment_name)."""
        scope = f"/namespaces/{namespace}" if namespace else ""
        names = self.names(color, f"/apis/apps/v1{scope}/deployments")
        return any(name.endswith(f"-{CHART_NAME}") for name in names)

    def names(self, color: str, path: str) -> set[str]:
        """`namespace/name` (or `name`) of each object a list path answers."""
        found = set()
        for item in self.items(color, path):
            meta = item["metadata"]
            found.add(
                f"{meta['namespace']}/{meta['name']}" if "namespace" in meta else meta["name"]
            )
        return found


def base64_pem(pem: bytes) -> str:
    return base64.b64encode(pem).decode()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

"""The AGIC chart in an OCI registry on loopback: `agic.chart` pointed at a mirror, as a locked-down
network points it at its own registry.

Helm pulls an OCI chart as a manifest whose config blob is the chart's metadata and whose one
layer is the packaged chart (helm pkg/registry/constants.go ConfigMediaType and
ChartLayerMediaType; client.go Pull). The registry answers the distribution API's manifest and
blob reads (GET and HEAD) for the one chart the run packages from e2e/agic-chart, and its tags
list for the preflight.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from config.catalogs import agic_chart  # noqa: E402
from loopback_tls import Raw  # noqa: E402

CHART = ROOT / "e2e" / "agic-chart"
# A mirror's own path, not Microsoft's: the run proves the release and the preflight follow
# agic.chart wherever it points.
REPOSITORY = f"mirror/charts/{agic_chart.NAME}"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.cncf.helm.config.v1+json"
LAYER_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def package(chart: Path = CHART) -> bytes:
    """`helm package`'s archive: every file under one folder named for the chart."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(chart.rglob("*")):
            if path.is_file():
                info = tarfile.TarInfo(f"{agic_chart.NAME}/{path.relative_to(chart)}")
                data = path.read_bytes()
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


def _digest(blob: bytes) -> str:
    return "sha256:" + hashlib.sha256(blob).hexdigest()


class ChartRegistry:
    def __init__(self, version: str) -> None:
        self.version = version
        layer = package()
        config = json.dumps(
            {"name": agic_chart.NAME, "version": version, "apiVersion": "v2"}
        ).encode()
        self.blobs = {_digest(layer): layer, _digest(config): config}
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": _digest(config), "size": len(config)},
            "layers": [{"mediaType": LAYER_TYPE, "digest": _digest(layer), "size": len(layer)}],
        }
        self.manifest = json.dumps(manifest).encode()
        self.pulls = 0

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str], Any] | None:
        route = path.split("?", 1)[0]
        prefix = f"/v2/{REPOSITORY}/"
        if method not in ("GET", "HEAD") or not route.startswith(prefix):
            return None
        kind, _, reference = route.removeprefix(prefix).partition("/")
        if kind == "tags" and reference == "list" and method == "GET":
            return 200, {}, {"name": REPOSITORY, "tags": [self.version]}
        if kind == "manifests" and reference in (self.version, _digest(self.manifest)):
            self.pulls += method == "GET"
            return self._blob(self.manifest, MANIFEST_TYPE)
        if kind == "blobs" and reference in self.blobs:
            return self._blob(self.blobs[reference], "application/octet-stream")
        if kind in ("manifests", "blobs"):
            return 404, {}, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": reference}]}
        return None

    def _blob(self, blob: bytes, media_type: str) -> tuple[int, dict[str, str], Any]:
        headers = {"Docker-Content-Digest": _digest(blob)}
        return 200, headers, Raw(body=blob, content_type=media_type)

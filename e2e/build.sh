#!/usr/bin/env bash
# Builds what the end-to-end run needs into .e2e/ (ignored by git), from pinned modules served by
# the Go module proxy, and lays out the plugins the engine loads. Prints nothing when current.
#
#   .e2e/bin/pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
#   .e2e/bin/pulumi-language-python          e2e/language_host.py (the real host's module is not served)
#   .e2e/bin/pulumi-resource-pulumi-python   e2e/pulumi-resource-pulumi-python (dynamic providers)
#   .e2e/home/plugins/...                    the stand-in azure-native plugin, the real kubernetes one
#   .e2e/bin/kube-apiserver, kube-controller-manager, etcd, kwok, pulumi-resource-kubernetes
#
# The first build takes 25-60 minutes on two cores (the CLI alone 12-40); later runs reuse it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/.e2e"
# The CLI: the newest served release of the SDK's major (v3.270.0 is not served; the engine
# talks to the SDK pinned in requirements.txt over gRPC, so a newer CLI runs it as users' do).
CLI_VERSION=v3.274.1
# The SDK module of the pinned Python SDK: it carries the executor the language host runs
# (python/cmd/pulumi-language-python-exec), the file the CLI's release archive ships.
SDK_VERSION=v3.272.0
AZURE_NATIVE_VERSION=3.29.0
KUBERNETES_VERSION=4.34.2

mkdir -p "$out/bin" "$out/home"
venv_python="$root/.venv/bin/python"
"$root/bin/venv"

if [ ! -x "$out/bin/pulumi" ] || [ "$(cat "$out/bin/.pulumi-version" 2>/dev/null)" != "$CLI_VERSION" ]; then
  # nice 19: the machine is shared; two compile jobs use what others leave idle.
  echo "Building the Pulumi CLI $CLI_VERSION from its module (first run: many minutes)..." >&2
  start=$(date +%s)
  (
    cd "$root/e2e/cli"
    nice -n 19 env GOFLAGS=-mod=mod go build -p 2 -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$CLI_VERSION" \
      -o "$out/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  echo "$CLI_VERSION" > "$out/bin/.pulumi-version"
  echo "Built pulumi $CLI_VERSION in $(( $(date +%s) - start )) s, $(du -m "$out/bin/pulumi" | cut -f1) MiB" >&2
fi

sdk_dir=$(cd "$root/e2e/cli" && GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/sdk/v3@$SDK_VERSION" |
  "$venv_python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
exec_script="$sdk_dir/python/cmd/pulumi-language-python-exec"
[ -f "$exec_script" ] || { echo "error: $exec_script missing from sdk/v3@$SDK_VERSION" >&2; exit 3; }

# Bundled plugins live next to the CLI (pulumi sdk/go/common/workspace/plugins.go IsPluginBundled).
cat > "$out/bin/pulumi-language-python" <<EOF
#!/bin/sh
AKSBG_E2E_PYTHON_EXEC='$exec_script' AKSBG_E2E_SDK_VERSION='${SDK_VERSION#v}' exec '$venv_python' -u '$root/e2e/language_host.py' "\$@"
EOF
ln -sf "$root/e2e/pulumi-resource-pulumi-python" "$out/bin/pulumi-resource-pulumi-python"
chmod +x "$out/bin/pulumi-language-python"

# Resource plugins in the plugin cache at the versions the SDKs ask for (pulumi-plugin.json).
plugin() {
  local name=$1 version=$2 dir="$out/home/plugins/resource-$1-v$2"
  mkdir -p "$dir"
  # Never through a link to the real provider's binary (stage 2 installs it as a link).
  rm -f "$dir/pulumi-resource-$name"
  cat > "$dir/pulumi-resource-$name" <<EOF
#!/bin/sh
exec '$venv_python' -u '$root/e2e/stand_in_provider.py' '$name' '$version' "\$@"
EOF
  chmod +x "$dir/pulumi-resource-$name"
}
plugin azure-native "$AZURE_NATIVE_VERSION"

# Stage 2: real Kubernetes. Each tool is built from the wrapper module beside this script, whose
# go.mod and go.sum pin it; `.version` stamps say what is built, so a changed pin rebuilds.
wrapped() {  # wrapped <wrapper folder> <stamp> <go build arguments...>
  local folder=$1 stamp=$2 current
  shift 2
  current=$(cat "$root/e2e/$folder/go.mod" "$root/e2e/$folder/go.sum" | sha256sum | cut -c1-16)
  if [ "$(cat "$out/bin/.$stamp-version" 2>/dev/null)" != "$current" ]; then
    echo "Building $stamp from e2e/$folder (first run: minutes)..." >&2
    local start
    start=$(date +%s)
    (cd "$out/src/$folder" && nice -n 19 env GOFLAGS=-mod=mod go build -p 2 -trimpath "$@")
    echo "$current" > "$out/bin/.$stamp-version"
    echo "Built $stamp in $(( $(date +%s) - start )) s" >&2
  fi
}
mkdir -p "$out/src"
for folder in kube etcd kwok kubernetes-provider; do
  mkdir -p "$out/src/$folder"
  cp "$root/e2e/$folder"/go.mod "$root/e2e/$folder"/go.sum "$root/e2e/$folder"/*.go "$out/src/$folder/"
done
wrapped kube kube -o "$out/bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler
wrapped etcd etcd -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
wrapped kwok kwok -o "$out/bin/kwok" sigs.k8s.io/kwok/cmd/kwok
# The provider's embedded files, written as its generate.go writes them: the schema with the
# plugin's version set, and the Terraform mapping, each re-serialized.
provider_dir=$(cd "$out/src/kubernetes-provider" && GOFLAGS=-mod=mod go mod download -json \
  github.com/pulumi/pulumi-kubernetes/provider/v4 | "$venv_python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
"$venv_python" - "$provider_dir/cmd/pulumi-resource-kubernetes" "$out/src/kubernetes-provider" "$KUBERNETES_VERSION" <<'PY'
import json, sys
from pathlib import Path
source, into, version = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
schema = json.loads((source / "schema.json").read_text())
schema["version"] = version
(into / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
mapping = json.loads((source / "terraform-mapping.json").read_text())
(into / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
PY
k8s_plugin="$out/home/plugins/resource-kubernetes-v$KUBERNETES_VERSION"
# The plugin version the pulumi-kubernetes SDK asks for (its pulumi-plugin.json), stamped into
# the provider as its release build does (pkg/version.Version).
wrapped kubernetes-provider kubernetes-provider -o "$out/bin/pulumi-resource-kubernetes" \
  -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_VERSION" .
# The real provider is the plugin unless AKSBG_E2E_KUBERNETES=stand-in asks for stage 1's.
if [ "${AKSBG_E2E_KUBERNETES:-real}" = stand-in ]; then
  plugin kubernetes "$KUBERNETES_VERSION"
else
  mkdir -p "$k8s_plugin"
  ln -sf "$out/bin/pulumi-resource-kubernetes" "$k8s_plugin/pulumi-resource-kubernetes"
fi

# Stage 3 needs AGIC built from its module at the chart 1.9.8 tag's commit (4aa4d64935f0,
# 2026-03-24): asked each build, and what the proxy answered is kept for the run's last line.
AGIC_MODULE=github.com/Azure/application-gateway-kubernetes-ingress@v0.0.0-20260324202720-4aa4d64935f0
if answer=$(cd "$out/src/kube" && GOFLAGS=-mod=mod go mod download -json "$AGIC_MODULE" 2>&1); then
  echo "served: $AGIC_MODULE" > "$out/bin/.agic-module"
else
  echo "$(echo "$answer" | grep -o '"Error": *"[^"]*"' | head -1 | cut -d'"' -f4 | sed 's/\\n\\t/ /g' | tail -c 400)" > "$out/bin/.agic-module"
fi

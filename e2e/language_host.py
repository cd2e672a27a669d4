"""The Python language host the engine starts as `pulumi-language-python <engine address>`.

The real host (pulumi/pulumi sdk/python/cmd/pulumi-language-python, its own Go module) is not
served by the Go module proxy, so this one speaks the same LanguageRuntime protocol
(pulumi/pulumi proto/pulumi/language.proto) for what `pulumi preview/up` and
`--policy-pack` call: the required plugins, Run and RunPlugin. What it runs is the SDK's own:
the executor `pulumi-language-python-exec` that the sdk/v3 Go module carries (the CLI's
release archive ships the same file), with the virtualenv that Pulumi.yaml names, and a policy
pack through the `pulumi-analyzer-policy-python` launcher beside this file.

The real host's behaviour this copies, read in its main.go: the program's config reaches the
executor as PULUMI_CONFIG (JSON) and PULUMI_CONFIG_SECRET_KEYS; the virtualenv is resolved
against the project's root directory and activated by PATH; exit code 32 means the program
already showed its error (RunResponse.bail); required plugins come from each installed
package's `pulumi-plugin.json`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

HERE = Path(__file__).resolve().parent
VERSION = os.environ.get("AKSBG_E2E_SDK_VERSION", "3.272.0")
# Exit code with which the executor says the user already saw the error.
BAILED = 32


def _virtualenv(info: Any) -> Path:
    """The virtualenv the project options name, resolved against the root directory."""
    options = dict(info.options) if info.HasField("options") else {}
    named = str(options.get("virtualenv") or ".venv")
    root = Path(info.root_directory or info.program_directory or ".")
    return Path(os.path.normpath(root / named))


def _activated(venv: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONHOME", None)
    return env


def _plugins_of(venv: Path) -> list[plugin_pb2.PackageDependency]:
    """Resource plugins of the installed SDKs, as each package's pulumi-plugin.json names."""
    found: list[plugin_pb2.PackageDependency] = []
    for marker in sorted(venv.glob("lib/python*/site-packages/*/pulumi-plugin.json")):
        meta = json.loads(marker.read_text())
        if not meta.get("resource"):
            continue
        name = meta.get("name") or marker.parent.name.removeprefix("pulumi_").replace("_", "-")
        version = str(meta.get("version", "")).removeprefix("v")
        found.append(
            plugin_pb2.PackageDependency(
                name=name,
                kind="resource",
                version=f"v{version}",
                server=meta.get("server", ""),
            )
        )
    return found


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.exec_script = os.environ["AKSBG_E2E_PYTHON_EXEC"]

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC name
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPackages(self, request: Any, context: Any) -> Any:  # noqa: N802
        return language_pb2.GetRequiredPackagesResponse(
            packages=_plugins_of(_virtualenv(request.info))
        )

    def GetRequiredPlugins(self, request: Any, context: Any) -> Any:  # noqa: N802
        plugins = [
            plugin_pb2.PluginDependency(name=p.name, kind=p.kind, version=p.version)
            for p in _plugins_of(_virtualenv(request.info))
        ]
        return language_pb2.GetRequiredPluginsResponse(plugins=plugins)

    def InstallDependencies(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        # bin/venv builds the virtualenv from the pinned requirements; nothing to install here.
        yield from ()

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:  # noqa: N802
        return language_pb2.GetProgramDependenciesResponse()

    def About(self, request: Any, context: Any) -> Any:  # noqa: N802
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version)

    def Run(self, request: Any, context: Any) -> Any:  # noqa: N802
        venv = _virtualenv(request.info)
        program_dir = request.info.program_directory or request.pwd
        entry = request.info.entry_point or request.program or "."
        args = [
            str(venv / "bin" / "python"),
            "-u",
            self.exec_script,
            "--monitor",
            request.monitor_address,
            "--engine",
            self.engine,
            "--project",
            request.project,
            "--stack",
            request.stack,
            "--pwd",
            request.pwd,
            "--dry_run",
            "true" if request.dryRun else "false",
            "--parallel",
            str(request.parallel),
            "--organization",
            request.organization,
            "--root_directory",
            request.info.root_directory,
            str(Path(program_dir) / entry),
            *request.args,
        ]
        env = _activated(
            venv,
            {
                "PULUMI_CONFIG": json.dumps(dict(request.config)),
                "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
            },
        )
        code = subprocess.run(args, cwd=request.pwd, env=env, check=False).returncode
        if code == 0:
            return language_pb2.RunResponse()
        if code == BAILED:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"python program exited with code {code}")

    def RunPlugin(self, request: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        if request.kind not in ("", "analyzer"):
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"no {request.kind} plugins in Python")
        venv = _virtualenv(request.info)
        pack_dir = request.info.program_directory or request.pwd
        env = _activated(venv, dict(item.split("=", 1) for item in request.env if "=" in item))
        env["PULUMI_RUNTIME_VIRTUALENV"] = str(venv)
        launcher = HERE / "pulumi-analyzer-policy-python"
        process = subprocess.Popen(
            [str(launcher), *request.args, pack_dir],
            cwd=pack_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        context.add_callback(process.terminate)
        chunks: list[Any] = []
        ready = threading.Condition()

        def pump(stream: Any, field: str) -> None:
            for chunk in iter(lambda: stream.read1(4096), b""):
                with ready:
                    chunks.append(language_pb2.RunPluginResponse(**{field: chunk}))
                    ready.notify()
            with ready:
                chunks.append(None)
                ready.notify()

        for stream, field in ((process.stdout, "stdout"), (process.stderr, "stderr")):
            threading.Thread(target=pump, args=(stream, field), daemon=True).start()
        open_streams = 2
        while open_streams:
            with ready:
                while not chunks:
                    ready.wait()
                item = chunks.pop(0)
            if item is None:
                open_streams -= 1
            else:
                yield item
        yield language_pb2.RunPluginResponse(exitcode=process.wait())


def main() -> None:
    engine = sys.argv[-1]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the engine interrupts its plugins when it is done
        server.stop(grace=None)


if __name__ == "__main__":
    main()

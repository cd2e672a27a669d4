"""A Pulumi plugin started as the CLI starts one, and a gRPC channel to it.

The policy pack (`python -m pulumi.policy`) and the dynamic-provider host (`python -m
pulumi.dynamic`) both print the port they serve on as their first line, as the engine expects.
"""

from __future__ import annotations

import select
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import grpc

# How long a plugin may take to import its SDKs and print its port.
START_SECONDS = 60


@contextmanager
def plugin_channel(
    command: list[str], cwd: Path, env: Mapping[str, str] | None = None
) -> Iterator[grpc.Channel]:
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
        assert ready and process.stdout is not None, f"{command} never printed its port"
        port = process.stdout.readline().decode().strip()
        assert port.isdigit(), process.stderr.read().decode() if process.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

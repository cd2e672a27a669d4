"""Runs the real `__main__.py` under Pulumi's mocks and records everything it registers.

The record is what the Pulumi engine would receive: each resource's type, inputs, parent,
provider and options (protect, delete_before_replace, ignore_changes, replace_on_changes,
depends_on and the dependencies of each input), in registration order, plus the stack outputs,
every invoke and every stack reference read.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import logging
import multiprocessing
import runpy
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from plan.cloud_mocks import STACK_REFERENCE, CloudMocks
from plan.shortcuts import completed, skipping_unneeded_work, without_aliases

PROGRAM_DIR = Path(__file__).resolve().parent.parent
STACK_TYPE = "pulumi:pulumi:Stack"
# What the DIY backend always calls the organization (pulumi/pulumi pkg/backend/diy/backend.go).
ORGANIZATION = "organization"
# The provider SDKs whose modules load lazily, on first attribute access (pulumi 3.272 _utils.py
# lazy_import, _LazyModule; each package's __init__.py lazy-imports its submodules).
LAZY_SDKS = ("pulumi_azure_native", "pulumi_kubernetes")
T = TypeVar("T")


class ProgramError(Exception):
    """The program refused its config (a `pulumi.RunError`): the message is for the user."""


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    protect: bool
    delete_before_replace: bool
    ignore_changes: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    dependencies: tuple[str, ...]
    custom_timeouts: dict[str, str]
    # Input name -> the resources its value came from; the engine decides from these which
    # dependents a delete-before-replace must replace too (step_generator.go
    # calculateDependentReplacements).
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    @property
    def touches_cloud(self) -> bool:
        """Azure resources: what a flip must leave untouched."""
        return self.custom and self.type.startswith("azure-native:")


@dataclass
class Evaluation:
    resources: dict[str, Registration] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    stack_references: list[str] = field(default_factory=list)
    # What the program logged with pulumi.log.warn: the CLI shows these as warnings.
    warnings: list[str] = field(default_factory=list)

    def engine_urn(self, urn: str) -> str:
        """The URN the engine gives a resource: its type qualified by every ancestor's type.

        The mocks' URNs name the parent's type only; `pulumi up --target` needs the real one.
        """
        reg = self.resources[urn]
        types = [reg.type]
        parent = self.resources.get(reg.parent)
        while parent is not None:
            types.insert(0, parent.type)
            parent = self.resources.get(parent.parent)
        stack_and_project = urn.split("::")[0] + "::" + urn.split("::")[1]
        return f"{stack_and_project}::{'$'.join(types)}::{reg.name}"

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.resources.values() if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Registration:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ} {name or ''}, found {len(found)}")
        return found[0]


def _unwrap(value: Any, path: str, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            secrets.add(path)
            return _unwrap(value["value"], path, secrets)
        return {k: _unwrap(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, evaluation: Evaluation) -> None:
        super().__init__(mocks)
        self.evaluation = evaluation

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type == STACK_TYPE:
            return super().RegisterResource(request)
        # MockMonitor.RegisterResource (pulumi 3.272 runtime/mocks.py), with the request's
        # inputs deserialized once for the mocks and the record alike: per resource, the
        # deserialization is one of the largest costs of an evaluation.
        urn = self.make_urn(request.parent, request.type, request.name)
        _ensure_event_loop()  # resource references deserialize through the loop
        wire = rpc.deserialize_properties(request.object)
        id_, state = self.mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=wire,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
                transforms=pulumi_mocks._resolve_callbacks(request.transforms),
            )
        )
        state_proto = completed(rpc.serialize_properties(state, {}))
        # Mocks answer an id for every resource they create (plan/cloud_mocks.py).
        resource_id = id_ or ""
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        response = resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id, object=state_proto
        )
        secrets: set[str] = set()
        inputs = _unwrap(wire, "", secrets)
        timeouts = request.customTimeouts
        self.evaluation.resources[response.urn] = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=request.custom,
            parent=request.parent,
            # A provider reference is "<provider URN>::<provider ID>".
            provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
            inputs=inputs,
            secret_inputs=frozenset(secrets),
            protect=request.protect,
            delete_before_replace=request.deleteBeforeReplace,
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            dependencies=tuple(sorted(request.dependencies)),
            custom_timeouts={
                k: v
                for k, v in (
                    ("create", timeouts.create),
                    ("update", timeouts.update),
                    ("delete", timeouts.delete),
                )
                if v
            },
            property_dependencies={
                key: tuple(sorted(deps.urns))
                for key, deps in request.propertyDependencies.items()
                if deps.urns
            },
        )
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type == STACK_REFERENCE:
            self.evaluation.stack_references.append(request.id)
        return super().ReadResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn.split("::")[2] == STACK_TYPE:
            secrets: set[str] = set()
            self.evaluation.outputs = _unwrap(
                rpc.deserialize_properties(request.outputs), "", secrets
            )
        return super().RegisterResourceOutputs(request)

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.evaluation.invokes.append((request.tok, rpc.deserialize_properties(request.args)))
        return super().Invoke(request)


def _run_program(main: Path, shortcuts: bool) -> None:
    if shortcuts:
        pulumi.runtime.register_stack_transformation(without_aliases)
    runpy.run_path(str(main), run_name="__main__")


def evaluate(
    config: dict[str, Any],
    stack: str,
    project: str = "aks-bluegreen",
    program_dir: Path = PROGRAM_DIR,
    mocks: pulumi.runtime.Mocks | None = None,
    preview: bool = False,
    previous_outputs: dict[str, Any] | None = None,
    into: Evaluation | None = None,
    shortcuts: bool = True,
) -> Evaluation:
    """Evaluates the program once for `config`: fully qualified keys, values as the CLI passes.

    `mocks` answer in place of the cloud (default: CloudMocks); `preview` runs it as
    `pulumi preview` would, where `pulumi.runtime.is_dry_run()` is true. `previous_outputs` are
    the stack's outputs from its last deployment, as the program's reference to its own stack
    reads them (default CloudMocks only); None evaluates a first deployment. `into` receives
    the record as it is made, so a caller can read what a failing program registered and
    exported before it failed, as the engine keeps it. `shortcuts` skips the SDK's work that only
    an engine reads (plan/shortcuts.py); without them the record is the same, only slower.
    """
    evaluation = into if into is not None else Evaluation()
    cloud = mocks or CloudMocks(previous_outputs)
    monitor = RecordingMonitor(cloud, evaluation)
    pulumi.runtime.set_mocks(
        cloud,
        project=project,
        stack=stack,
        preview=preview,
        logger=_warnings_into(evaluation),
        monitor=monitor,
        organization=ORGANIZATION,
    )
    # set_mocks registers a root stack of its own; the program gets a fresh one, as under the CLI.
    settings.ROOT.set(None)
    # A program that failed in an apply leaves that output behind for the runtime to re-raise at
    # exit (pulumi 3.272 output.py `_track`); it must not fail the next evaluation in this process.
    settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config({k: as_config_text(v) for k, v in config.items()})
    main = program_dir / "__main__.py"
    if str(program_dir) not in sys.path:
        sys.path.insert(0, str(program_dir))
    try:
        with skipping_unneeded_work() if shortcuts else contextlib.nullcontext():
            _sync_await(run_in_stack(lambda: _run_program(main, shortcuts)))
    except pulumi.RunError as err:
        raise ProgramError(str(err)) from None
    finally:
        settings.ROOT.set(None)
    return evaluation


class _Recorder(logging.Handler):
    def __init__(self, evaluation: Evaluation) -> None:
        super().__init__(logging.WARNING)
        self.evaluation = evaluation

    def emit(self, record: logging.LogRecord) -> None:
        self.evaluation.warnings.append(record.getMessage())


def _warnings_into(evaluation: Evaluation) -> logging.Logger:
    """The logger the mocks' engine writes the program's log calls to (pulumi 3.272
    runtime/mocks.py MockEngine.Log); without one they go to the root logger's stderr."""
    logger = logging.getLogger("plan.program")
    logger.propagate = False
    logger.handlers = [_Recorder(evaluation)]
    return logger


def as_config_text(value: Any) -> str:
    """A config value as the CLI hands it to the program: text; objects and lists as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def evaluate_both(
    base_config: dict[str, Any],
    head_config: dict[str, Any],
    stack: str,
    head_previous: dict[str, Any] | None = None,
    base_previous: dict[str, Any] | None = None,
) -> tuple[Evaluation, Evaluation]:
    """Evaluates two configs at once: the base in a forked process, the head in this one."""
    (base, _), (head, _) = evaluate_both_then(
        _nothing, base_config, head_config, stack, head_previous, base_previous
    )
    return base, head


def evaluate_both_then(
    then: Callable[[Evaluation], T],
    base_config: dict[str, Any],
    head_config: dict[str, Any],
    stack: str,
    head_previous: dict[str, Any] | None = None,
    base_previous: dict[str, Any] | None = None,
) -> tuple[tuple[Evaluation, T], tuple[Evaluation, T]]:
    """Evaluates two configs at once, each followed by `then` in the process that made it.

    Most of an evaluation is importing the SDKs' modules, which runs on one core; a forked
    process on the second core halves the wall time (a spawned one re-imports everything and
    is slower than no second process at all). `then` (the plan's policy pack) runs on the base
    in the child while this process still evaluates or checks the head; its answer must pickle.
    A fork is only safe while this process has one thread: a child can inherit a lock another
    thread holds and hang. An evaluation with the shortcuts starts none (plan/shortcuts.py
    answers the monitor in place), but one without them starts the loop's pool, and a caller
    may run threads of its own; then the two run one after the other.
    """
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        head = evaluate(head_config, stack, previous_outputs=head_previous)
        head_then = then(head)
        base = evaluate(base_config, stack, previous_outputs=base_previous)
        return (base, then(base)), (head, head_then)
    # Loaded here, the SDK modules are the child's without loading them again: otherwise both
    # processes load each one the program touches, a floor's worth of CPU time spent twice.
    load_program_modules()
    # A bare forked process and a pipe, not a ProcessPoolExecutor: the executor's manager thread
    # can race its own shutdown and print "Invalid file descriptor: -1" (CPython's
    # concurrent/futures/process.py waits on a result pipe the shutdown may already have closed).
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_evaluate_into,
        args=(sender, then, base_config, stack, base_previous),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        head = evaluate(head_config, stack, previous_outputs=head_previous)
        head_then = then(head)
        try:
            succeeded, outcome = receiver.recv()
        except EOFError:
            # The child died without answering: evaluate here, where any error surfaces whole.
            base = evaluate(base_config, stack, previous_outputs=base_previous)
            return (base, then(base)), (head, head_then)
    finally:
        receiver.close()
        child.join()
    if not succeeded:
        raise outcome
    return outcome, (head, head_then)


def _nothing(_evaluation: Evaluation) -> None:
    return None


def load_program_modules(program_dir: Path = PROGRAM_DIR) -> None:
    """Loads the lazily loaded SDK modules the program's source reaches, as its run would.

    A module of the provider SDKs is loaded by the first access to one of its attributes; the
    program reaches them by name, `from pulumi_azure_native import network` then
    `network.ApplicationGateway`, or `import pulumi_kubernetes as k8s` then
    `k8s.core.v1.Namespace`. Each such name and dotted chain in the program's source is followed
    here, module by module. Loading a module runs no thread, so a fork after it stays safe.
    """
    for source in (program_dir / "__main__.py", *sorted((program_dir / "components").glob("*.py"))):
        tree = ast.parse(source.read_bytes(), str(source))
        aliases: dict[str, list[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    if name.name.split(".")[0] in LAZY_SDKS:
                        aliases[name.asname or name.name] = name.name.split(".")
            elif isinstance(node, ast.ImportFrom) and node.module in LAZY_SDKS:
                for name in node.names:
                    aliases[name.asname or name.name] = [node.module, name.name]
        for node in ast.walk(tree):
            chain: list[str] = []
            while isinstance(node, ast.Attribute):
                chain.insert(0, node.attr)
                node = node.value
            if isinstance(node, ast.Name) and node.id in aliases:
                _load(aliases[node.id] + chain)


def _load(path: list[str]) -> None:
    """Loads each module along `path`, a package and the attributes after it."""
    module: Any = importlib.import_module(path[0])
    for part in path[1:]:
        # vars() is one of the attributes a lazy module answers without loading itself.
        value = vars(module).get(part)
        if not isinstance(value, types.ModuleType):
            return
        getattr(value, "__all__", None)  # any other attribute loads it
        module = value


def _evaluate_into(
    sender: Connection,
    then: Callable[[Evaluation], Any],
    config: dict[str, Any],
    stack: str,
    previous: dict[str, Any] | None,
) -> None:
    try:
        evaluation = evaluate(config, stack, previous_outputs=previous)
        sender.send((True, (evaluation, then(evaluation))))
    except Exception as err:  # handed to the parent, which raises it as its own
        sender.send((False, err))
    finally:
        sender.close()

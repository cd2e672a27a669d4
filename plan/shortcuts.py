"""Work the Pulumi SDK does for an engine that the mocks never read, skipped while evaluating.

Each shortcut leaves what an evaluation records unchanged; tests/test_evaluation.py
evaluates the sample and a several-app variant with and without them and compares the records.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pulumi
from pulumi import _types as sdk_types
from pulumi import log as sdk_log
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.sync_await import _ensure_event_loop

T = TypeVar("T")


def without_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult:
    """The resource as registered, less its aliases.

    azure-native's generated classes give each resource an alias per earlier type token (96 on a
    MaintenanceConfiguration, 113 on a ManagedCluster), and the SDK makes outputs of each before it
    registers the resource (pulumi 3.272 resource.py Resource.__init__, collapse_alias_to_urn;
    runtime/resource.py prepare_aliases): most of an evaluation's time. An alias only lets an
    engine find a resource its state holds under an older token. An evaluation starts from no
    state and records no alias, so what it records is the same without them; transformations run
    before aliases are read (Resource.__init__).
    """
    opts = pulumi.ResourceOptions.merge(args.opts, None)
    opts.aliases = None
    return pulumi.ResourceTransformationResult(args.props, opts)


@contextlib.contextmanager
def skipping_unneeded_work() -> Iterator[None]:
    """The SDK as the program sees it, less the work only an engine would read."""
    with (
        _without_stack_traces(),
        _without_debug_logs(),
        _remembered_unwrapped_types(),
        _monitor_answering_in_place(),
        paused_cycle_collection(),
    ):
        yield


@contextlib.contextmanager
def _without_stack_traces() -> Iterator[None]:
    """Registrations without the source stack trace the SDK attaches to each.

    For every resource the SDK walks the Python stack with `traceback.extract_stack` (reading
    each frame's source line) and turns every frame's file into a URI (pulumi 3.272
    runtime/resource.py `_get_stack_trace`, called by register_resource and read_resource), for
    the engine to point its messages at the program's source. The mock monitor never reads it
    and the record holds no such field, so leaving it empty changes nothing recorded; it was a
    sixth of an evaluation's time.
    """
    saved = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = saved


def _no_debug_log(*_args: Any, **_kwargs: Any) -> None:
    return None


@contextlib.contextmanager
def _without_debug_logs() -> Iterator[None]:
    """The SDK's debug messages dropped where they are made, not at the logger.

    The SDK logs several debug lines per resource (pulumi 3.272 runtime/resource.py
    register_resource and do_register, through log.py `debug`), each a LogRequest message the
    mock engine hands to the evaluation's logger (runtime/mocks.py MockEngine.Log), whose level
    (WARNING, plan/evaluate.py) drops them. The SDK's modules call `log.debug` through the
    module, so replacing it here reaches every caller; warnings, which the record keeps, are
    untouched.
    """
    saved = sdk_log.debug
    sdk_log.debug = _no_debug_log
    try:
        yield
    finally:
        sdk_log.debug = saved


@contextlib.contextmanager
def _remembered_unwrapped_types() -> Iterator[None]:
    """The SDK's `unwrap_type` answered once per type for the evaluation.

    Serializing each input (pulumi 3.272 runtime/rpc.py serialize_property) and translating each
    output (_types.py resource_types, output_type_types) unwrap the property's type hint, some
    27,000 times at 50 apps for a few hundred distinct types. `unwrap_type` (_types.py) is a
    function of the type alone: it reads the hint's origin and arguments and whether a class is
    an input type, which the class's decorator sets when the class is made. Both callers look it
    up on the module at each call, so replacing it there reaches them. A hint that cannot be a
    key (unhashable metadata) is unwrapped as before.
    """
    saved = sdk_types.unwrap_type
    known: dict[Any, Any] = {}

    def unwrap_type(val: Any) -> Any:
        try:
            return known[val]
        except KeyError:
            known[val] = found = saved(val)
            return found
        except TypeError:
            return saved(val)

    sdk_types.unwrap_type = unwrap_type
    try:
        yield
    finally:
        sdk_types.unwrap_type = saved


def completed(awaitable: Awaitable[T]) -> T:
    """The result of an awaitable that finishes without waiting on anything, run in place.

    The mock monitor serializes its answers with the SDK's `serialize_properties`, a coroutine
    because an input may be an Output. A mock's answer holds plain values only, so it finishes
    at its first step; driving it here needs no event loop, where `_sync_await` would pump the
    running one from inside the call it is answering. One that waits is a bug, said as one.
    """
    steps = awaitable.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    steps.close()
    raise RuntimeError("a mock monitor's answer waited on an unresolved value")


class _InPlace(concurrent.futures.ThreadPoolExecutor):
    """An executor that runs each call when it is submitted, in the submitting thread.

    A ThreadPoolExecutor by type only: asyncio takes nothing else as a loop's default executor
    (CPython 3.11 base_events.py set_default_executor); its pool is never started.
    """

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except (
            BaseException
        ) as err:  # as a pool's worker hands it on (concurrent/futures/thread.py)
            future.set_exception(err)
        return future


@contextlib.contextmanager
def _monitor_answering_in_place() -> Iterator[None]:
    """The mock monitor called in the program's thread, not through a pool of threads.

    The SDK hands every call to the monitor to the event loop's default executor (pulumi 3.272
    runtime/resource.py do_register and read_resource, invoke.py, settings.py
    _load_monitor_feature_support: `run_in_executor(None, ...)`), so that a gRPC call to a real
    engine does not stop the loop. The mock monitor answers from memory, and the hop to a
    worker thread and back (its wake-up, the lock the threads pass between them, the loop's
    wake-up) was an eighth of an evaluation's CPU time. The loop awaits the answer as before, in
    a future resolved at once, so each registration still runs as its own step of the loop; the
    monitor's own serializing, `_sync_await` in the SDK's MockMonitor, is run by `completed`.
    Registrations arrive in the order the program makes them rather than the order worker
    threads finish, which the plan never reads: it orders steps by dependencies. No thread is
    started, so a fork after an evaluation is safe too.
    """
    loop: asyncio.AbstractEventLoop = _ensure_event_loop()  # type: ignore[no-untyped-call]
    # The loop keeps its default executor in a private field and has no getter; it is put back
    # as found, None included (run_in_executor then makes a pool when first asked).
    saved_executor = loop._default_executor  # type: ignore[attr-defined]
    saved_sync_await = sdk_mocks._sync_await  # type: ignore[attr-defined]
    loop.set_default_executor(_InPlace(max_workers=1))
    sdk_mocks._sync_await = completed  # type: ignore[attr-defined]
    try:
        yield
    finally:
        sdk_mocks._sync_await = saved_sync_await  # type: ignore[attr-defined]
        loop._default_executor = saved_executor  # type: ignore[attr-defined]


@contextlib.contextmanager
def paused_cycle_collection() -> Iterator[None]:
    """CPython's cycle collector paused for the evaluation, and resumed after it.

    An evaluation allocates hundreds of thousands of containers (the SDK's Outputs, futures and
    tasks, the deserialized properties), so the collector runs over and over, and each pass of
    its older generations walks every object alive, the SDKs' thousands of imported classes too:
    a third of a 50-app evaluation's CPU time. The collector only frees objects nothing can reach
    any more, so pausing it changes nothing the program or the record sees; the cycles it would
    have freed (under 10 MiB at 50 apps) are freed once it runs again. The plan's process pauses
    it for its whole run (plan/__main__.py `run`): loading the SDK modules and judging, checking
    and diffing the two evaluations' records, it otherwise walks the same heap again and again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""Work the Pulumi SDK does for an engine that the mocks never read, skipped while evaluating.

Each shortcut leaves what an evaluation records unchanged; tests/test_evaluation.py
evaluates the sample and a several-app variant with and without them and compares the records.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import pulumi
from pulumi import _types as sdk_types
from pulumi import log as sdk_log
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2


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

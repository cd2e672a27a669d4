"""Runs the CrossGuard pack's own policies offline, against an Evaluation of the program.

The engine is not needed: each Registration becomes the PolicyResource / ResourceValidationArgs
the real pack would receive (inputs as props behind pulumi_policy's unknown-checking proxy, options,
provider, parent and dependencies), each policy's own `validate` runs with a collecting
`report_violation`, and per-policy config and enforcement levels are resolved the way the CLI
does: a policy's entry beats `all`, which beats the policy's own level, which beats the pack's.

Known differences from `pulumi preview --policy-pack policies`:
- resources without an explicit provider get `provider=None`; the engine passes the default
  provider there (no policy of this pack reads it);
- stack policies see inputs, where the engine shows a stack policy the outputs; the program's
  mocks echo inputs as outputs, so for what the pack reads they are the same;
- the record cannot tell an unset `delete_before_replace` (None under the engine) from False.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from inspect import isawaitable
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # what `args.not_applicable()` raises
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from plan.evaluate import Evaluation, Registration
from policies.pack import ENFORCEMENT_LEVEL, POLICIES

Level = Literal["mandatory", "advisory"]
PolicyConfig = Mapping[str, Mapping[str, Any] | str]
ALL = "all"
_LEVEL_KEY = "enforcementLevel"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement_level: Level
    message: str
    urn: str | None

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level == "mandatory"

    def __str__(self) -> str:
        where = f" [{self.urn}]" if self.urn else ""
        return f"{self.enforcement_level}: {self.policy}: {self.message}{where}"


@dataclass(frozen=True)
class _Settings:
    level: EnforcementLevel
    properties: dict[str, Any]


def check(evaluation: Evaluation, config: PolicyConfig | None = None) -> list[Violation]:
    """Every violation the pack reports for `evaluation`, in policy then registration order.

    `config` is the policy-pack config, as in `--policy-pack-config`: policy name (or "all") to
    an enforcement level, or to an object of `enforcementLevel` and the policy's properties.
    An unknown policy, level or property raises ValueError, as the CLI refuses such a file.
    """
    settings = _resolve(config or {})
    violations: list[Violation] = []
    for policy in POLICIES:
        setting = settings[policy.name]
        if setting.level is EnforcementLevel.DISABLED:
            continue
        # The engine reports a violation of a remediation policy as mandatory.
        level: Level = "advisory" if setting.level is EnforcementLevel.ADVISORY else "mandatory"
        if isinstance(policy, ResourceValidationPolicy):
            violations += _check_resources(policy, level, setting, evaluation)
        elif isinstance(policy, StackValidationPolicy):
            violations += _check_stack(policy, level, setting, evaluation)
    return violations


def weakened(config: PolicyConfig | None = None) -> list[str]:
    """The policies `config` disables or lowers from the pack's own level, as "name (level)",
    in pack order: what "no violation" does not vouch for."""
    settings, own = _resolve(config or {}), _resolve({})
    rank = {
        EnforcementLevel.DISABLED: 0,
        EnforcementLevel.ADVISORY: 1,
        EnforcementLevel.MANDATORY: 2,
    }
    return [
        f"{policy.name} ({settings[policy.name].level.value})"
        for policy in POLICIES
        if rank.get(settings[policy.name].level, 2) < rank.get(own[policy.name].level, 2)
    ]


def mandatory(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.mandatory]


def _check_resources(
    policy: ResourceValidationPolicy, level: Level, setting: _Settings, evaluation: Evaluation
) -> list[Violation]:
    if not policy.has_validation():
        return []
    providers = _providers(evaluation)
    found: list[Violation] = []
    for reg in evaluation.resources.values():
        args = _ResourceArgs(
            reg.type,
            _Deferred(reg.inputs),
            reg.urn,
            reg.name,
            _options(reg),
            providers.get(reg.provider),
            dict(setting.properties),
            {},
        )
        # A resource policy's violations always belong to the resource under analysis.
        report = _reporter(found, policy.name, level, fixed_urn=reg.urn)
        found += _run(policy.name, partial(policy.validate, args, report), reg.urn)
    return found


def _check_stack(
    policy: StackValidationPolicy, level: Level, setting: _Settings, evaluation: Evaluation
) -> list[Violation]:
    args = StackValidationArgs(_stack_resources(evaluation), dict(setting.properties), {})
    found: list[Violation] = []
    report = _reporter(found, policy.name, level, fixed_urn=None)
    found += _run(policy.name, partial(policy.validate, args, report), None)
    return found


def _reporter(
    found: list[Violation], policy: str, level: Level, fixed_urn: str | None
) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        found.append(Violation(policy, level, message, fixed_urn or urn or None))

    return report


def _run(policy: str, validate: Callable[[], Any], urn: str | None) -> list[Violation]:
    try:
        result = validate()
        if result is not None and isawaitable(result):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(_wait(result))
            finally:
                loop.close()
    except UnknownValueError as err:
        # As the engine does in a preview: the policy cannot decide yet, which is a warning.
        return [Violation(policy, "advisory", f"can't run during preview: {err.message}", urn)]
    except _NotApplicableError:
        pass
    return []


async def _wait(result: Awaitable[Any]) -> None:
    await result


def _props(reg: Registration) -> Mapping[str, Any]:
    # The same proxy the engine wraps props in: a policy that treats them as a dict, or reads an
    # unknown value, fails here exactly as it would under `pulumi preview`.
    return unknown_checking_proxy(reg.inputs)


class _Deferred(Mapping[str, Any]):
    """A resource's inputs, to be wrapped in the engine's proxy when a policy first reads them."""

    def __init__(self, inputs: dict[str, Any]) -> None:
        self.inputs = inputs

    def __getitem__(self, key: str) -> Any:
        return self.inputs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)


class _LazyProps:
    """`props` built on a policy's first read, not for every policy and resource up front.

    The analyzer wraps a fresh copy of each resource's props in `unknown_checking_proxy` for every
    policy it runs (pulumi_policy policy.py `Analyze` and `AnalyzeStack`), and the proxy copies the
    whole tree as it wraps it (proxy.py `_proxy_helper`). Most policies return on the resource type
    and never read props, yet building the copies was most of a plan's policy time at 50 apps. A
    policy that reads them gets the same fresh proxy, built from the same inputs, as before; one
    that assigns `props` keeps what it assigned.
    """

    _props: Mapping[str, Any]

    @property
    def props(self) -> Mapping[str, Any]:
        if isinstance(self._props, _Deferred):
            self._props = unknown_checking_proxy(self._props.inputs)
        return self._props

    @props.setter
    def props(self, value: Mapping[str, Any]) -> None:
        self._props = value


class _ResourceArgs(_LazyProps, ResourceValidationArgs):
    pass


class _StackResource(_LazyProps, PolicyResource):
    pass


def _options(reg: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=reg.protect,
        ignore_changes=list(reg.ignore_changes),
        delete_before_replace=reg.delete_before_replace,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(
            _seconds(reg.custom_timeouts.get("create")),
            _seconds(reg.custom_timeouts.get("update")),
            _seconds(reg.custom_timeouts.get("delete")),
        ),
        additional_secret_outputs=[],
        parent=reg.parent or None,
    )


@cache
def _seconds(duration: str | None) -> float:
    """A Go duration ("2m30s", as the SDK sends custom timeouts) in seconds; 0 when unset."""
    if not duration:
        return 0.0
    parts = _DURATION_PART.findall(duration)
    if "".join(number + unit for number, unit in parts) != duration:
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(number) * _SECONDS[unit] for number, unit in parts)


def _providers(evaluation: Evaluation) -> dict[str, PolicyProviderResource]:
    return {
        reg.urn: PolicyProviderResource(reg.type, _props(reg), reg.urn, reg.name)
        for reg in evaluation.resources.values()
        if reg.is_provider
    }


def _stack_resources(evaluation: Evaluation) -> list[PolicyResource]:
    providers = _providers(evaluation)
    by_urn = {
        reg.urn: _StackResource(
            reg.type,
            _Deferred(reg.inputs),
            reg.urn,
            reg.name,
            _options(reg),
            providers.get(reg.provider),
            None,
            [],
            {},
        )
        for reg in evaluation.resources.values()
    }
    # Parents and dependencies point at the other resources' objects, as the engine links them;
    # the stack resource itself is not recorded, so top-level resources have no parent object.
    for reg in evaluation.resources.values():
        resource = by_urn[reg.urn]
        resource.parent = by_urn.get(reg.parent)
        resource.dependencies = [by_urn[urn] for urn in reg.dependencies if urn in by_urn]
    return list(by_urn.values())


def _resolve(config: PolicyConfig) -> dict[str, _Settings]:
    by_name = {policy.name: policy for policy in POLICIES}
    unknown = sorted(set(config) - set(by_name) - {ALL})
    if unknown:
        raise ValueError(
            f"policy config: no policy named {unknown[0]!r} in the pack; "
            f"known: {', '.join(sorted(by_name))}"
        )
    everyone = config.get(ALL)
    if isinstance(everyone, Mapping) and set(everyone) - {_LEVEL_KEY}:
        raise ValueError(f"policy config: {ALL!r} takes only {_LEVEL_KEY}")
    all_level = _level(ALL, everyone)
    settings: dict[str, _Settings] = {}
    for name, policy in by_name.items():
        entry = config.get(name)
        level = _level(name, entry) or all_level or policy.enforcement_level or ENFORCEMENT_LEVEL
        settings[name] = _Settings(level, _properties(policy, entry))
    return settings


def _level(name: str, entry: Mapping[str, Any] | str | None) -> EnforcementLevel | None:
    value = entry.get(_LEVEL_KEY) if isinstance(entry, Mapping) else entry
    if value is None:
        return None
    try:
        return EnforcementLevel(value)
    except ValueError:
        levels = ", ".join(level.value for level in EnforcementLevel)
        raise ValueError(
            f"policy config {name}: enforcement level {value!r} is not one of {levels}"
        ) from None


def _properties(policy: Policy, entry: Mapping[str, Any] | str | None) -> dict[str, Any]:
    given: dict[str, Any] = {}
    if isinstance(entry, Mapping):
        given = {key: value for key, value in entry.items() if key != _LEVEL_KEY}
    schema: Mapping[str, Mapping[str, Any]] = {}
    required: list[str] = []
    if policy.config_schema is not None:
        schema = policy.config_schema.properties
        required = policy.config_schema.required or []
    for key, value in given.items():
        if key not in schema:
            raise ValueError(
                f"policy config {policy.name}: unknown property {key!r}; "
                f"known: {', '.join(sorted(schema)) or 'none'}"
            )
        _validate_property(policy.name, key, value, schema[key])
    missing = [key for key in required if key not in given and "default" not in schema[key]]
    if missing:
        raise ValueError(f"policy config {policy.name}: {missing[0]!r} is required")
    # Schema defaults fill what the config leaves out, so a policy always sees a complete config.
    defaults = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
    return {**defaults, **given}


def _validate_property(policy: str, key: str, value: Any, spec: Mapping[str, Any]) -> None:
    expected = spec.get("type")
    is_type = _JSON_TYPES.get(expected) if isinstance(expected, str) else None
    if is_type is not None and not is_type(value):
        raise ValueError(f"policy config {policy}.{key}: {value!r} is not a {expected}")
    pattern = spec.get("pattern")
    if isinstance(pattern, str) and isinstance(value, str) and not re.search(pattern, value):
        raise ValueError(f"policy config {policy}.{key}: {value!r} does not match {pattern}")
    allowed = spec.get("enum")
    if isinstance(allowed, list) and value not in allowed:
        raise ValueError(f"policy config {policy}.{key}: {value!r} is not one of {allowed}")

"""Shared fixtures: the real program evaluated under mocks for the sample stacks."""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config.stack_file import read_config  # noqa: E402
from plan.evaluate import Evaluation, Registration, evaluate  # noqa: E402

STACK = "prod"
# The one required key besides `active`: a valid deploying principal for tests that parse a
# minimal config rather than a sample stack.
ACCESS = {"deployer": {"objectId": "00000000-0000-0000-0000-00000000d3b1"}}

# The suite's default; `pytest --hypothesis-profile=deep` fuzzes harder before a release.
settings.register_profile("default", max_examples=300, deadline=None)
settings.register_profile("deep", max_examples=10_000, deadline=None)
settings.load_profile("default")


def sample_config(color: str) -> dict[str, Any]:
    return read_config(ROOT / f"Pulumi.{color}.yaml")


def with_overrides(color: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The sample config with `aks-bluegreen:<key>` values replaced or deep-merged."""
    config = copy.deepcopy(sample_config(color))
    for key, value in overrides.items():
        qualified = f"aks-bluegreen:{key}"
        current = config.get(qualified)
        if isinstance(current, dict) and isinstance(value, dict):
            config[qualified] = _merge(current, value)
        else:
            config[qualified] = value
    return config


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture(scope="session")
def blue() -> Evaluation:
    return evaluate(sample_config("blue"), STACK)


@pytest.fixture(scope="session")
def green() -> Evaluation:
    return evaluate(sample_config("green"), STACK)


@pytest.fixture(scope="session")
def evaluate_variant() -> Callable[..., Evaluation]:
    """The sample stack with config overrides; each distinct variant is evaluated once a session.

    An evaluation costs most of a second, so tests share them. Callers must not mutate the result.
    """
    cache: dict[str, Evaluation] = {}

    def run(color: str = "blue", **overrides: Any) -> Evaluation:
        key = json.dumps([color, overrides], sort_keys=True)
        if key not in cache:
            cache[key] = evaluate(with_overrides(color, overrides), STACK)
        return cache[key]

    return run


@pytest.fixture(params=("blue", "green"))
def stack(request: pytest.FixtureRequest) -> Evaluation:
    """Each sample stack in turn: what holds in one position must hold in the other."""
    return request.getfixturevalue(request.param)


def by_name(stack: Evaluation, name: str) -> Registration:
    [found] = [r for r in stack.resources.values() if r.name == name]
    return found

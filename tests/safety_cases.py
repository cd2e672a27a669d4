"""The sample stack's configs for the safety tests and the model checker, and their verdicts.

A state is a set of overrides on the blue sample stack; the verdict between two is the plan's
own judge (plan/verdict.py) on the two evaluations, the head evaluated against the base as its
last deployment, verified, exactly as `bin/plan` does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import config
from config import transition
from conftest import STACK, with_overrides
from plan.evaluate import Evaluation, evaluate
from plan.verdict import Verdict, judge

PROJECT_KEY = "aks-bluegreen:"


def stack_config(overrides: dict[str, Any]) -> dict[str, Any]:
    return with_overrides("blue", overrides)


def parsed(raw: dict[str, Any]) -> config.StackConfig:
    own = {
        k.removeprefix(PROJECT_KEY): v if isinstance(v, str) else json.dumps(v)
        for k, v in raw.items()
    }
    return config.parse(own)


@dataclass
class Judged:
    verdict: Verdict
    base: Evaluation
    head: Evaluation


class Judge:
    """Evaluations cached by config, so sequences share them; never mutate what it returns."""

    def __init__(self) -> None:
        self._first: dict[str, Evaluation] = {}
        self._after: dict[str, Evaluation] = {}

    def first(self, raw: dict[str, Any]) -> Evaluation:
        key = json.dumps(raw, sort_keys=True)
        if key not in self._first:
            self._first[key] = evaluate(raw, STACK)
        return self._first[key]

    def after(self, base_raw: dict[str, Any], raw: dict[str, Any]) -> Evaluation:
        """`raw` evaluated with `base_raw` as its verified last deployment, as the plan does."""
        base_cfg, head_cfg = parsed(base_raw), parsed(raw)
        prefix = config.resource_prefix(head_cfg, STACK)
        base_facts = transition.facts_of(base_cfg, prefix)
        if transition.refusals(base_facts, transition.facts_of(head_cfg, prefix)):
            return self.first(raw)
        deployed = {**base_facts.to_output(), "servingColor": base_cfg.active}
        key = json.dumps([base_raw, raw], sort_keys=True)
        if key not in self._after:
            self._after[key] = evaluate(raw, STACK, previous_outputs={transition.OUTPUT: deployed})
        return self._after[key]

    def verdict(self, base_raw: dict[str, Any], head_raw: dict[str, Any]) -> Judged:
        base_cfg, head_cfg = parsed(base_raw), parsed(head_raw)
        base, head = self.first(base_raw), self.after(base_raw, head_raw)
        verdict = judge(
            base,
            head,
            base_cfg,
            head_cfg,
            config.resource_prefix(head_cfg, STACK),
            serving=base_cfg.active,
        )
        return Judged(verdict, base, head)

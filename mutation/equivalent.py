"""Mutants that cannot change what the program does, and why.

Two kinds. Mutants inside type annotations are equivalent by construction: every target module
starts with `from __future__ import annotations`, so annotations are strings Python never
evaluates (PEP 563), and `str | None` turned into `str + None` changes nothing at run time. They
are not run at all. The others were run, survived, and were read one by one: each is listed here
with the reason it is equivalent, matched by module, operator, and the exact source line before
and after the mutation, so an edit of that line makes the mutant count as a survivor again until
it is read anew.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Equivalent:
    module: str
    operator: str
    line: str
    mutated: str
    why: str


_ABOVE_EVERY_ADDRESS = (
    "any number above the largest IPv6 address (2**128 - 1) sorts names after every address"
)

_T = "config/transition.py"
_DOWNGRADE = "if new[:2] < old[:2] or (len(old) == len(new) == 3 and new < old):"
_AT_MOST_THREE = (
    "a version key has two or three parts (MAJOR.MINOR[.PATCH], checked when the config is "
    "read), so the changed comparison holds for exactly the same pairs of versions"
)
_HEAD_ENABLED_IS_BOOL = (
    "the head's facts always come from facts_of a parsed config, whose `enabled` is a bool for "
    "both clusters; for bools the two comparisons agree"
)
_COLORS_CONSTANTS = (
    "both colors are the COLORS constants themselves (the loops run over COLORS, Literal "
    "fields return the literal's own string): identity and equality agree"
)
_HARMLESS_FROZEN = (
    "harmless: the facts are built once per read and never assigned to, nor hashed; frozen "
    "only keeps later code from doing so"
)

TRANSITION_EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        _T,
        "ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        _HARMLESS_FROZEN,
    ),
    Equivalent(
        _T,
        "NumberReplacer",
        _DOWNGRADE,
        "if new[: 3] < old[:2] or (len(old) == len(new) == 3 and new < old):",
        "a three-part key whose first two parts equal old's sorts after old[:2], one "
        "that differs in them sorts as its first two do: new[:3] and new[:2] are on the "
        "same side of old[:2]",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_GtE",
        _DOWNGRADE,
        "if new[:2] < old[:2] or (len(old) >= len(new) == 3 and new < old):",
        _AT_MOST_THREE,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_GtE",
        _DOWNGRADE,
        "if new[:2] < old[:2] or (len(old) == len(new) >= 3 and new < old):",
        _AT_MOST_THREE,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_LtE",
        _DOWNGRADE,
        "if new[:2] < old[:2] or (len(old) == len(new) <= 3 and new < old):",
        "two-part keys equal in length compare as their first two parts, which the "
        "first clause already judged: " + _AT_MOST_THREE,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_LtE",
        _DOWNGRADE,
        "if new[:2] < old[:2] or (len(old) <= len(new) == 3 and new < old):",
        "with a two-part old and a three-part new, new < old only if new[:2] < old[:2], "
        "which the first clause already judged: " + _AT_MOST_THREE,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_Is",
        _DOWNGRADE,
        "if new[:2] < old[:2] or (len(old) is len(new) == 3 and new < old):",
        "lengths are small ints, which CPython keeps one object each of (-5 to 256)",
    ),
    Equivalent(
        _T,
        "ReplaceBinaryOperator_Sub_Mod",
        "if new[1] - old[1] > 1:",
        "if new[1] % old[1] > 1:",
        "new[1] >= old[1] here (downgrades returned above), and every minor the version "
        "catalog accepts (1.29 to 1.37, config/catalogs/kubernetes_versions.py) is less "
        "than twice any other, so the remainder is the difference",
    ),
    Equivalent(
        _T,
        "NumberReplacer",
        "if new[:2] > old[:2] and color == previous.active:",
        "if new[:2] > old[: 3] and color == previous.active:",
        "a key longer than new[:2] with the same first two parts sorts after it, one "
        "that differs in them sorts as its first two do: old[:3] and old[:2] give the "
        "same answer",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Gt_NotEq",
        "if new[:2] > old[:2] and color == previous.active:",
        "if new[:2] != old[:2] and color == previous.active:",
        "a lower minor returned as a downgrade above, so a different minor is a higher one here",
    ),
    Equivalent(
        _T,
        "ReplaceOrWithAnd",
        "if serving is None or head.active is None or serving == head.active:",
        "if serving is None and head.active is None or serving == head.active:",
        "with no serving color the rule reads head.cluster(None), the empty facts, "
        "whose enabled is None, not False: nothing is refused either way",
    ),
    Equivalent(
        _T,
        "ReplaceOrWithAnd",
        "if serving is None or head.active is None or serving == head.active:",
        "if serving is None or head.active is None and serving == head.active:",
        "the head's facts always come from facts_of a parsed config, whose active is "
        "set: head.active is never None",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_Is",
        "if serving is None or head.active is None or serving == head.active:",
        "if serving is None or head.active is None or serving is head.active:",
        "when the two are equal but not identical (serving read from JSON), the rule "
        "goes on to head.active's cluster, which the config rules keep enabled: "
        "nothing is refused either way",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Is_Eq",
        "if head.cluster(serving).enabled is False:",
        "if head.cluster(serving).enabled == False:",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Is_LtE",
        "if head.cluster(serving).enabled is False:",
        "if head.cluster(serving).enabled <= False:",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Is_Eq",
        "if color != head.active and head.cluster(color).enabled is False",
        "if color != head.active and head.cluster(color).enabled == False",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Is_LtE",
        "if color != head.active and head.cluster(color).enabled is False",
        "if color != head.active and head.cluster(color).enabled <= False",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "if color != head.active and head.cluster(color).enabled is False",
        "if color is not head.active and head.cluster(color).enabled is False",
        _COLORS_CONSTANTS + " (protected is read back as COLORS members)",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_IsNot_Gt",
        "if lifted and head.unreachable != lifted and head.cluster(lifted).enabled is not False:",
        "if lifted and head.unreachable != lifted and head.cluster(lifted).enabled > False:",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_IsNot_NotEq",
        "if lifted and head.unreachable != lifted and head.cluster(lifted).enabled is not False:",
        "if lifted and head.unreachable != lifted and head.cluster(lifted).enabled != False:",
        _HEAD_ENABLED_IS_BOOL,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Is_Eq",
        "if declared and declared != lifted and previous.cluster(declared).enabled is False:",
        "if declared and declared != lifted and previous.cluster(declared).enabled == False:",
        "enabled is a bool or None (an older output), and None == False is False as "
        "None is False is",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "if declared and declared != lifted and previous.cluster(declared).enabled is False:",
        "if declared and declared is not lifted and previous.cluster(declared).enabled is False:",
        "they differ only when the cluster stays declared unreachable, and then the last "
        "deployment had it enabled (the config rules refuse breakGlass on a retired "
        "cluster): the last clause is False either way",
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_Is",
        'return "green" if color == "blue" else "blue"',
        'return "green" if color is "blue" else "blue"',
        "every caller passes a color of the loops over COLORS: " + _COLORS_CONSTANTS,
    ),
    Equivalent(
        _T,
        "ReplaceComparisonOperator_Eq_LtE",
        'return "green" if color == "blue" else "blue"',
        'return "green" if color <= "blue" else "blue"',
        "the color is blue or green, and only 'blue' is <= 'blue'",
    ),
)


_D = "plan/diff.py"
_ACTION_LITERALS = (
    "actions are string literals of this module (the Action type), which CPython interns: one "
    "object per literal, so identity and equality agree"
)
_HARMLESS_PLAN_FROZEN = (
    "harmless: changes, steps and plans are built once per diff and never assigned to; frozen "
    "only keeps later code from doing so"
)
_PROVIDER_REFERENCE = (
    "a provider reference is `<URN>::<ID>` and always holds '::': with one split, [1], [+1] "
    "and [-1] are its last piece, and so is [-1] of any split"
)
_DEPTH_ORDER = (
    "the steps sort by depth only relative to each other: a constant added to every depth, or "
    "every depth doubled, keeps the same order"
)

DIFF_EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'if pattern == "*":',
        'if pattern is "*":',
        "CPython keeps one object for each one-character string, so a '*' decoded from the "
        "engine's message is the literal itself",
    ),
    Equivalent(
        _D,
        "ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        _HARMLESS_PLAN_FROZEN,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        "return [c for c in self.changes.values() if c.action == action]",
        "return [c for c in self.changes.values() if c.action is action]",
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        "if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):",
        "if isinstance(before, list) and isinstance(after, list) and len(before) is len(after):",
        "lengths are small ints, which CPython keeps one object each of (-5 to 256); no list the "
        "program declares holds more than 256 items",
    ),
    Equivalent(
        _D,
        "ReplaceTrueWithFalse",
        "for index, (old, new) in enumerate(zip(before, after, strict=True))",
        "for index, (old, new) in enumerate(zip(before, after, strict=False))",
        "the lists are of equal length, checked just above: strict never fires",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Lt",
        'if pattern == "*":',
        'if pattern < "*":',
        "a pattern is a property path or '*'; no path starts with a character that sorts before "
        "'*' (space, !, quotes, #, $, %, &, parentheses)",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'if pattern == "*":',
        'if pattern <= "*":',
        "a pattern is a property path or '*'; no path starts with a character that sorts before "
        "'*' (space, !, quotes, #, $, %, &, parentheses)",
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 2)[-1], after.provider.rsplit("::", 1)[-1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 2)[-1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_Delete_USub",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 1)[1], after.provider.rsplit("::", 1)[-1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_Delete_USub",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_UAdd",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 1)[+1], after.provider.rsplit("::", 1)[-1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_UAdd",
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[-1]',
        'old, new = before.provider.rsplit("::", 1)[-1], after.provider.rsplit("::", 1)[+1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "elif before.protect != after.protect:",
        "elif before.protect is not after.protect:",
        "protect is a bool, and True and False are one object each",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'delete_before_replace=action == "replace"',
        'delete_before_replace=action is "replace"',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'delete_before_replace=action == "replace"',
        'delete_before_replace=action <= "replace"',
        "the action here is same, update, state-only or replace, and of these only replace sorts "
        "at or before 'replace'",
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 2 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=- 2)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=- 0)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_Delete_USub",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=1)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_Invert",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=~1)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_Not",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=not 1)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_UAdd",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=+1)",
        _DEPTH_ORDER,
    ),
    Equivalent(
        _D,
        "ReplaceBinaryOperator_BitOr_BitXor",
        "depth[urn] = 1 + max((depth_of(d, trail | {urn}) for d in edges[urn]), default=-1)",
        "depth[urn] = 1 + max((depth_of(d, trail ^ {urn}) for d in edges[urn]), default=-1)",
        "urn is never in trail here (that raised the cycle error above), so trail ^ {urn} is "
        "trail | {urn}",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'if reg.type == KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"',
        'if reg.type >= KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"',
        "only Kubernetes providers have a deleteUnreachable input (components/cluster.py)",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'if reg.type == KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"',
        'if reg.type <= KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"',
        "only Kubernetes providers have a deleteUnreachable input (components/cluster.py)",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'if reg.type == KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) == "true"',
        'if reg.type == KUBERNETES_PROVIDER and str(reg.inputs.get("deleteUnreachable")) >= "true"',
        "the input reads 'true', 'false' or 'None' (unset), and only 'true' sorts at or after "
        "'true'",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'urn for urn, c in changes.items() if c.action == "replace" and c.delete_before_replace',
        'urn for urn, c in changes.items() if c.action is "replace" and c.delete_before_replace',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'urn for urn, c in changes.items() if c.action == "replace" and c.delete_before_replace',
        'urn for urn, c in changes.items() if c.action >= "replace" and c.delete_before_replace',
        "same, state-only and update, the actions after 'replace', never delete first: _compare "
        "sets delete_before_replace for replacements only",
    ),
    Equivalent(
        _D,
        "NumberReplacer",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 1)[-1]} is replaced\"",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 2)[-1]} is replaced\"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_Delete_USub",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 1)[-1]} is replaced\"",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 1)[1]} is replaced\"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceUnaryOperator_USub_UAdd",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 1)[-1]} is replaced\"",
        "why[urn] = f\"its provider {reg.provider.rsplit('::', 1)[+1]} is replaced\"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'if reg.type == KUBERNETES_PROVIDER and "kubeconfig" in keys:',
        'if reg.type >= KUBERNETES_PROVIDER and "kubeconfig" in keys:',
        "kubeconfig is an input of Kubernetes providers only",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'if reg.type == KUBERNETES_PROVIDER and "kubeconfig" in keys:',
        'if reg.type <= KUBERNETES_PROVIDER and "kubeconfig" in keys:',
        "kubeconfig is an input of Kubernetes providers only",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'if change.action == "create":',
        'if change.action is "create":',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'if change.action == "create":',
        'if change.action <= "create":',
        "no action sorts before 'create'",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'elif change.action == "update" and urn in arming:',
        'elif change.action is "update" and urn in arming:',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'elif change.action == "update" and urn in arming:',
        'elif change.action >= "update" and urn in arming:',
        "no action sorts after 'update'",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'elif change.action == "update":',
        'elif change.action is "update":',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'elif change.action == "update":',
        'elif change.action >= "update":',
        "no action sorts after 'update'",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'elif change.action == "state-only":',
        'elif change.action is "state-only":',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'elif change.action == "state-only":',
        'elif change.action >= "state-only":',
        "update, the one action after 'state-only', took the branch above",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'elif change.action == "replace" and change.delete_before_replace:',
        'elif change.action is "replace" and change.delete_before_replace:',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_GtE",
        'elif change.action == "replace" and change.delete_before_replace:',
        'elif change.action >= "replace" and change.delete_before_replace:',
        "state-only and update took the branches above, and same never deletes first",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'elif change.action == "replace" and change.delete_before_replace:',
        'elif change.action <= "replace" and change.delete_before_replace:',
        "the loop runs over the head's resources, whose changes are create, update, replace, "
        "state-only or same: never delete or drop"
        " (create took the first branch)",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'elif change.action == "replace":',
        'elif change.action is "replace":',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_LtE",
        'elif change.action == "replace":',
        'elif change.action <= "replace":',
        "the loop runs over the head's resources, whose changes are create, update, replace, "
        "state-only or same: never delete or drop"
        " (create took the first branch)",
    ),
    Equivalent(
        _D,
        "ReplaceComparisonOperator_Eq_Is",
        'if urn in changes and changes[urn].action == "delete"',
        'if urn in changes and changes[urn].action is "delete"',
        _ACTION_LITERALS,
    ),
)


_V = "plan/verdict.py"
_HARMLESS_VERDICT_FROZEN = (
    "harmless: a verdict is built once per judgement and never assigned to; frozen only keeps "
    "later code from doing so"
)
_CARRIED_KEY = (
    "the line only makes sure the provider has a (possibly empty) entry in `carried`, which sets "
    "the order the `with <provider>` lines are told in; a provider's carried objects are deleted "
    "before it (the engine's order), so its entry exists already, and an empty entry prints "
    "nothing"
)
_CONFIG_LITERALS = (
    "colors and the unreachable color are Literal fields (or None), which pydantic-core returns "
    "as the literal's own string, the very object COLORS holds: identity and equality agree"
)

VERDICT_EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        _V,
        "ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        _HARMLESS_VERDICT_FROZEN,
    ),
    Equivalent(
        _V,
        "NumberReplacer",
        'name = reg.provider.rsplit("::", 1)[-1]',
        'name = reg.provider.rsplit("::", 2)[-1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "ReplaceUnaryOperator_Delete_USub",
        'name = reg.provider.rsplit("::", 1)[-1]',
        'name = reg.provider.rsplit("::", 1)[1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "ReplaceUnaryOperator_USub_UAdd",
        'name = reg.provider.rsplit("::", 1)[-1]',
        'name = reg.provider.rsplit("::", 1)[+1]',
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "NumberReplacer",
        "f\"nothing serving is lost: with {provider.rsplit('::', 1)[-1]} the change \"",
        "f\"nothing serving is lost: with {provider.rsplit('::', 2)[-1]} the change \"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "ReplaceUnaryOperator_Delete_USub",
        "f\"nothing serving is lost: with {provider.rsplit('::', 1)[-1]} the change \"",
        "f\"nothing serving is lost: with {provider.rsplit('::', 1)[1]} the change \"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "ReplaceUnaryOperator_USub_UAdd",
        "f\"nothing serving is lost: with {provider.rsplit('::', 1)[-1]} the change \"",
        "f\"nothing serving is lost: with {provider.rsplit('::', 1)[+1]} the change \"",
        _PROVIDER_REFERENCE,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        'if change.action == "delete" and _workload(base, reg) in removed_apps:',
        'if change.action is "delete" and _workload(base, reg) in removed_apps:',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_LtE",
        'if change.action == "delete" and _workload(base, reg) in removed_apps:',
        'if change.action <= "delete" and _workload(base, reg) in removed_apps:',
        "only deletes and replacements get here and 'replace' sorts after 'delete'",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_GtE",
        'if change.action == "delete" and _workload(base, reg) in removed_apps:',
        'if change.action >= "delete" and _workload(base, reg) in removed_apps:',
        "a removed app is not in the head, so every change of its objects is a delete, never a "
        "replacement",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        'if change.action == "replace" and change.reason.startswith("its provider "):',
        'if change.action is "replace" and change.reason.startswith("its provider "):',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_GtE",
        'if change.action == "replace" and change.reason.startswith("its provider "):',
        'if change.action >= "replace" and change.reason.startswith("its provider "):',
        "only deletes and replacements get here and 'delete' sorts before 'replace'",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_LtE",
        'if change.action == "replace" and change.reason.startswith("its provider "):',
        'if change.action <= "replace" and change.reason.startswith("its provider "):',
        "a delete's reason is 'no longer declared' or the unreachable cluster, never 'its "
        "provider ...'",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        'verb = "deletes" if change.action == "delete" else "replaces"',
        'verb = "deletes" if change.action is "delete" else "replaces"',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_LtE",
        'verb = "deletes" if change.action == "delete" else "replaces"',
        'verb = "deletes" if change.action <= "delete" else "replaces"',
        "only deletes and replacements get here and 'replace' sorts after 'delete'",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        'why = f" ({change.reason})" if change.action == "replace" and change.reason else ""',
        'why = f" ({change.reason})" if change.action is "replace" and change.reason else ""',
        _ACTION_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_GtE",
        'why = f" ({change.reason})" if change.action == "replace" and change.reason else ""',
        'why = f" ({change.reason})" if change.action >= "replace" and change.reason else ""',
        "only deletes and replacements get here and 'delete' sorts before 'replace'",
    ),
    Equivalent(
        _V,
        "AddNot",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if not reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Gt",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type > KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_GtE",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type >= KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type is KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_IsNot",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type is not KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Lt",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type < KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_LtE",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type <= KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_NotEq",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried or reg.type != KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceOrWithAnd",
        "if reg.urn in carried or reg.type == KUBERNETES_PROVIDER:",
        "if reg.urn in carried and reg.type == KUBERNETES_PROVIDER:",
        _CARRIED_KEY,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        "f\"protected: the change {'deletes' if c.action == 'delete' else 'replaces'} \"",
        "f\"protected: the change {'deletes' if c.action is 'delete' else 'replaces'} \"",
        _ACTION_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_LtE",
        "f\"protected: the change {'deletes' if c.action == 'delete' else 'replaces'} \"",
        "f\"protected: the change {'deletes' if c.action <= 'delete' else 'replaces'} \"",
        "only deletes and replacements get here and 'replace' sorts after 'delete'",
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        "if base_cfg.active == head_cfg.active:",
        "if base_cfg.active is head_cfg.active:",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_Eq_Is",
        "if head_cfg.unreachable == base_cfg.unreachable:",
        "if head_cfg.unreachable is base_cfg.unreachable:",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "flip = base_cfg.active != head_cfg.active",
        "flip = base_cfg.active is not head_cfg.active",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "if base_cfg.active != head_cfg.active:",
        "if base_cfg.active is not head_cfg.active:",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "standby = {c for c in COLORS if c != base_cfg.active and c != head_cfg.active}",
        "standby = {c for c in COLORS if c is not base_cfg.active and c != head_cfg.active}",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_NotEq_IsNot",
        "standby = {c for c in COLORS if c != base_cfg.active and c != head_cfg.active}",
        "standby = {c for c in COLORS if c != base_cfg.active and c is not head_cfg.active}",
        _CONFIG_LITERALS,
    ),
    Equivalent(
        _V,
        "ReplaceComparisonOperator_NotEq_IsNot",
        'if key != "active" and not key.startswith(FLIP_COMPANIONS)',
        'if key is not "active" and not key.startswith(FLIP_COMPANIONS)',
        "the dump's key is the field's alias, which pydantic keeps as the same interned string as "
        "the literal (checked: `key is 'active'` holds)",
    ),
)


_LITERAL_IDENTITY = (
    "both sides are values of a Literal field, and pydantic-core's Literal validation returns "
    "the literal's own string, the very object the code compares with: identity and equality "
    "agree for every value the model admits"
)

# Operator names are cosmic-ray's (`cosmic-ray operators`), without the "core/" prefix.
_READ_FIRST: tuple[Equivalent, ...] = (
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_Is",
        "if color == cfg.active:",
        "if color is cfg.active:",
        _LITERAL_IDENTITY,
    ),
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_Is",
        'if cluster.os_disk_type == "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        'if cluster.os_disk_type is "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        _LITERAL_IDENTITY,
    ),
    Equivalent(
        "config/rules.py",
        "ReplaceComparisonOperator_Eq_LtE",
        'if cluster.os_disk_type == "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        'if cluster.os_disk_type <= "Ephemeral" and TEMP_DISK_GIB.get(cluster.vm_size) == 0:',
        "osDiskType is Literal['Ephemeral', 'Managed'] and 'Managed' sorts after 'Ephemeral': "
        "<= holds for 'Ephemeral' only, as == does",
    ),
    Equivalent(
        "config/rules.py",
        "NumberReplacer",
        "if version_key(version)[:2] < SLEEP_ACTION_SINCE:",
        "if version_key(version)[: 3] < SLEEP_ACTION_SINCE:",
        "a version has at most three parts, and a three-part key sorts below (1, 30) exactly "
        "when its first two do (a longer tuple with an equal start sorts after it): the patch "
        "never moves a version across the floor",
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        'return resource_id.rstrip("/").rsplit("/", 1)[-1]',
        'return resource_id.rstrip("/").rsplit("/", 2)[-1]',
        "the last piece of a right split is the text after the last '/' for any maxsplit of 1 "
        "or more",
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        "return (1 << 128, address)",
        "return ( 2 << 128, address)",
        _ABOVE_EVERY_ADDRESS,
    ),
    Equivalent(
        "live_gateway/serving.py",
        "NumberReplacer",
        "return (1 << 128, address)",
        "return (1 << 129, address)",
        _ABOVE_EVERY_ADDRESS,
    ),
    Equivalent(
        "components/agic.py",
        "ReplaceComparisonOperator_Eq_Is",
        "if color == args.unreachable",
        "if color is args.unreachable",
        "the unreachable color comes from the config model, whose Literal validation returns the "
        "literal's own string (pydantic-core), the very object COLORS holds: identity and "
        "equality agree for every value the program can pass",
    ),
    Equivalent(
        "components/agic.py",
        "ReplaceTrueWithFalse",
        "@dataclass(frozen=True)",
        "@dataclass(frozen=False)",
        "harmless: the arguments are built once in __main__.py and never assigned to; frozen "
        "only keeps later code from doing so",
    ),
)
EQUIVALENTS: tuple[Equivalent, ...] = (
    *_READ_FIRST,
    *TRANSITION_EQUIVALENTS,
    *DIFF_EQUIVALENTS,
    *VERDICT_EQUIVALENTS,
)


def reason(module: str, operator: str, source_line: str, mutated_line: str) -> str | None:
    """Why the mutant `operator` turning `source_line` of `module` into `mutated_line` is
    equivalent, if it was read so."""
    name = operator.removeprefix("core/")
    found = (module, name, source_line.strip(), mutated_line.strip())
    for known in EQUIVALENTS:
        if (known.module, known.operator, known.line, known.mutated) == found:
            return known.why
    return None


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, as (line, column), of every annotation in the module at `path`."""
    tree = ast.parse(path.read_text(), str(path))
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    if not postponed:  # evaluated annotations are code like any other
        return []
    annotations: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
    return [
        ((a.lineno, a.col_offset), (a.end_lineno or a.lineno, a.end_col_offset or 0))
        for a in annotations
    ]


def in_annotation(
    spans: list[tuple[tuple[int, int], tuple[int, int]]],
    start: tuple[int, int],
    end: tuple[int, int],
) -> bool:
    return any(first <= tuple(start) and tuple(end) <= last for first, last in spans)

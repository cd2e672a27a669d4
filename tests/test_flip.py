"""The cut-over and the rollback on the sample stacks: what changes, in what order, what not."""

from __future__ import annotations

from dataclasses import asdict

from conftest import STACK, sample_config
from plan.diff import Plan, diff
from plan.evaluate import Evaluation, evaluate

RELEASE = "kubernetes:helm.sh/v3:Release"
JOB = "kubernetes:batch/v1:Job"


def _names(plan: Plan, action: str) -> set[str]:
    return {c.name for c in plan.by_action(action)}  # type: ignore[arg-type]


def test_flip_touches_no_azure_resource(blue: Evaluation, green: Evaluation) -> None:
    azure = [urn for urn, reg in blue.resources.items() if reg.touches_cloud]
    assert len(azure) == 38
    for urn in azure:
        before, after = asdict(blue.resources[urn]), asdict(green.resources[urn])
        # Only the protect flag moves with `active`, and only on the clusters; it lives in
        # Pulumi's state and never reaches Azure.
        before.pop("protect"), after.pop("protect")
        assert before == after, urn
    assert set(green.resources) == set(blue.resources)


def test_flip_replaces_only_the_agic_release_and_reruns_the_gates_and_the_verification(
    blue: Evaluation, green: Evaluation
) -> None:
    plan = diff(blue, green)
    assert _names(plan, "replace") == {
        "agic-release",
        "blue-aspnetapp-smoke-job",
        "green-aspnetapp-smoke-job",
    }
    # Evaluated as first deployments, protection moves with `active`: the clusters and AGIC's
    # namespace in each. (Against its last deployment, blue stays protected: test_safety.py.)
    assert _names(plan, "state-only") == {
        "blue-aks",
        "green-aks",
        "agic-blue-namespace",
        "agic-green-namespace",
    }
    # The verification reads the gateway again for the new color; it changes nothing in Azure.
    assert _names(plan, "update") == {"cutover-gateway-serves"}
    assert not _names(plan, "create") | _names(plan, "delete")
    release = plan.changes[green.one(RELEASE).urn]
    assert release.delete_before_replace
    assert release.before is not None and release.after is not None
    assert release.before.provider.endswith("::blue-kubernetes")
    assert release.after.provider.endswith("::green-kubernetes")
    assert (release.before.inputs["name"], release.after.inputs["name"]) == (
        "agic-blue",
        "agic-green",
    )
    # Everything else a flip leaves alone: networks, gateway, identities, apps, providers.
    assert len(plan.untouched) == len(plan.changes) - 8


def test_flip_runs_the_target_gate_before_uninstalling_the_old_agic(
    blue: Evaluation, green: Evaluation
) -> None:
    steps = [(s.kind, s.change.name, s.note) for s in diff(blue, green).steps]
    kinds_of_release = [kind for kind, name, _ in steps if name == "agic-release"]
    assert kinds_of_release == ["delete", "create"]
    uninstall = steps.index(next(s for s in steps if s[:2] == ("delete", "agic-release")))
    gate_create = steps.index(
        next(s for s in steps if s[:2] == ("create", "green-aspnetapp-smoke-job"))
    )
    install = steps.index(next(s for s in steps if s[:2] == ("create", "agic-release")))
    old_gate_delete = steps.index(
        next(s for s in steps if s[:2] == ("delete", "green-aspnetapp-smoke-job"))
    )
    assert gate_create < uninstall < install < old_gate_delete


def test_rollback_restores_exactly_the_blue_graph(blue: Evaluation, green: Evaluation) -> None:
    rolled_back = evaluate(sample_config("blue"), STACK)
    assert {u: asdict(r) for u, r in rolled_back.resources.items()} == {
        u: asdict(r) for u, r in blue.resources.items()
    }
    assert rolled_back.outputs == blue.outputs
    forward, back = diff(blue, green), diff(green, rolled_back)
    assert {u: c.action for u, c in forward.changes.items()} == {
        u: c.action for u, c in back.changes.items()
    }
    release = back.changes[blue.one(RELEASE).urn]
    assert release.after is not None and release.after.provider.endswith("::blue-kubernetes")


def test_evaluating_the_same_config_twice_plans_no_change(blue: Evaluation) -> None:
    again = evaluate(sample_config("blue"), STACK)
    plan = diff(blue, again)
    assert plan.steps == ()
    assert len(plan.untouched) == len(plan.changes) == 61

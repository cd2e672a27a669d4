"""The program judges its own change as the plan does: the last deployment's recorded facts are
fed to its reference to itself, and `pulumi preview`/`up` refuse in the plan's words."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from safety_cases import Judge
from safety_cases import stack_config as sample

from config import transition
from conftest import STACK
from live_gateway.providers import GATEWAY_SERVES_TYPE, RETIRE_GUARD_TYPE
from plan.cloud_mocks import CloudMocks
from plan.evaluate import Evaluation, ProgramError, evaluate

FLIP = {"active": "green"}


def deployed(overrides: dict[str, Any]) -> dict[str, Any]:
    """What a converged `pulumi up` of the sample stack with `overrides` exports."""
    return {transition.OUTPUT: evaluate(sample(overrides), STACK).outputs[transition.OUTPUT]}


def test_the_program_refuses_a_rebuild_of_the_serving_cluster_in_the_plans_words() -> None:
    head = {"clusters": {"blue": {"networkPolicy": "none"}}}
    with pytest.raises(ProgramError) as refused:
        evaluate(sample(head), STACK, previous_outputs=deployed({}))
    plan = Judge().verdict(sample({}), sample(head)).verdict.refusals
    assert str(refused.value) == "\n".join(plan)


def test_the_program_refuses_a_flip_with_other_changes_in_the_plans_words() -> None:
    head = {**FLIP, "gateway": {"sku": "WAF_v2"}}
    with pytest.raises(ProgramError) as refused:
        evaluate(sample(head), STACK, previous_outputs=deployed({}))
    assert str(refused.value).splitlines()[0] == (
        "refused: a flip changes nothing else: active blue -> green comes with gateway.sku; "
        "move those to their own pull request, land it, then flip alone"
    )


class _NotServing(CloudMocks):
    """The outcome `pulumi up` stores when the gateway never served the new color."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == GATEWAY_SERVES_TYPE:
            state = {**state, "serving": False, "message": "the gateway does not serve green"}
        return resource_id, state


def test_a_failed_cut_over_leaves_the_old_color_recorded_and_its_cluster_protected() -> None:
    before = deployed({})
    failed = Evaluation()
    with pytest.raises(ProgramError, match="the gateway does not serve green"):
        evaluate(
            sample(FLIP), STACK, mocks=_NotServing(before), previous_outputs=before, into=failed
        )
    recorded = failed.outputs[transition.OUTPUT]
    assert recorded["active"] == "green"
    assert recorded["servingColor"] == "blue"
    # The next change, "rebuild the standby" as the config sees it, would replace blue, which
    # the gateway still serves: refused, judged against what was verified, not declared.
    rebuild = {**FLIP, "clusters": {"blue": {"networkPolicy": "none"}}}
    with pytest.raises(ProgramError) as refused:
        evaluate(sample(rebuild), STACK, previous_outputs={transition.OUTPUT: recorded})
    assert str(refused.value).splitlines()[0] == (
        "refused: nothing serving is lost: the change replaces ManagedCluster blue-aks "
        "(networkProfile.networkDataplane changed; networkProfile.networkPolicy changed), "
        "blue's cluster"
    )


def test_a_replaced_standby_is_guarded_by_the_live_gateway_before_it_is_registered() -> None:
    head = {"clusters": {"green": {"networkPolicy": "none"}}}
    stack = evaluate(sample(head), STACK, previous_outputs=deployed({}))
    [guard] = [r for r in stack.of_type(RETIRE_GUARD_TYPE)]
    assert {k: guard.inputs[k] for k in ("retiredColor", "subnetCidr", "change")} == {
        "retiredColor": "green",
        "subnetCidr": "10.241.0.0/16",
        "change": "replace",
    }
    cluster = stack.one("azure-native:containerservice:ManagedCluster", "green-aks")
    assert guard.urn in cluster.dependencies

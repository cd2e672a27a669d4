"""The program judges its own change as the plan does: the last deployment's recorded facts are
fed to its reference to itself, and `pulumi preview`/`up` refuse in the plan's words."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from hypothesis import settings
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


APP = "mcr.microsoft.com/dotnet/samples:aspnetapp-9.0"
# Each sequence of docs/safety.md, as (last deployment, change). Each program run judges in a
# child process that imports the SDKs afresh (seconds), so the suite runs two of them and
# `--hypothesis-profile=deep` runs every one.
SEQUENCES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "rebuild of the serving cluster by an unlisted key": (
        {},
        {"clusters": {"blue": {"networkPolicy": "none"}}},
    ),
    "flip with a gateway change": ({}, {**FLIP, "gateway": {"sku": "WAF_v2"}}),
    "flip with a rebuild of the cluster it leaves": (
        {},
        {**FLIP, "clusters": {"blue": {"networkPolicy": "none"}}},
    ),
    "upgrade of the standby and flip at once": (
        {},
        {**FLIP, "clusters": {"green": {"kubernetesVersion": "1.37"}}},
    ),
    "re-enable of a retired cluster and flip at once": (
        {"clusters": {"green": {"enabled": False}}},
        FLIP,
    ),
    "flip with a workload change": (
        {},
        {**FLIP, "workloads": [{"name": "aspnetapp", "image": APP}]},
    ),
}
IN_THE_SUITE = {
    "rebuild of the serving cluster by an unlisted key",
    "flip with a gateway change",
}
DEEP = settings().max_examples >= 10_000


@pytest.mark.parametrize(
    "sequence",
    [
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                name not in IN_THE_SUITE and not DEEP, reason="--hypothesis-profile=deep"
            ),
        )
        for name in SEQUENCES
    ],
)
def test_the_program_refuses_each_sequence_in_the_plans_words(sequence: str) -> None:
    base, head = SEQUENCES[sequence]
    with pytest.raises(ProgramError) as refused:
        evaluate(sample(head), STACK, previous_outputs=deployed(base))
    plan = Judge().verdict(sample(base), sample(head)).verdict.refusals
    assert plan
    assert str(refused.value) == "\n".join(plan)


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


def test_retiring_the_cluster_a_flip_left_waits_for_one_deployment_that_lifts_its_protection() -> (
    None
):
    # The flip's deployment keeps blue protected; the engine would refuse to delete it.
    flipped = evaluate(sample(FLIP), STACK, previous_outputs=deployed({}))
    recorded = flipped.outputs[transition.OUTPUT]
    assert recorded["protectedColors"] == ["blue", "green"]
    retire = {**FLIP, "clusters": {"blue": {"enabled": False}}}
    with pytest.raises(ProgramError) as refused:
        evaluate(sample(retire), STACK, previous_outputs={transition.OUTPUT: recorded})
    assert str(refused.value) == (
        "aks-bluegreen:clusters.blue.enabled: blue is still protected by the deployment that "
        "flipped away from it (a flip keeps both clusters protected until it is verified); run "
        "`pulumi up` once more with blue still enabled, which lifts its protection now that "
        "green serves, then retire blue"
    )

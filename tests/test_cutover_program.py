"""The verification step and the retire guard in the real program, under mocks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

import config
from components.agic import backend_pool_name, controller_deployment_name
from conftest import ACCESS, STACK, sample_config, with_overrides
from live_gateway.providers import GATEWAY_SERVES_TYPE, RETIRE_GUARD_TYPE
from plan.cloud_mocks import CloudMocks
from plan.diff import diff
from plan.evaluate import Evaluation, ProgramError, evaluate

RELEASE = "kubernetes:helm.sh/v3:Release"
POOL = "pool-aspnetapp-aspnetapp-80-bp-8080"
GATEWAY_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aksbg-prod-rg/providers/"
    "Microsoft.Network/applicationGateways/aksbg-prod-appgw"
)
NOT_SERVING = (
    "the gateway does not serve blue: 3 of 3 addresses still in green's subnet 10.241.0.0/16 "
    "after 600 s: AGIC on blue has not written the gateway (kubectl -n agic logs "
    "deploy/agic-blue-ingress-azure); revert the change to roll back"
)


def verification(stack: Evaluation) -> Any:
    return stack.one(GATEWAY_SERVES_TYPE)


@pytest.mark.parametrize("color", ["blue", "green"])
def test_verification_follows_the_release_and_names_what_it_waits_for(
    color: str, request: pytest.FixtureRequest
) -> None:
    stack: Evaluation = request.getfixturevalue(color)
    check = verification(stack)
    release = stack.one(RELEASE)
    assert release.urn in check.dependencies
    assert stack.resources[check.parent].type == "aks-bluegreen:index:CutoverVerification"
    inputs = {k: v for k, v in check.inputs.items() if k != "__provider"}
    assert inputs == {
        "gatewayId": GATEWAY_ID,
        "activeColor": color,
        "subnets": {"blue": "10.240.0.0/16", "green": "10.241.0.0/16"},
        "pools": [POOL],
        "appsDigest": inputs["appsDigest"],
        "agicRelease": f"agic-{color}",
        "agicNamespace": "agic",
        "chartVersion": "1.9.8",
        "controllerLogs": f"kubectl -n agic logs deploy/agic-{color}-ingress-azure",
        "timeoutSeconds": 600,
    }
    assert not check.touches_cloud
    assert not stack.of_type(RETIRE_GUARD_TYPE)


@pytest.mark.parametrize(("base", "head"), [("blue", "green"), ("green", "blue")])
def test_flip_and_rollback_verify_again_right_after_the_new_release(
    base: str, head: str, request: pytest.FixtureRequest
) -> None:
    before, after = request.getfixturevalue(base), request.getfixturevalue(head)
    steps = [(s.kind, s.change.type) for s in diff(before, after).steps]
    verify = steps.index(("update", GATEWAY_SERVES_TYPE))
    assert steps.index(("create", RELEASE)) < verify
    assert steps.count(("update", GATEWAY_SERVES_TYPE)) == 1
    # Nothing is created or updated after it: only the originals of replaced Jobs are deleted.
    assert {kind for kind, _ in steps[verify + 1 :]} == {"delete"}
    assert verification(after).inputs["activeColor"] == head


def test_verification_reruns_when_an_app_changes_and_not_on_unrelated_changes(
    blue: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    new_image = evaluate_variant(
        "blue",
        workloads=[
            {"name": "aspnetapp", "image": "mcr.microsoft.com/dotnet/samples:aspnetapp-9.0"}
        ],
    )
    assert diff(blue, new_image).changes[verification(blue).urn].action == "update"
    unrelated = evaluate_variant("blue", gateway={"capacity": 3})
    assert diff(blue, unrelated).changes[verification(blue).urn].action == "same"


class _NotServing(CloudMocks):
    """The outcome `pulumi up` stores when the gateway did not serve within the bound."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == GATEWAY_SERVES_TYPE:
            state = {**state, "serving": False, "message": NOT_SERVING}
        return resource_id, state


def test_up_fails_with_one_line_saying_what_the_verification_saw() -> None:
    with pytest.raises(ProgramError) as failure:
        evaluate(sample_config("blue"), STACK, mocks=_NotServing())
    assert str(failure.value) == f"aks-bluegreen: {NOT_SERVING}"


def test_preview_never_fails_on_the_verification_whose_bound_is_config() -> None:
    patient = with_overrides("blue", {"cutover": {"timeoutSeconds": 1200}})
    previewed = evaluate(patient, STACK, mocks=_NotServing(), preview=True)
    assert verification(previewed).inputs["timeoutSeconds"] == 1200


def test_retiring_the_standby_registers_its_guard_and_keeps_the_verification(
    blue: Evaluation, evaluate_variant: Callable[..., Evaluation]
) -> None:
    retired = evaluate_variant("blue", clusters={"green": {"enabled": False}})
    guard = retired.one(RETIRE_GUARD_TYPE)
    assert {k: v for k, v in guard.inputs.items() if k != "__provider"} == {
        "gatewayId": verification(blue).inputs["gatewayId"],
        "retiredColor": "green",
        "subnetCidr": "10.241.0.0/16",
    }
    assert not guard.touches_cloud
    # Retiring the standby changes nothing about what the active cluster must serve.
    assert diff(blue, retired).changes[verification(blue).urn].action == "same"


def test_timeout_below_one_reconcile_period_is_refused_by_name() -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.parse({"active": "blue", "access": ACCESS, "cutover": {"timeoutSeconds": 30}})
    assert (
        str(refused.value) == "aks-bluegreen:cutover.timeoutSeconds: 30 is below the minimum of 60"
    )
    assert config.parse({"active": "blue", "access": ACCESS}).cutover.timeout_seconds == 600


def test_pool_names_are_agics_including_its_80_character_cut() -> None:
    assert backend_pool_name("aspnetapp", "aspnetapp", 80, 8080) == POOL
    namespace, service = "n" * 40, "s" * 40
    full = f"pool-{namespace}-{service}-80-bp-8080"
    cut = backend_pool_name(namespace, service, 80, 8080)
    # formatPropName: the first 47 characters, "-", the MD5 of the whole name in hex.
    assert cut == f"{full[:47]}-{hashlib.md5(full.encode()).hexdigest()}"
    assert len(cut) == 80
    assert controller_deployment_name("agic-green") == "agic-green-ingress-azure"

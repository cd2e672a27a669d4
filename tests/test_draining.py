"""A pod leaves the gateway's backend pool without a dropped request, in both clusters.

What the program sends for it: AGIC's connection draining on the Ingress, a preStop delay, a grace
period that outlasts both, a rollout that never drops below the desired ready count, and a
disruption budget a node drain can always make progress against. The timings are config, checked
against each other before anything is created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes_validate
import pytest

import config
from conftest import ACCESS
from plan.diff import diff
from plan.evaluate import Evaluation, ProgramError, Registration

COLORS = ("blue", "green")
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
BUDGET = "kubernetes:policy/v1:PodDisruptionBudget"
DRAINING = "appgw.ingress.kubernetes.io/connection-draining"
DRAINING_TIMEOUT = "appgw.ingress.kubernetes.io/connection-draining-timeout"
APP = {"name": "aspnetapp", "image": "mcr.microsoft.com/dotnet/samples:aspnetapp"}


def app_objects(stack: Evaluation, color: str) -> dict[str, Registration]:
    return {
        kind: stack.one(typ, f"{color}-aspnetapp-{suffix}")
        for kind, typ, suffix in (
            ("deployment", DEPLOYMENT, "deployment"),
            ("ingress", INGRESS, "ingress"),
            ("budget", BUDGET, "disruption-budget"),
        )
    }


def pod_spec(deployment: Registration) -> dict[str, Any]:
    return deployment.inputs["spec"]["template"]["spec"]


# --- what the program sends ------------------------------------------------------------------


def test_pods_keep_serving_through_the_pool_change_and_outlive_the_drain(
    stack: Evaluation,
) -> None:
    for color in COLORS:
        objects = app_objects(stack, color)
        annotations = objects["ingress"].inputs["metadata"]["annotations"]
        assert annotations[DRAINING] == "true"
        draining = int(annotations[DRAINING_TIMEOUT])
        spec = pod_spec(objects["deployment"])
        [container] = spec["containers"]
        # The kubelet's own sleep: no shell or `sleep` binary needed in the app's image.
        assert container["lifecycle"] == {"preStop": {"sleep": {"seconds": 90}}}
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert (draining, pre_stop, spec["terminationGracePeriodSeconds"]) == (30, 90, 125)
        assert spec["terminationGracePeriodSeconds"] > pre_stop + draining
        # AGIC turns the readiness probe into the gateway's health probe: a pod that stops
        # answering is out of rotation after about 15 s.
        probe = container["readinessProbe"]
        assert (probe["periodSeconds"], probe["failureThreshold"]) == (5, 3)


def test_rollout_never_drops_below_the_desired_ready_count(stack: Evaluation) -> None:
    for color in COLORS:
        strategy = app_objects(stack, color)["deployment"].inputs["spec"]["strategy"]
        assert strategy == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"},
        }


def test_each_cluster_budgets_one_disruption_at_a_time_for_the_app(stack: Evaluation) -> None:
    for color in COLORS:
        objects = app_objects(stack, color)
        budget, deployment = objects["budget"], objects["deployment"]
        assert budget.provider == deployment.provider
        assert budget.inputs["metadata"]["namespace"] == deployment.inputs["metadata"]["namespace"]
        assert budget.inputs["spec"] == {
            # Never 0: AKS refuses to upgrade a cluster with such a budget, and a drain blocked
            # past its timeout fails the upgrade.
            "maxUnavailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": deployment.inputs["spec"]["selector"],
        }


def test_pod_removal_is_the_same_in_both_clusters_and_both_positions(
    blue: Evaluation, green: Evaluation
) -> None:
    def comparable(reg: Registration) -> dict[str, Any]:
        return {"inputs": reg.inputs, "dependencies": len(reg.dependencies)}

    for kind in ("deployment", "ingress", "budget"):
        views = [
            comparable(app_objects(position, color)[kind])
            for position in (blue, green)
            for color in COLORS
        ]
        assert all(view == views[0] for view in views), kind
    # The cut-over and its rollback leave every one of them alone.
    for forward_or_back in (diff(blue, green), diff(green, blue)):
        for color in COLORS:
            for reg in app_objects(blue, color).values():
                assert forward_or_back.changes[reg.urn].action == "same", reg.name


def test_timings_come_from_the_workload_config(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    app = {
        **APP,
        "drainingTimeoutSeconds": 60,
        "preStopDelaySeconds": 45,
        "terminationGracePeriodSeconds": 110,
    }
    stack = evaluate_variant("green", workloads=[app])
    for color in COLORS:
        objects = app_objects(stack, color)
        assert objects["ingress"].inputs["metadata"]["annotations"][DRAINING_TIMEOUT] == "60"
        spec = pod_spec(objects["deployment"])
        assert spec["containers"][0]["lifecycle"]["preStop"]["sleep"]["seconds"] == 45
        assert spec["terminationGracePeriodSeconds"] == 110


@pytest.mark.parametrize("version", ["1.30.0", "1.31.0"])
def test_oldest_allowed_clusters_accept_the_sleep_hook_and_the_budget(
    blue: Evaluation, version: str
) -> None:
    # 1.30 is the config's floor (sleep on by default), 1.31 the pack's default minimum.
    objects = app_objects(blue, "blue")
    for kind in ("deployment", "budget"):
        kubernetes_validate.validate(objects[kind].inputs, version, strict=True)


# --- the config that drives it ---------------------------------------------------------------


def parse(**app: Any) -> config.StackConfig:
    return config.parse({"active": "blue", "access": ACCESS, "workloads": [{**APP, **app}]})


def test_defaults_follow_agic_guidance_and_outlast_it() -> None:
    [app] = parse().workloads
    assert app.draining_timeout_seconds == 30
    assert app.pre_stop_delay_seconds == 90
    assert app.termination_grace_period_seconds == 125


@pytest.mark.parametrize(
    ("app", "key", "fix"),
    [
        (
            {"terminationGracePeriodSeconds": 101},
            "terminationGracePeriodSeconds",
            "(preStopDelaySeconds 90 + drainingTimeoutSeconds 30 = 120 s)",
        ),
        (
            {"terminationGracePeriodSeconds": 120},
            "terminationGracePeriodSeconds",
            "set it above 120 (e.g. 125) or shorten the delay or the draining",
        ),
        (
            {"preStopDelaySeconds": 120},
            "terminationGracePeriodSeconds",
            "set it above 150",
        ),
        (
            {"drainingTimeoutSeconds": 1800, "terminationGracePeriodSeconds": 1900},
            "terminationGracePeriodSeconds",
            "set it to at most 1800",
        ),
        ({"drainingTimeoutSeconds": 0}, "drainingTimeoutSeconds", "set 1 to 3600 seconds"),
        ({"drainingTimeoutSeconds": 3601}, "drainingTimeoutSeconds", "set 1 to 3600 seconds"),
        ({"preStopDelaySeconds": 0}, "preStopDelaySeconds", "set at least 1 second"),
    ],
)
def test_timings_that_could_drop_a_request_are_refused(
    app: dict[str, Any], key: str, fix: str
) -> None:
    with pytest.raises(config.ConfigError) as raised:
        parse(**app)
    assert raised.value.key == f"workloads[0].{key}"
    assert fix in str(raised.value)


def test_timings_at_the_limits_are_accepted() -> None:
    parse(preStopDelaySeconds=1, drainingTimeoutSeconds=1, terminationGracePeriodSeconds=3)
    parse(preStopDelaySeconds=90, drainingTimeoutSeconds=30, terminationGracePeriodSeconds=121)
    parse(drainingTimeoutSeconds=1709, terminationGracePeriodSeconds=1800)


def test_timing_problem_names_the_workload_it_is_in() -> None:
    second = {"name": "api", "image": "nginx:1.27", "path": "/api", "preStopDelaySeconds": 200}
    with pytest.raises(config.ConfigError) as raised:
        config.parse({"active": "blue", "access": ACCESS, "workloads": [APP, second]})
    assert raised.value.key == "workloads[1].terminationGracePeriodSeconds"


def test_bad_timing_stops_the_program_before_any_resource(
    evaluate_variant: Callable[..., Evaluation],
) -> None:
    with pytest.raises(ProgramError) as raised:
        evaluate_variant("blue", workloads=[{**APP, "terminationGracePeriodSeconds": 60}])
    message = str(raised.value)
    assert message.startswith("aks-bluegreen:workloads[0].terminationGracePeriodSeconds: 60 s ")
    assert "\n" not in message


@pytest.mark.parametrize("version", ["1.29", "1.29.9", "1.9"])
def test_cluster_too_old_for_the_sleep_hook_is_refused(version: str) -> None:
    clusters = {
        "blue": {"kubernetesVersion": "1.33", "subnetCidr": "10.240.0.0/16"},
        "green": {"kubernetesVersion": version, "subnetCidr": "10.241.0.0/16"},
    }
    with pytest.raises(config.ConfigError) as raised:
        config.parse({"active": "blue", "access": ACCESS, "clusters": clusters})
    assert raised.value.key == "clusters.green.kubernetesVersion"
    assert "preStop sleep" in str(raised.value) and "use 1.30 or later" in str(raised.value)
    # A retired cluster runs no app, whatever version it last had.
    clusters["green"]["enabled"] = False
    config.parse({"active": "blue", "access": ACCESS, "clusters": clusters})

"""Every Kubernetes object the program sends is valid for the cluster version it is sent to."""

from __future__ import annotations

import kubernetes_validate
import pytest

from plan.evaluate import Evaluation

VERSIONS = {"blue": "1.33.0", "green": "1.34.0"}


@pytest.mark.parametrize("sample", ["blue", "green"])
def test_manifests_validate_strictly_against_their_cluster_version(
    sample: str, request: pytest.FixtureRequest
) -> None:
    stack: Evaluation = request.getfixturevalue(sample)
    checked = 0
    for reg in stack.resources.values():
        if not reg.type.startswith("kubernetes:") or reg.type.startswith("kubernetes:helm.sh"):
            continue
        color = reg.provider.rsplit("::", 1)[-1].removesuffix("-kubernetes")
        # strict=True refuses unknown fields: a misspelt key fails here, not in the cluster.
        kubernetes_validate.validate(reg.inputs, VERSIONS[color], strict=True)
        checked += 1
    assert checked == 18


def test_validation_catches_a_misspelt_field(blue: Evaluation) -> None:
    [deployment] = [r for r in blue.resources.values() if r.name == "blue-aspnetapp-deployment"]
    broken = {**deployment.inputs, "spec": {**deployment.inputs["spec"], "replica": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS["blue"], strict=True)
